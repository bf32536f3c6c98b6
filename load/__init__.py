"""`make load`: a bounded, loopback-only load test of the production server (see README)."""
