"""Merged duplicates: a case points to the one it was merged into.

Revision ID: 0016
Revises: 0013
Create Date: 2026-12-08

No batch mode on SQLite: copying `cases` into a new table would drop the old one, and with it (ON
DELETE CASCADE) every history row and photo. SQLite adds the column with its REFERENCES in place.
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE cases ADD COLUMN merged_into_id INTEGER REFERENCES cases (id)")
    else:
        op.add_column("cases", sa.Column("merged_into_id", sa.Integer(), nullable=True))
        op.create_foreign_key(
            "fk_cases_merged_into_id_cases", "cases", "cases", ["merged_into_id"], ["id"]
        )
    op.create_index("ix_cases_merged_into_id", "cases", ["merged_into_id"])


def downgrade() -> None:
    op.drop_index("ix_cases_merged_into_id", table_name="cases")
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint("fk_cases_merged_into_id_cases", "cases", type_="foreignkey")
    op.drop_column("cases", "merged_into_id")
