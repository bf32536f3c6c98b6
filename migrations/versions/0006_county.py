"""A county above the towns: a one-town database's town becomes the one town of a county.

The county cell copies the town's boundary, area and extent; its code is the town code's first six
digits when the town has a nine-digit statistical division code, else the town code with "-county";
its name is a placeholder until `flask county --name …` sets it. Nothing else changes: cases keep
their town, village and group, history and areas. Cases are indexed by town, for per-town reports
and scope.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

PLACEHOLDER_NAME = "本县"
COPIED = "boundary, area_m2, min_lon, min_lat, max_lon, max_lat"


def county_code(town_code: str) -> str:
    """The county's code for a town's: the division code's prefix, or the town code marked."""
    return town_code[:6] if town_code.isdigit() and len(town_code) == 9 else f"{town_code}-county"


def upgrade() -> None:
    op.create_index("ix_cases_town_id", "cases", ["town_id"])
    conn = op.get_bind()
    counties = conn.execute(sa.text("SELECT count(*) FROM grid_cells WHERE level = 'county'"))
    towns = conn.execute(
        sa.text("SELECT id, code FROM grid_cells WHERE level = 'town' AND parent_id IS NULL")
    ).all()
    if counties.scalar_one() or len(towns) != 1:
        return  # an empty database, or one that has its county already
    town_id, town_code = towns[0]
    # An explicit id: rows inserted with ids (restores, tests) leave PostgreSQL's sequence behind.
    county_id = conn.execute(sa.text("SELECT max(id) + 1 FROM grid_cells")).scalar_one()
    conn.execute(
        sa.text(
            f"INSERT INTO grid_cells (id, level, code, name, parent_id, {COPIED}) "
            f"SELECT :id, 'county', :code, :name, NULL, {COPIED} FROM grid_cells WHERE id = :town"
        ),
        {"id": county_id, "code": county_code(town_code), "name": PLACEHOLDER_NAME, "town": town_id},
    )
    if conn.dialect.name == "postgresql":
        conn.execute(
            sa.text(
                "SELECT setval(pg_get_serial_sequence('grid_cells', 'id'), "
                "(SELECT max(id) FROM grid_cells))"
            )
        )
    conn.execute(
        sa.text("UPDATE grid_cells SET parent_id = :county WHERE id = :town"),
        {"county": county_id, "town": town_id},
    )


def downgrade() -> None:
    conn = op.get_bind()
    conn.execute(
        sa.text(
            "UPDATE grid_cells SET parent_id = NULL WHERE parent_id IN "
            "(SELECT id FROM grid_cells WHERE level = 'county')"
        )
    )
    conn.execute(sa.text("DELETE FROM grid_cells WHERE level = 'county'"))
    op.drop_index("ix_cases_town_id", table_name="cases")
