"""A county on PostGIS for the scale bench: 20 towns × 100,000 cases with history, 20,000 groups.

Built once into its own schema (`bench_county`) through the app's migrations, then filled by COPY
with the schema's secondary indexes dropped and rebuilt afterwards; a marker table records the
fixture's version, so a second bench run reuses it in a second or so. The grid is boxes in lon/lat
(EPSG:4326): 5 × 4 towns of 0.1° × 0.1° (about 9.6 km × 11 km) near lon 113°, lat 30°, each with
5 × 4 villages of 0.02° × 0.025° and 10 × 5 groups of 0.002° × 0.005° per village.
"""

import io
import os
import time
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
import shapely
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from geodata.area import geodesic_areas_m2
from inspection import migrate
from inspection.accounts.models import User
from inspection.db import make_engine
from inspection.grid.models import GridCell
from inspection.vocab import CATEGORIES

SCHEMA = "bench_county"
VERSION = "county-2"  # change to rebuild every stored fixture
TOWNS_X, TOWNS_Y = 5, 4
VILLAGES_X, VILLAGES_Y = 5, 4
GROUPS_X, GROUPS_Y = 10, 5
CASES_PER_TOWN = 100_000
WEST, SOUTH = 113.0, 30.0
TOWN_DEG = 0.1
PASSWORD = "bench1234"
CHUNK = 200_000
STATUSES = ("reported", "assigned", "in_progress", "done", "verified")


@dataclass(frozen=True)
class County:
    """A built fixture: the URL of its schema, its size and how long building (or finding) it took."""

    url: str
    towns: int
    groups: int
    cases: int
    changes: int
    seconds: float
    reused: bool


def database_url() -> str | None:
    """BENCH_DATABASE_URL, else TEST_DATABASE_URL; None when neither is set."""
    return os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")


def schema_url(url: str) -> str:
    """The URL with the fixture's schema first on the search path (PostGIS stays in public)."""
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-csearch_path%3D{SCHEMA},public"


def town_code(t: int) -> str:
    """The 9-digit code of town t (0-based)."""
    return f"420116{101 + t:03d}"


def town_box(t: int) -> tuple[float, float, float, float]:
    """Town t's extent, west, south, east, north in degrees (EPSG:4326)."""
    x, y = t % TOWNS_X, t // TOWNS_X
    west, south = WEST + x * TOWN_DEG, SOUTH + y * TOWN_DEG
    return west, south, west + TOWN_DEG, south + TOWN_DEG


def supervisor(t: int) -> str:
    """The username of town t's supervisor."""
    return f"zz_{t + 1:02d}"


def _marker(engine) -> dict | None:
    """The stored fixture's marker row, or None when there is none (or another version)."""
    with engine.connect() as conn:
        found = conn.execute(
            text("SELECT to_regclass(:t)"), {"t": f"{SCHEMA}.bench_fixture"}
        ).scalar()
        if found is None:
            return None
        row = conn.execute(
            text("SELECT version, revision, cases, changes FROM bench_fixture")
        ).first()
    if row is None or row.version != VERSION or row.revision != migrate.head_revision():
        return None
    return dict(row._mapping)


def _grid(session: Session) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Store the county, towns, villages and groups; per group its town, village and id and box."""
    county = GridCell(level="county", code="420116", name="基准县")
    county.set_boundary(
        shapely.box(WEST, SOUTH, WEST + TOWNS_X * TOWN_DEG, SOUTH + TOWNS_Y * TOWN_DEG)
    )
    cells, boxes = [county], []
    vw, vh = TOWN_DEG / VILLAGES_X, TOWN_DEG / VILLAGES_Y
    gw, gh = vw / GROUPS_X, vh / GROUPS_Y
    for t in range(TOWNS_X * TOWNS_Y):
        west, south, _, _ = town_box(t)
        town = GridCell(level="town", code=town_code(t), name=f"第{t + 1}镇", parent=county)
        town.set_boundary(shapely.box(*town_box(t)))
        cells.append(town)
        for v in range(VILLAGES_X * VILLAGES_Y):
            vx, vy = west + (v % VILLAGES_X) * vw, south + (v // VILLAGES_X) * vh
            village = GridCell(
                level="village", code=f"{town_code(t)}{201 + v:03d}", name=f"{v + 1}村", parent=town
            )
            village.set_boundary(shapely.box(vx, vy, vx + vw, vy + vh))
            cells.append(village)
            for g in range(GROUPS_X * GROUPS_Y):
                gx, gy = vx + (g % GROUPS_X) * gw, vy + (g // GROUPS_X) * gh
                group = GridCell(
                    level="group", code=f"{village.code}{g + 1:03d}", name=f"{g + 1}组",
                    parent=village,
                )  # fmt: skip
                group.set_boundary(shapely.box(gx, gy, gx + gw, gy + gh))
                cells.append(group)
                boxes.append((gx, gy, gx + gw, gy + gh))
    areas = geodesic_areas_m2(np.array([c.boundary for c in cells], dtype=object))
    for cell, area in zip(cells, areas, strict=True):
        cell.area_m2 = float(area)
    session.add_all(cells)
    session.flush()
    groups = [c for c in cells if c.level == "group"]
    group_ids = np.array([g.id for g in groups])
    village_ids = np.array([g.parent.id for g in groups])
    town_ids = np.array([g.parent.parent.id for g in groups])
    return town_ids, village_ids, group_ids, np.array(boxes)


def _users(session: Session) -> None:
    """The county user `county` and one supervisor per town, by code (password PASSWORD)."""
    template = User()
    template.set_password(PASSWORD)
    session.add(
        User(username="county", display_name="县局", role="county",
             password_hash=template.password_hash)
    )  # fmt: skip
    towns = session.scalars(
        select(GridCell).where(GridCell.level == "town").order_by(GridCell.code)
    ).all()
    for t, town in enumerate(towns):
        user = User(
            username=supervisor(t), display_name=f"第{t + 1}镇领导", role="supervisor",
            password_hash=template.password_hash,
        )  # fmt: skip
        user.cells = [town]
        session.add(user)


def _cases_frame(rng, start_id: int, n: int, grid, now: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """n cases (ids from start_id) spread over the groups, with their history; two COPY frames."""
    town_ids, village_ids, group_ids, boxes = grid
    pick = rng.integers(0, len(group_ids), n)
    west, south, east, north = boxes[pick].T
    lon = west + rng.uniform(0.05, 0.95, n) * (east - west)
    lat = south + rng.uniform(0.05, 0.95, n) * (north - south)
    kind = rng.choice(np.array(["issue", "illegal_building", "farmland"]), n, p=[0.8, 0.12, 0.08])
    half = np.where(kind == "issue", 0.0, rng.uniform(0.00003, 0.00008, n))  # degrees
    geoms = np.where(
        half > 0,
        shapely.box(lon - half, lat - half, lon + half, lat + half),
        shapely.points(lon, lat),
    )
    geoms = shapely.set_srid(geoms, 4326)
    found = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 6 * 365, n), unit="D")
    # Steps through reported → … → verified (1 to 5), a few voided.
    steps = rng.choice(np.arange(1, 6), n, p=[0.2, 0.15, 0.15, 0.25, 0.25])
    void = rng.random(n) < 0.04
    status = np.where(void, "void", np.array(STATUSES)[steps - 1])
    gaps = rng.integers(1, 40, (n, 5)).cumsum(axis=1)
    done_on = np.where((steps >= 4) & ~void, found + pd.to_timedelta(gaps[:, 3], unit="D"), pd.NaT)
    ids = np.arange(start_id, start_id + n)
    category = np.where(kind == "issue", rng.choice(np.array(sorted(CATEGORIES)), n), None)
    sources = np.array(["patrol", "patrol", "superior", "public", "hotline"])
    area = np.where(half > 0, geodesic_areas_m2(geoms), np.nan)
    minx, miny, maxx, maxy = shapely.bounds(geoms).T
    cases = pd.DataFrame(
        {
            "id": ids, "kind": kind, "status": status, "source": sources[rng.integers(0, 5, n)],
            "category": category, "title": [f"案件{i}" for i in ids], "description": "",
            "found_on": found.strftime("%Y-%m-%d"),
            "deadline_on": (found + pd.to_timedelta(rng.choice([15, 30, 90], n), unit="D"))
            .strftime("%Y-%m-%d"),
            "done_on": pd.to_datetime(done_on).strftime("%Y-%m-%d"),
            "town_id": town_ids[pick], "village_id": village_ids[pick],
            "group_id": group_ids[pick], "geom": shapely.to_wkb(geoms, hex=True, include_srid=True),
            "point_lon": lon, "point_lat": lat, "area_m2": area,
            "min_lon": minx, "min_lat": miny, "max_lon": maxx, "max_lat": maxy,
            "created_at": now, "updated_at": now, "version": 1,
        }
    )  # fmt: skip
    # History: one row per step (the void ones: reported, then void).
    count = np.where(void, 2, steps)
    case_of = np.repeat(np.arange(n), count)
    step = np.arange(len(case_of)) - np.repeat(np.cumsum(count) - count, count)
    to_status = np.array(STATUSES)[step]
    to_status = np.where(void[case_of] & (step == 1), "void", to_status)
    from_status = np.where(step == 0, None, np.array(("",) + STATUSES[:-1], dtype=object)[step])
    day = found[case_of] + pd.to_timedelta(np.where(step == 0, 0, gaps[case_of, step - 1]), "D")
    changes = pd.DataFrame(
        {
            "case_id": ids[case_of], "from_status": from_status, "to_status": to_status,
            "at": now, "on": day.strftime("%Y-%m-%d"), "note": "",
        }
    )  # fmt: skip
    return cases, changes


def _copy(raw, table: str, frame: pd.DataFrame) -> None:
    """COPY a frame into a table (CSV; missing values as \\N, NULL)."""
    columns = ", ".join(f'"{c}"' for c in frame.columns)
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, header=False, na_rep="\\N")
    with (
        raw.cursor() as cur,
        cur.copy(f"COPY {table} ({columns}) FROM STDIN WITH (FORMAT csv, NULL '\\N')") as cp,
    ):
        cp.write(buffer.getvalue())


def _secondary_indexes(conn, tables: tuple[str, ...]) -> list[tuple[str, str]]:
    """(name, CREATE INDEX …) of the tables' indexes that back no constraint, in the schema."""
    rows = conn.execute(
        text(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = :s"
            " AND i.tablename = ANY(:t) AND NOT EXISTS (SELECT 1 FROM pg_constraint c"
            " WHERE c.conname = i.indexname)"
        ),
        {"s": SCHEMA, "t": list(tables)},
    )
    return [(r.indexname, r.indexdef) for r in rows]


def _fill(engine, towns: int, per_town: int, seed: int) -> tuple[int, int]:
    """Grid, users and cases with history; indexes rebuilt after the COPY. (cases, changes)."""
    rng = np.random.default_rng(seed)
    with Session(engine) as session:
        grid = _grid(session)
        _users(session)
        session.commit()
    total, changes, now = towns * per_town, 0, "2026-01-01 00:00:00"
    with engine.begin() as conn:
        indexes = _secondary_indexes(conn, ("cases", "status_changes"))
        for name, _ in indexes:
            conn.execute(text(f'DROP INDEX "{name}"'))
    raw = engine.raw_connection()
    try:
        for start in range(1, total + 1, CHUNK):
            cases, history = _cases_frame(rng, start, min(CHUNK, total + 1 - start), grid, now)
            _copy(raw.driver_connection, "cases", cases)
            _copy(raw.driver_connection, "status_changes", history)
            changes += len(history)
        raw.commit()
    finally:
        raw.close()
    with engine.begin() as conn:
        conn.execute(text("SET maintenance_work_mem = '256MB'"))
        for _, definition in indexes:
            conn.execute(text(definition))
        for table in ("cases", "status_changes"):
            conn.execute(
                text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                     f" (SELECT max(id) FROM {table}))")
            )  # fmt: skip
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    return total, changes


def build(url: str | None = None, *, towns: int = TOWNS_X * TOWNS_Y,
          per_town: int = CASES_PER_TOWN, seed: int = 7) -> County | None:  # fmt: skip
    """The county fixture at url (default database_url()), built unless its marker says it is there.

    None when no URL is set. Rebuilt when the marker's version or migration revision differs.
    """
    url = url or database_url()
    if not url:
        return None
    started = time.perf_counter()
    engine = make_engine(schema_url(url), pool_size=2)
    try:
        marker = _marker(engine)
        if marker is not None and marker["cases"] == towns * per_town:
            return County(schema_url(url), towns, towns * 1000, marker["cases"], marker["changes"],
                          time.perf_counter() - started, True)  # fmt: skip
        admin = make_engine(url, pool_size=1)
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {SCHEMA}"))
        admin.dispose()
        engine.dispose()
        engine = make_engine(schema_url(url), pool_size=2)
        migrate.upgrade(engine)
        cases, changes = _fill(engine, towns, per_town, seed)
        with engine.begin() as conn:
            conn.execute(
                text(
                    "CREATE TABLE bench_fixture (version text, revision text, cases bigint,"
                    " changes bigint, built_on date)"
                )
            )
            conn.execute(
                text("INSERT INTO bench_fixture VALUES (:v, :r, :c, :h, :d)"),
                {"v": VERSION, "r": migrate.head_revision(), "c": cases, "h": changes,
                 "d": date.today()},
            )  # fmt: skip
        return County(schema_url(url), towns, towns * 1000, cases, changes,
                      time.perf_counter() - started, False)  # fmt: skip
    finally:
        engine.dispose()


if __name__ == "__main__":
    county = build()
    print(county if county else "no BENCH_DATABASE_URL or TEST_DATABASE_URL: nothing built")
