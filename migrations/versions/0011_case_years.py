"""Cases store the years the year figures count by, in covering indexes with the town.

found_year, fixed_year (from the dates), run_year and needs_history (from the history): see
inspection.cases.history, whose rules the UPDATEs below write in SQL for the rows already there.

Revision ID: 0011
Revises: 0012 (placed after the keyset indexes when the branches met)
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0012"
branch_labels = None
depends_on = None

OPEN = "('reported', 'assigned', 'in_progress')"
INDEXES = {
    "ix_cases_found_year": (
        *("found_year", "town_id", "village_id", "kind", "source", "category", "group_id"),
        *("status", "fixed_year"),
    ),
    "ix_cases_fixed_year": (
        *("fixed_year", "town_id", "village_id", "kind", "source", "category", "group_id"),
        *("found_year", "area_m2", "demolished_area_m2"),
    ),
    "ix_cases_open_issues": (
        *("kind", "status", "town_id", "deadline_on", "found_year", "run_year", "village_id"),
        *("group_id", "source", "category"),
    ),
}
# Partial: only the cases whose current run began after the year they were found.
SPANNING = (
    "ix_cases_spanning_run",
    (
        *("kind", "run_year", "found_year", "deadline_on", "needs_history", "status"),
        *("town_id", "village_id", "group_id", "source", "category", "id"),
    ),
)


def _year(column: str) -> str:
    """SQL for the calendar year of a date column, on this backend."""
    if op.get_bind().dialect.name == "postgresql":
        return f"CAST(EXTRACT(YEAR FROM {column}) AS INTEGER)"
    return f"CAST(strftime('%Y', {column}) AS INTEGER)"


def upgrade() -> None:
    # Plain ADD COLUMN, never a batch copy: on SQLite, dropping the old table would cascade to the
    # history (status_changes … ON DELETE CASCADE, foreign keys on).
    op.add_column("cases", sa.Column("found_year", sa.Integer(), nullable=True))
    op.add_column("cases", sa.Column("fixed_year", sa.Integer(), nullable=True))
    op.add_column("cases", sa.Column("run_year", sa.Integer(), nullable=True))
    op.add_column(
        "cases", sa.Column("needs_history", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    # year_columns: found_on's year; coalesce(done_on, verified_on)'s while done or verified.
    op.execute(
        f"UPDATE cases SET found_year = {_year('found_on')}, fixed_year = CASE"
        " WHEN status IN ('done', 'verified') AND COALESCE(done_on, verified_on) IS NOT NULL"
        f" THEN {_year('COALESCE(done_on, verified_on)')} END"
    )
    # history_columns: the first change after the last one of the other kind (open / settled) than
    # the case's status now; sent back, or dated backwards.
    run_year = _year('s."on"')
    op.execute(
        f"UPDATE cases SET run_year = (SELECT {run_year} FROM status_changes s"
        " WHERE s.case_id = cases.id AND s.id > COALESCE((SELECT max(o.id) FROM status_changes o"
        f" WHERE o.case_id = cases.id AND (o.to_status IN {OPEN}) <> (cases.status IN {OPEN})), 0)"
        " ORDER BY s.id LIMIT 1),"
        " needs_history = EXISTS (SELECT 1 FROM status_changes a JOIN status_changes b"
        " ON b.case_id = a.case_id AND b.id > a.id WHERE a.case_id = cases.id"
        f' AND (b."on" < a."on" OR (a.to_status NOT IN {OPEN} AND b.to_status IN {OPEN})))'
    )
    for name, columns in INDEXES.items():
        op.create_index(name, "cases", list(columns))
    where = sa.text("run_year > found_year")
    op.create_index(
        SPANNING[0], "cases", list(SPANNING[1]), sqlite_where=where, postgresql_where=where
    )


def downgrade() -> None:
    for name in (*INDEXES, SPANNING[0]):
        op.drop_index(name, table_name="cases")
    for column in ("needs_history", "run_year", "fixed_year", "found_year"):
        op.execute(f"ALTER TABLE cases DROP COLUMN {column}")  # SQLite 3.35+: no batch copy
