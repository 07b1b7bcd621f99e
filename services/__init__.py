"""FundTrack's internal services. Each subpackage is one FastAPI app and one process; `kernel` is what they share."""
