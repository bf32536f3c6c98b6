"""督办 alerts: tiered rules as data, the inbox, and webhooks through an outbox (issue 19)."""
