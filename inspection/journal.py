"""The audit log's table and log(): every package writes its audit lines here, in its own transaction.

The audit package reads them (the /audit page) and adds the flush listener that logs every change.
"""

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, Session, mapped_column

from inspection.clock import utcnow
from inspection.db import Base


class AuditEntry(Base):
    """One line of the audit log: logins, refusals and every change to a case, user or grid."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    username: Mapped[str | None] = mapped_column(String(64))
    address: Mapped[str | None] = mapped_column(String(64))
    event: Mapped[str] = mapped_column(String(40), index=True)
    target: Mapped[str | None] = mapped_column(String(100), index=True)  # "case:12", "user:3"
    details: Mapped[dict | None] = mapped_column(JSON)
    # The town of the case an entry is about (set by the audit trail); None: county-wide or system.
    town_id: Mapped[int | None] = mapped_column(Integer, index=True)


def log(
    session: Session,
    event: str,
    *,
    user=None,
    username: str | None = None,
    address: str | None = None,
    target: str | None = None,
    details: dict | None = None,
) -> AuditEntry:
    """Add an audit entry to the session for a user (or a name); the caller commits with its change."""
    entry = AuditEntry(
        event=event,
        user_id=user.id if user is not None else None,
        username=username or (user.username if user is not None else None),
        address=address,
        target=target,
        details=details,
    )
    session.add(entry)
    return entry
