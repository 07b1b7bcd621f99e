"""The shared kernel: mechanisms every service uses (settings, database, errors, identity, idempotency,
audit outbox, alerts, pagination). Business concepts never live here; they travel between services as API calls."""
