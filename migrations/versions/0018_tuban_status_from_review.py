"""A 图斑 task is closed (销号) exactly when its 举证 was accepted: the separate status column goes.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-08

SQLite drops the column in place (ALTER TABLE … DROP COLUMN, SQLite 3.35+): a batch copy of `tuban`
would drop the old table, and with it (ON DELETE CASCADE) every 举证 photo and case link.
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE tuban DROP COLUMN status")
    else:
        op.drop_column("tuban", "status")


def downgrade() -> None:
    op.add_column(
        "tuban",
        sa.Column("status", sa.String(length=20), nullable=False, server_default="pending"),
    )
    op.execute("UPDATE tuban SET status = 'closed' WHERE review = 'accepted'")
