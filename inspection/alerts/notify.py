"""One notifier pass: the day's alerts computed, the webhooks' messages queued, the due ones sent."""

from datetime import date

from sqlalchemy.orm import Session

from inspection.alerts.compute import compute_alerts
from inspection.alerts.outbox import enqueue, pending_count, send_due


def notify(session: Session, today: date, config) -> dict:
    """Run one pass for `today`; {"alerts": new alerts, "sent", "failed": attempts, "pending"}."""
    alerts = compute_alerts(session, today)
    session.commit()
    enqueue(
        session,
        today,
        digest_over=int(config["ALERT_DIGEST_OVER"]),
        public_url=config.get("PUBLIC_URL") or "",
    )
    session.commit()
    sent, failed = send_due(session, config)
    return {"alerts": alerts, "sent": sent, "failed": failed, "pending": pending_count(session)}
