"""回头看: one re-check task per closure of an illegal-building or farmland case.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-08
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def _fk(column: str, table: str, ondelete: str | None = None) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{table}.id"], name=f"fk_rechecks_{column}_{table}", ondelete=ondelete
    )


def upgrade() -> None:
    op.create_table(
        "rechecks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=False),
        sa.Column("origin", sa.String(length=10), nullable=False),
        sa.Column("tuban_id", sa.Integer(), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("town_id", sa.Integer(), nullable=True),
        sa.Column("village_id", sa.Integer(), nullable=True),
        sa.Column("group_id", sa.Integer(), nullable=True),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("checked_on", sa.Date(), nullable=True),
        sa.Column("checked_by_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("fix_lon", sa.Float(), nullable=True),
        sa.Column("fix_lat", sa.Float(), nullable=True),
        sa.Column("fix_accuracy_m", sa.Float(), nullable=True),
        sa.Column("fix_distance_m", sa.Float(), nullable=True),
        sa.Column("override_reason", sa.Text(), nullable=True),
        sa.Column("client_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        _fk("case_id", "cases", "CASCADE"),
        _fk("tuban_id", "tuban", "SET NULL"),
        _fk("town_id", "grid_cells"),
        _fk("village_id", "grid_cells"),
        _fk("group_id", "grid_cells"),
        _fk("assignee_id", "users", "SET NULL"),
        _fk("checked_by_id", "users", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_rechecks"),
        sa.UniqueConstraint("case_id", "closed_on", name="uq_rechecks_case_closed_on"),
        sa.UniqueConstraint("client_id", name="uq_rechecks_client_id"),
    )
    for column in ("case_id", "town_id", "village_id", "group_id", "assignee_id"):
        op.create_index(f"ix_rechecks_{column}", "rechecks", [column])
    op.create_index("ix_rechecks_status_due_on", "rechecks", ["status", "due_on"])


def downgrade() -> None:
    op.drop_table("rechecks")
