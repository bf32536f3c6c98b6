"""Cases store the year found and the year fixed, indexed with the town, for the year figures.

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0009"
branch_labels = None
depends_on = None


def _year(column: str) -> str:
    """SQL for the calendar year of a date column, on this backend."""
    if op.get_bind().dialect.name == "postgresql":
        return f"CAST(EXTRACT(YEAR FROM {column}) AS INTEGER)"
    return f"CAST(strftime('%Y', {column}) AS INTEGER)"


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("found_year", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("fixed_year", sa.Integer(), nullable=True))
    # The rule of inspection.cases.history.year_columns, written in SQL for the rows already there.
    op.execute(
        f"UPDATE cases SET found_year = {_year('found_on')}, fixed_year = CASE"
        f" WHEN status IN ('done', 'verified') AND COALESCE(done_on, verified_on) IS NOT NULL"
        f" THEN {_year('COALESCE(done_on, verified_on)')} END"
    )
    op.create_index("ix_cases_found_year_town", "cases", ["found_year", "town_id"])
    op.create_index("ix_cases_fixed_year_town", "cases", ["fixed_year", "town_id"])


def downgrade() -> None:
    op.drop_index("ix_cases_fixed_year_town", table_name="cases")
    op.drop_index("ix_cases_found_year_town", table_name="cases")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("fixed_year")
        batch.drop_column("found_year")
