"""Running FundTrack: the `fundtrack` command, the embedded PostgreSQL, migrations and the process supervisor."""
