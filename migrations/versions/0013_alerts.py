"""督办: alert rules (seeded with the defaults), alerts, webhooks, their outbox and delivery log.

Revision ID: 0013
Revises: 0015
Create Date: 2026-12-08
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0015"  # main's head when this was written (0011 → 0015 tuban → 0013)
branch_labels = None
depends_on = None

DEFAULT_RULES = [
    {"tier": "blue", "days": 3, "recipients": ["member", "village_head"], "red_sources": []},
    {"tier": "yellow", "days": 0, "recipients": ["member", "village_head"], "red_sources": []},
    {
        "tier": "red",
        "days": 7,
        "recipients": ["member", "village_head", "supervisor", "county"],
        "red_sources": ["superior"],
    },
]


def upgrade() -> None:
    rules = op.create_table(
        "alert_rules",
        sa.Column("tier", sa.String(length=10), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("recipients", sa.JSON(), nullable=False),
        sa.Column("red_sources", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("tier", name="pk_alert_rules"),
    )
    op.bulk_insert(rules, DEFAULT_RULES)

    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_kind", sa.String(length=20), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("tier", sa.String(length=10), nullable=False),
        sa.Column("recipient_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("cell_code", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("read_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["recipient_id"], ["users.id"], name="fk_alerts_recipient_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_alerts"),
        sa.UniqueConstraint(
            "day", "source_kind", "source_id", "tier", "recipient_id", name="uq_alerts_key"
        ),
    )
    op.create_index("ix_alerts_recipient_id_read_at", "alerts", ["recipient_id", "read_at"])

    op.create_table(
        "webhooks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("format", sa.String(length=10), nullable=False),
        sa.Column("scope", sa.String(length=32), nullable=False),
        sa.Column("tiers", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_webhooks"),
    )

    op.create_table(
        "outbox_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("webhook_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("digest", sa.Boolean(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_try_at", sa.DateTime(), nullable=False),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.Column("lease_owner", sa.String(length=40), nullable=True),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["webhook_id"],
            ["webhooks.id"],
            name="fk_outbox_messages_webhook_id_webhooks",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_outbox_messages"),
    )
    op.create_index("ix_outbox_messages_webhook_id", "outbox_messages", ["webhook_id"])
    op.create_index(
        "ix_outbox_messages_status_next_try_at", "outbox_messages", ["status", "next_try_at"]
    )

    op.create_table(
        "outbox_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("webhook_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("source_kind", sa.String(length=20), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("tier", sa.String(length=10), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["outbox_messages.id"],
            name="fk_outbox_items_message_id_outbox_messages",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["webhook_id"],
            ["webhooks.id"],
            name="fk_outbox_items_webhook_id_webhooks",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_outbox_items"),
        sa.UniqueConstraint(
            "webhook_id", "day", "source_kind", "source_id", "tier", name="uq_outbox_items_key"
        ),
    )
    op.create_index("ix_outbox_items_message_id", "outbox_items", ["message_id"])

    op.create_table(
        "delivery_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["outbox_messages.id"],
            name="fk_delivery_attempts_message_id_outbox_messages",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_delivery_attempts"),
    )
    op.create_index("ix_delivery_attempts_message_id", "delivery_attempts", ["message_id"])


def downgrade() -> None:
    for table in ("delivery_attempts", "outbox_items", "outbox_messages", "webhooks", "alerts"):
        op.drop_table(table)
    op.drop_table("alert_rules")
