"""Migrations: every revision upgrades with the data kept, and the head matches the models."""

import shapely
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.orm import Session

from inspection import journal, migrate
from inspection.alerts import models as alert_models
from inspection.cases import models as case_models
from inspection.cases.history import stale_year_columns
from inspection.db import Base, make_engine
from inspection.patrols import models as patrol_models
from inspection.rechecks import models as recheck_models
from inspection.tuban import models as tuban_models

# Every package's tables: cases' models import grid's and accounts'; the audit table is the journal's;
# patrols' tables are their own.
MODELS = (case_models, journal, patrol_models, tuban_models, alert_models, recheck_models)


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


def _wkb(engine, geom):
    """A geometry as the column takes it on this backend (EWKB hex on PostGIS, WKB on SQLite)."""
    if engine.dialect.name == "postgresql":
        return shapely.to_wkb(shapely.set_srid(geom, 4326), hex=True, include_srid=True)
    return shapely.to_wkb(geom)


def test_a_one_town_database_becomes_the_one_town_of_a_county(db_url):
    engine = make_engine(db_url, pool_size=2)
    migrate.upgrade(engine, "0005")
    town = shapely.MultiPolygon([shapely.box(113.0, 30.0, 113.04, 30.02)])
    group = shapely.MultiPolygon([shapely.box(113.0, 30.0, 113.01, 30.01)])
    parcel = shapely.box(113.001, 30.001, 113.002, 30.002)
    with engine.begin() as conn:
        cells = [
            (1, "town", "420116101", None, town, 3.1e7),
            (2, "village", "420116101201", 1, town, 3.1e7),
            (3, "group", "420116101201001", 2, group, 1.1e6),
        ]
        for cell_id, level, code, parent, geom, area in cells:
            conn.execute(
                text(
                    "INSERT INTO grid_cells (id, level, code, name, parent_id, boundary, area_m2, "
                    "min_lon, min_lat, max_lon, max_lat) VALUES (:i, :l, :c, :c, :p, :b, :a, "
                    ":x0, :y0, :x1, :y1)"
                ),
                {"i": cell_id, "l": level, "c": code, "p": parent, "b": _wkb(engine, geom),
                 "a": area, **dict(zip(("x0", "y0", "x1", "y1"), geom.bounds, strict=True))},
            )  # fmt: skip
        conn.execute(
            text(
                "INSERT INTO cases (id, kind, status, source, title, description, found_on, geom, "
                "point_lon, point_lat, area_m2, created_at, updated_at, version, town_id, "
                "village_id, group_id) VALUES (7, 'farmland', 'verified', 'patrol', '复耕', '', "
                "'2022-03-01', :g, 113.0015, 30.0015, 10234.5, '2022-03-01 00:00:00', "
                "'2022-03-01 00:00:00', 3, 1, 2, 3)"
            ),
            {"g": _wkb(engine, parcel)},
        )
        conn.execute(
            text(
                "INSERT INTO status_changes (case_id, from_status, to_status, \"on\", at, note) "
                "VALUES (7, 'reported', 'verified', '2022-06-01', '2022-06-01 00:00:00', '')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO audit_log (at, event, target) VALUES ('2022-06-01 00:00:00', "
                "'case.status', 'case:7'), ('2022-06-02 00:00:00', 'login', NULL)"
            )
        )
        before = conn.execute(
            text("SELECT id, town_id, village_id, group_id, area_m2, status FROM cases")
        ).all()

    migrate.upgrade(engine)

    with engine.begin() as conn:
        county = conn.execute(
            text("SELECT id, code, name, area_m2, min_lon, max_lat FROM grid_cells "
                 "WHERE level = 'county'")
        ).one()  # fmt: skip
        town_parent = conn.execute(text("SELECT parent_id FROM grid_cells WHERE id = 1"))
        after = conn.execute(
            text("SELECT id, town_id, village_id, group_id, area_m2, status FROM cases")
        ).all()
        history = conn.execute(text("SELECT count(*) FROM status_changes")).scalar_one()
        cells = conn.execute(text("SELECT count(*) FROM grid_cells")).scalar_one()
        audit_towns = conn.execute(text("SELECT event, town_id FROM audit_log ORDER BY id")).all()
    assert [tuple(r) for r in audit_towns] == [("case.status", 1), ("login", None)]  # 0010
    assert county.code == "420116" and county.area_m2 == 3.1e7
    assert (county.min_lon, county.max_lat) == (113.0, 30.02)
    assert town_parent.scalar_one() == county.id
    assert after == before and history == 1 and cells == 4
    engine.dispose()


def test_0011_fills_the_stored_years_from_the_dates_and_the_history(db_url):
    engine = make_engine(db_url, pool_size=2)
    migrate.upgrade(engine, "0009")
    point = _wkb(engine, shapely.Point(113.0, 30.0))
    # (id, status, found_on, done_on, verified_on, history as (to_status, on))
    cases = [
        (1, "reported", "2022-03-01", None, None, [("reported", "2022-03-01")]),
        (2, "verified", "2022-03-01", "2022-05-01", "2023-01-05",
         [("reported", "2022-03-01"), ("done", "2022-05-01"), ("verified", "2023-01-05")]),
        (3, "done", "2021-11-01", "2023-02-01", None,
         [("reported", "2021-11-01"), ("done", "2022-12-01"), ("in_progress", "2023-01-10"),
          ("done", "2023-02-01")]),
        (4, "void", "2022-03-01", None, None, [("reported", "2022-03-01"), ("void", "2022-04-01")]),
        (5, "verified", "2022-03-01", None, "2022-06-01", []),
        (6, "in_progress", "2022-03-01", None, None,
         [("reported", "2022-03-01"), ("done", "2022-05-01"), ("in_progress", "2022-04-01")]),
    ]  # fmt: skip
    with engine.begin() as conn:
        for case_id, status, found, done, verified, steps in cases:
            conn.execute(
                text(
                    "INSERT INTO cases (id, kind, status, source, title, description, found_on, "
                    "done_on, verified_on, geom, point_lon, point_lat, created_at, updated_at, "
                    "version) VALUES (:i, 'issue', :s, 'patrol', 't', '', :f, :d, :v, :g, 113.0, "
                    "30.0, '2022-01-02 00:00:00', '2022-01-02 00:00:00', 1)"
                ),
                {"i": case_id, "s": status, "f": found, "d": done, "v": verified, "g": point},
            )
            for to_status, on in steps:
                conn.execute(
                    text(
                        'INSERT INTO status_changes (case_id, to_status, "on", at, note) '
                        "VALUES (:i, :t, :o, '2022-01-02 00:00:00', '')"
                    ),
                    {"i": case_id, "t": to_status, "o": on},
                )

    migrate.upgrade(engine)

    with engine.connect() as conn:
        stored = conn.execute(
            text("SELECT id, found_year, fixed_year, run_year, needs_history FROM cases "
                 "ORDER BY id")
        ).all()  # fmt: skip
        history = conn.execute(text("SELECT count(*) FROM status_changes")).scalar_one()
    with Session(engine) as session:
        stale = stale_year_columns(session)  # the app's own rules agree with the SQL
    assert history == 13  # the history is kept
    assert [tuple(r) for r in stored] == [
        (1, 2022, None, 2022, False),
        (2, 2022, 2022, 2022, False),
        (3, 2021, 2023, 2023, True),  # sent back
        (4, 2022, None, 2022, False),
        (5, 2022, 2022, None, False),  # no history: no run
        (6, 2022, None, 2022, True),  # sent back, and dated backwards
    ]
    assert stale == []
    engine.dispose()
