"""Indexes for the case list's keyset paging: its order (id; deadline_on, id) under each scope filter.

Revision ID: 0012
Revises: 0009
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0009"
branch_labels = None
depends_on = None

# name: columns. The list walks id descending (or deadline_on, id for the overdue) within the
# viewer's towns, village or group, or a status; each index serves one of those scopes in order.
INDEXES = {
    "ix_cases_town_id_id": ["town_id", "id"],
    "ix_cases_village_id_id": ["village_id", "id"],
    "ix_cases_group_id_id": ["group_id", "id"],
    "ix_cases_status_id": ["status", "id"],
    "ix_cases_deadline_on_id": ["deadline_on", "id"],
    "ix_cases_town_id_deadline_on_id": ["town_id", "deadline_on", "id"],
}


# PostGIS: a GiST index of each kind's geometries, for the OGC API's one-kind bbox queries (the
# whole table's ix_cases_geom_gist stays, for the maps' every-kind ones).
KINDS = ("issue", "illegal_building", "farmland")


def upgrade() -> None:
    for name, columns in INDEXES.items():
        op.create_index(name, "cases", columns)
    if op.get_bind().dialect.name == "postgresql":
        for kind in KINDS:
            op.create_index(
                f"ix_cases_geom_{kind}_gist",
                "cases",
                ["geom"],
                postgresql_using="gist",
                postgresql_where=sa.text(f"kind = '{kind}'"),
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for kind in reversed(KINDS):
            op.drop_index(f"ix_cases_geom_{kind}_gist", table_name="cases")
    for name in reversed(INDEXES):
        op.drop_index(name, table_name="cases")
