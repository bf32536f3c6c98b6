"""The audit trail: the change listener that writes audit rows on every flush, and the audit log page."""
