"""Migrations: every revision upgrades with the data kept, and the head matches the models."""

import shapely
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from inspection import journal, migrate
from inspection.cases import models as case_models
from inspection.db import Base, make_engine

# Every package's tables: cases' models import grid's and accounts'; the audit table is the journal's.
MODELS = (case_models, journal)


def test_upgrade_from_first_revision_keeps_data(db_url):
    engine = make_engine(db_url, pool_size=2)
    migrate.upgrade(engine, "0001")
    boundary = shapely.MultiPolygon([shapely.box(113.0, 30.0, 113.001, 30.001)])
    hexwkb = shapely.to_wkb(shapely.set_srid(boundary, 4326), hex=True, include_srid=True)
    value = (
        hexwkb
        if engine.dialect.name == "postgresql"
        else bytes.fromhex(shapely.to_wkb(boundary, hex=True))
    )
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO grid_cells (id, level, code, name, boundary) "
                "VALUES (1, 'town', 'T', '平岗镇', :b)"
            ),
            {"b": value},
        )
        conn.execute(
            text(
                "INSERT INTO users (id, username, display_name, role, password_hash, active, "
                "session_version, created_at) VALUES (1, 'wgy', '王网格', 'grid_member', 'x', "
                ":t, 1, '2022-01-01 00:00:00')"
            ),
            {"t": True},
        )
        conn.execute(text("INSERT INTO user_cells (user_id, cell_id) VALUES (1, 1)"))

    migrate.upgrade(engine)

    assert migrate.current_revision(engine) == migrate.head_revision()
    with engine.begin() as conn:
        assert (
            conn.execute(text("SELECT name FROM grid_cells WHERE code = 'T'")).scalar_one()
            == "平岗镇"
        )
        assert conn.execute(text("SELECT count(*) FROM user_cells")).scalar_one() == 1
        conn.execute(
            text(
                "INSERT INTO cases (kind, status, source, title, description, found_on, geom, "
                "point_lon, point_lat, created_at, updated_at, version, town_id) VALUES "
                "('issue', 'reported', 'patrol', 't', '', '2022-01-02', :g, 113.0, 30.0, "
                "'2022-01-02 00:00:00', '2022-01-02 00:00:00', 1, 1)"
            ),
            {"g": value},
        )
        assert conn.execute(text("SELECT count(*) FROM cases WHERE town_id = 1")).scalar_one() == 1
    engine.dispose()


def test_head_schema_matches_models(engine):
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)

    sqlite = engine.dialect.name == "sqlite"
    ours = [
        d
        for d in diff
        # PostGIS brings its own tables; they are not ours to model.
        if not (d[0] == "remove_table" and d[1].name == "spatial_ref_sys")
        # GiST indexes exist on PostgreSQL only (ddl_if), which compare_metadata ignores.
        and not (sqlite and d[0] == "add_index" and d[1].name.endswith("_gist"))
    ]
    assert ours == []
    assert {"grid_cells", "users", "user_cells", "cases", "audit_log", "settings"} <= set(
        Base.metadata.tables
    )


def test_upgrade_twice_is_a_no_op(engine):
    migrate.upgrade(engine)

    assert migrate.current_revision(engine) == migrate.head_revision()
