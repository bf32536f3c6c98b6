"""The audit log knows the town of each entry about a case, so a town's staff read their town's lines.

Revision ID: 0010
Revises: 0006
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # No foreign key: a log line outlives the cell it names.
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("town_id", sa.Integer(), nullable=True))
    op.create_index("ix_audit_log_town_id", "audit_log", ["town_id"])
    op.execute(
        "UPDATE audit_log SET town_id = (SELECT cases.town_id FROM cases"
        " WHERE audit_log.target = 'case:' || CAST(cases.id AS VARCHAR(20)))"
        " WHERE target LIKE 'case:%'"
    )


def downgrade() -> None:
    op.drop_index("ix_audit_log_town_id", table_name="audit_log")
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("town_id")
