"""督办 tables: the rules, the alerts of each day, the webhooks, their outbox and its delivery log."""

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from inspection.clock import utcnow
from inspection.db import Base


class AlertRule(Base):
    """One tier's rule: its number of days, who receives it and (red) the sources always red."""

    __tablename__ = "alert_rules"

    tier: Mapped[str] = mapped_column(String(10), primary_key=True)  # blue | yellow | red
    # blue: due within `days`; yellow: overdue more than `days`; red: overdue more than `days`.
    days: Mapped[int] = mapped_column(Integer)
    recipients: Mapped[list] = mapped_column(JSON)  # member, village_head, supervisor, county
    red_sources: Mapped[list] = mapped_column(JSON, default=list)  # case sources red once overdue


class Alert(Base):
    """One alert: a due thing (a case, …) at a tier, for one person, on one day."""

    __tablename__ = "alerts"
    __table_args__ = (
        UniqueConstraint(
            "day", "source_kind", "source_id", "tier", "recipient_id", name="uq_alerts_key"
        ),
        Index("ix_alerts_recipient_id_read_at", "recipient_id", "read_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_kind: Mapped[str] = mapped_column(String(20))  # "case", or a registered due source
    source_id: Mapped[int] = mapped_column(Integer)
    tier: Mapped[str] = mapped_column(String(10))
    recipient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)  # the town's day the alert is for
    due_on: Mapped[date] = mapped_column(Date)
    title: Mapped[str] = mapped_column(String(200))
    cell_code: Mapped[str] = mapped_column(String(32), default="")  # its group (or village, town)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(DateTime)


class Webhook(Base):
    """A group-chat robot (WeCom, DingTalk) or a JSON receiver, with the scope and tiers it gets."""

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(500))
    format: Mapped[str] = mapped_column(String(10))  # wecom | dingtalk | json
    scope: Mapped[str] = mapped_column(String(32), default="")  # a cell code prefix; "" = all
    tiers: Mapped[list] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class OutboxMessage(Base):
    """One message to one webhook, sent once: claimed under a lease, then marked sent."""

    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_messages_status_next_try_at", "status", "next_try_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    webhook_id: Mapped[int] = mapped_column(
        ForeignKey("webhooks.id", ondelete="CASCADE"), index=True
    )
    day: Mapped[date] = mapped_column(Date)
    digest: Mapped[bool] = mapped_column(Boolean, default=False)
    body: Mapped[str] = mapped_column(Text)  # the JSON body as sent
    status: Mapped[str] = mapped_column(String(10), default="pending")  # pending | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_try_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)  # naive UTC
    lease_until: Mapped[datetime | None] = mapped_column(DateTime)  # a notifier is sending it
    lease_owner: Mapped[str | None] = mapped_column(String(40))
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)

    webhook: Mapped[Webhook] = relationship()


class OutboxItem(Base):
    """An alert (source, tier, day) already given to a webhook: by which message (or digest)."""

    __tablename__ = "outbox_items"
    __table_args__ = (
        UniqueConstraint(
            "webhook_id", "day", "source_kind", "source_id", "tier", name="uq_outbox_items_key"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("outbox_messages.id", ondelete="CASCADE"), index=True
    )
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    source_kind: Mapped[str] = mapped_column(String(20))
    source_id: Mapped[int] = mapped_column(Integer)
    tier: Mapped[str] = mapped_column(String(10))
    due_on: Mapped[date] = mapped_column(Date)  # a digest lists the latest first


class DeliveryAttempt(Base):
    """One try at sending a message: when, the receiver's status code or the error."""

    __tablename__ = "delivery_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("outbox_messages.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)  # naive UTC
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
