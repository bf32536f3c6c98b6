"""督办: alert rules as data, the day's alerts per case, tier and person, the inbox, webhooks and their outbox."""
