"""The in-app inbox: a user's own alerts, newest first, grouped by day; unread counts; marking read."""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from inspection.accounts.models import User
from inspection.alerts.models import Alert
from inspection.clock import utcnow
from inspection.db import begin_write
from inspection.errors import DomainError

INBOX_LIMIT = 500


class AlertNotFound(DomainError):
    """No alert of the user with that id (404)."""

    status = 404


@dataclass
class Day:
    """One day of a user's inbox; `digest` when it holds more alerts than the digest threshold."""

    day: date
    alerts: list[Alert]
    digest: bool


def unread_count(session: Session, user: User) -> int:
    """How many of the user's alerts are unread (one COUNT on the recipient/read index)."""
    query = select(func.count()).where(Alert.recipient_id == user.id, Alert.read_at.is_(None))
    return session.scalar(query) or 0


def inbox(session: Session, user: User, digest_over: int) -> list[Day]:
    """The user's alerts, newest day first, red before yellow before blue within a day."""
    order = {"red": 0, "yellow": 1, "blue": 2}
    rows = session.scalars(
        select(Alert)
        .where(Alert.recipient_id == user.id)
        .order_by(Alert.day.desc(), Alert.id.desc())
        .limit(INBOX_LIMIT)
    ).all()
    days: dict[date, list[Alert]] = {}
    for alert in rows:
        days.setdefault(alert.day, []).append(alert)
    return [
        Day(
            day,
            sorted(alerts, key=lambda a: (order.get(a.tier, 9), a.due_on)),
            len(alerts) > digest_over,
        )
        for day, alerts in days.items()
    ]


def mark_read(session: Session, user: User, alert_id: int | None = None) -> int:
    """Mark one of the user's alerts (or, with no id, all of them) read; return how many changed."""
    begin_write(session)
    statement = update(Alert).where(Alert.recipient_id == user.id, Alert.read_at.is_(None))
    if alert_id is not None:
        if (
            session.scalar(
                select(Alert.id).where(Alert.id == alert_id, Alert.recipient_id == user.id)
            )
            is None
        ):
            raise AlertNotFound("alert_not_found", "没有这条督办提醒", "No such alert")
        statement = statement.where(Alert.id == alert_id)
    return session.execute(statement.values(read_at=utcnow())).rowcount or 0
