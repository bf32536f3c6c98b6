"""Year figures over one town of 100,000 cases on SQLite and PostGIS, and a county of 20 such towns on
PostGIS: grouped queries over the stored years vs an ORM loop over every case and its history."""

import math
import os
import random
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import shapely
from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session, selectinload

from bench.table import Row
from inspection import migrate
from inspection.cases.history import history_columns, year_columns
from inspection.cases.models import Case, StatusChange
from inspection.clock import utcnow
from inspection.db import make_engine
from inspection.grid.models import GridCell
from inspection.reporting.figures import empty_figures, year_figures
from inspection.vocab import CATEGORIES, ENVIRONMENT_CATEGORIES, M2_PER_MU, STATUS_GROUPS

N_CASES = 100_000
YEAR = 2022
GOAL_S = 0.05  # one town of N_CASES
COUNTY_TOWNS, COUNTY_GOAL_S = 20, 0.5  # a county of 20 such towns, on PostGIS
SCHEMA = "bench_report"  # keeps the bench's tables away from a test run on the same database
VILLAGES, GROUPS_PER_VILLAGE = 8, 10


def naive_figures(session: Session, year: int) -> dict:
    """The baseline: every case and its history as ORM objects, counted in a Python loop.

    Returns {"town": figures, "villages": {village code or None: figures}}.
    """
    start, end = date(year, 1, 1), date(year, 12, 31)
    town, villages = empty_figures(), {}
    codes = {c.id: c.code for c in session.scalars(select(GridCell))}
    cases = session.scalars(select(Case).options(selectinload(Case.history))).all()
    for c in cases:
        if c.found_on > end:
            continue
        dones = [h.on for h in c.history if h.to_status == "done"]
        fixed_on = max(dones) if dones else (c.done_on or c.verified_on)
        found = c.found_on >= start and c.status != "void"
        fixed = c.status in STATUS_GROUPS["fixed"] and fixed_on and start <= fixed_on <= end
        earlier = [h for h in c.history if h.on <= end]
        # The last change recorded by 31 Dec; found by then but recorded later: still reported.
        status_at_end = (
            earlier[-1].to_status if earlier else ("reported" if c.history else c.status)
        )
        for f in (town, villages.setdefault(codes.get(c.village_id), empty_figures())):
            if c.kind == "illegal_building":
                f["illegal_buildings"]["found"] += found
                f["illegal_buildings"]["demolished"] += bool(fixed)
                if fixed:
                    area = c.demolished_area_m2 if c.demolished_area_m2 is not None else c.area_m2
                    f["illegal_buildings"]["demolished_area_m2"] += area or 0.0
            elif c.kind == "farmland":
                f["farmland"]["found"] += found
                f["farmland"]["restored"] += bool(fixed)
                if fixed:
                    f["farmland"]["restored_area_m2"] += c.area_m2 or 0.0
                f["farmland"]["restored_area_mu"] = f["farmland"]["restored_area_m2"] / M2_PER_MU
            else:
                issues = f["issues"]
                issues["found"] += found
                issues["rectified"] += bool(fixed)
                issues["overdue"] += bool(
                    c.deadline_on and c.deadline_on < end and status_at_end in STATUS_GROUPS["open"]
                )
                if c.source == "superior":
                    issues["superior"]["received"] += found
                    issues["superior"]["rectified"] += bool(fixed)
                if c.source == "patrol" and c.category in ENVIRONMENT_CATEGORIES:
                    issues["patrol_environment"]["found"] += found
                    issues["patrol_environment"]["rectified"] += bool(found and fixed)
    return {"town": town, "villages": villages}


def _same(a, b) -> bool:
    """Equal nested figures, floats equal to 1e-9 relative (sums in another order)."""
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def figures_agree(figures: dict, naive: dict) -> bool:
    """True if year_figures() and naive_figures() give the same town and village figures."""
    blocks = ("illegal_buildings", "farmland", "issues")
    ours = {v["code"]: {k: v[k] for k in blocks} for v in figures["villages"]}
    codes = set(ours) | set(naive["villages"])
    return _same({k: figures[k] for k in blocks}, naive["town"]) and all(
        _same(ours.get(code, empty_figures()), naive["villages"].get(code, empty_figures()))
        for code in codes
    )


def _grid(session: Session, code: str = "PG", row: int = 0) -> tuple[int, list[tuple[int, int]]]:
    """A town of 8 villages × 10 groups (boxes) in a row of towns; returns its id and
    (village_id, group_id) pairs. Cells are coded `code`, `code`VV, `code`VV-GG."""
    y = 30.0 + row * 0.01
    town = GridCell(level="town", code=code, name=f"第{row + 1}镇" if row else "平岗镇")
    town.set_boundary(shapely.box(113.0, y, 113.0 + VILLAGES * 0.01, y + 0.01))
    pairs_cells = []
    for v in range(VILLAGES):
        village = GridCell(level="village", code=f"{code}{v:02d}", name=f"第{v + 1}村", parent=town)
        village.set_boundary(shapely.box(113.0 + v * 0.01, y, 113.01 + v * 0.01, y + 0.01))
        for g in range(GROUPS_PER_VILLAGE):
            group = GridCell(
                level="group", code=f"{code}{v:02d}-{g:02d}", name=f"{g + 1}组", parent=village
            )
            x = 113.0 + v * 0.01 + g * 0.001
            group.set_boundary(shapely.box(x, y, x + 0.001, y + 0.01))
            pairs_cells.append((village, group))
    session.add(town)
    session.flush()
    return town.id, [(v.id, g.id) for v, g in pairs_cells]


def _history(rng: random.Random, found_on: date) -> list[tuple[str, date]]:
    """A plausible path through the statuses, dated from the day found."""
    day = found_on
    steps = [("reported", day)]
    if rng.random() < 0.04:
        return [*steps, ("void", day + timedelta(days=rng.randint(1, 20)))]
    stall = 0.02 if found_on < date(2023, 9, 1) else 0.3  # old cases are mostly closed
    for status in ("assigned", "in_progress", "done"):
        if rng.random() < stall:
            return steps
        day += timedelta(days=rng.randint(1, 60))
        steps.append((status, day))
    if rng.random() < 0.08:  # sent back and done again
        day += timedelta(days=rng.randint(1, 30))
        steps.append(("in_progress", day))
        if rng.random() < 0.7:
            day += timedelta(days=rng.randint(1, 60))
            steps.append(("done", day))
    if steps[-1][0] == "done" and rng.random() < 0.5:
        steps.append(("verified", day + timedelta(days=rng.randint(1, 30))))
    return steps


def build_cases(session: Session, n: int = N_CASES, seed: int = 1) -> None:
    """Bulk-insert a grid and n cases of three kinds, 2020–2023, with their histories."""
    rng = random.Random(seed)
    town_id, pairs = _grid(session)
    points = [shapely.Point(113.0 + i * 0.0007, 30.005) for i in range(100)]
    categories = sorted(CATEGORIES)
    now = utcnow()
    cases, changes = [], []
    for case_id in range(1, n + 1):
        kind = rng.choices(["issue", "illegal_building", "farmland"], [80, 12, 8])[0]
        found_on = date(2020, 1, 1) + timedelta(days=rng.randint(0, 4 * 365))
        village_id, group_id = rng.choice(pairs) if rng.random() > 0.01 else (None, None)
        steps = _history(rng, found_on)
        status = steps[-1][0]
        point = rng.choice(points)
        # As record_change leaves them: done_on cleared by a send-back, verified_on when verified.
        fixed = status in STATUS_GROUPS["fixed"]
        done_on = max((d for s, d in steps if s == "done"), default=None) if fixed else None
        verified_on = steps[-1][1] if status == "verified" else None
        cases.append(
            {
                "id": case_id,
                "kind": kind,
                "status": status,
                "source": rng.choice(["patrol", "patrol", "superior", "public", "hotline"]),
                "category": rng.choice(categories) if kind == "issue" else None,
                "title": f"案件{case_id}",
                "description": "",
                "found_on": found_on,
                "deadline_on": found_on + timedelta(days=rng.choice([15, 30, 90])),
                "done_on": done_on,
                "verified_on": verified_on,
                # The stored years by the app's own rules (its mapper event and record_change).
                **year_columns(status, found_on, done_on, verified_on),
                **history_columns(steps),
                "town_id": town_id if village_id is not None else None,
                "village_id": village_id,
                "group_id": group_id,
                "geom": point,
                "point_lon": point.x,
                "point_lat": point.y,
                "area_m2": rng.uniform(50, 5000) if kind != "issue" else None,
                "demolished_area_m2": rng.uniform(20, 300) if rng.random() < 0.3 else None,
                "created_at": now,
                "updated_at": now,
                "version": 1,
            }
        )
        changes.extend(
            {
                "case_id": case_id,
                "from_status": steps[i - 1][0] if i else None,
                "to_status": s,
                "at": now,
                "on": d,
                "note": "",
            }
            for i, (s, d) in enumerate(steps)
        )
    session.execute(insert(Case.__table__), cases)  # Core executemany: one statement
    session.execute(insert(StatusChange.__table__), changes)
    session.commit()


def _best_of(fn, repeat: int) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - started)
    return best, result


def _row(task: str, ours: float, baseline: float, goal_s: float, agree: bool, note: str) -> Row:
    return Row(
        task=task,
        ours=ours,
        baseline=baseline,
        unit="s",
        goal=f"< {goal_s} s",
        met=ours < goal_s and agree,
        higher_is_better=False,
        note=note if agree else "DIFFERS: " + note,
    )


def _analyze(engine) -> None:
    """Refresh the planner's statistics (and, on PostgreSQL, the visibility map), as autovacuum would."""
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        conn.execute(text("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"))


def _measure(engine, label: str) -> tuple[Row, float, dict]:
    """Build one town's cases, time both computations and check that they agree.

    Returns the row, the baseline's time and the figures (for the county rows).
    """
    with Session(engine) as session:
        build_cases(session)
    _analyze(engine)
    with Session(engine) as session:
        ours, figures = _best_of(lambda: year_figures(session, YEAR), 5)
    with Session(engine) as session:
        baseline, naive = _best_of(lambda: naive_figures(session, YEAR), 1)
    row = _row(
        f"year figures, one town of {N_CASES:,} cases ({label})",
        ours,
        baseline,
        GOAL_S,
        figures_agree(figures, naive),
        "same figures as the ORM loop over every case and its history",
    )
    return row, baseline, figures


def _copy_town(session: Session, copy: int) -> None:
    """Copy the first town's cases and histories into a new town of the same grid shape."""
    code = f"T{copy:02d}"
    town_id, _ = _grid(session, code, copy)
    offset = copy * N_CASES
    table = Case.__table__
    kept = [
        c.name
        for c in table.columns
        if c.name not in ("id", "client_id", "town_id", "village_id", "group_id")
    ]
    # PG03 → T0103, PG03-05 → T0103-05: the same village and group of the new town.
    session.execute(
        text(
            f"INSERT INTO cases (id, town_id, village_id, group_id, {', '.join(kept)}) "
            f"SELECT c.id + :offset, CASE WHEN c.village_id IS NULL THEN NULL ELSE :town END, "
            f"nv.id, ng.id, {', '.join('c.' + k for k in kept)} FROM cases c "
            "LEFT JOIN grid_cells ov ON ov.id = c.village_id "
            "LEFT JOIN grid_cells nv ON nv.code = :code || substr(ov.code, 3) "
            "LEFT JOIN grid_cells og ON og.id = c.group_id "
            "LEFT JOIN grid_cells ng ON ng.code = :code || substr(og.code, 3) "
            "WHERE c.id <= :n"
        ),
        {"offset": offset, "town": town_id, "code": code, "n": N_CASES},
    )
    session.execute(
        text(
            'INSERT INTO status_changes (case_id, from_status, to_status, at, "on", note) '
            'SELECT case_id + :offset, from_status, to_status, at, "on", note FROM status_changes '
            "WHERE case_id <= :n ORDER BY id"
        ),
        {"offset": offset, "n": N_CASES},
    )
    session.commit()


def _blocks(figures: dict) -> dict:
    return {k: figures[k] for k in ("illegal_buildings", "farmland", "issues")}


def _minus(a, b):
    """Nested figures a − b."""
    if isinstance(a, dict):
        return {k: _minus(a[k], b[k]) for k in a}
    return a - b


def _measure_county(engine, town_baseline: float, town_figures: dict) -> list[Row]:
    """Copy the town 19 times into a county of 20 and time the county and one town of it."""
    with Session(engine) as session:
        for copy in range(1, COUNTY_TOWNS):
            _copy_town(session, copy)
    _analyze(engine)
    with Session(engine) as session:
        county_s, county = _best_of(lambda: year_figures(session, YEAR), 5)
        town_s, town = _best_of(lambda: year_figures(session, YEAR, town_code="T07"), 5)
    # Every town holds the first town's cases but those outside the grid (the county's alone).
    outside = next((v for v in town_figures["villages"] if v["code"] is None), None)
    inside = _blocks(town_figures)
    if outside is not None:
        inside = _minus(inside, _blocks(outside))
    towns_agree = len(county["towns"]) == COUNTY_TOWNS and all(
        _same(_blocks(t), inside) for t in county["towns"]
    )
    return [
        _row(
            f"year figures, one town of a {COUNTY_TOWNS}-town county, {N_CASES:,} cases (PostGIS)",
            town_s,
            town_baseline,
            GOAL_S,
            _same(_blocks(town), inside),
            "= the one-town figures; baseline: the ORM loop over one town",
        ),
        _row(
            f"year figures, county of {COUNTY_TOWNS} × {N_CASES:,} cases (PostGIS)",
            county_s,
            town_baseline * COUNTY_TOWNS,
            COUNTY_GOAL_S,
            towns_agree,
            f"each town = the one-town figures; baseline: {COUNTY_TOWNS} × the one-town ORM loop",
        ),
    ]


def _postgis_engine(url: str):
    """An engine whose tables live in a schema of their own, emptied first."""
    admin = make_engine(url, pool_size=1)
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {SCHEMA}"))
    admin.dispose()
    sep = "&" if "?" in url else "?"
    return make_engine(f"{url}{sep}options=-csearch_path%3D{SCHEMA},public", pool_size=2)


def run() -> list[Row]:
    """Time the year figures on a temporary SQLite file and, if a URL is set, on PostGIS."""
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}")
        migrate.upgrade(engine)
        rows.append(_measure(engine, "SQLite")[0])
        engine.dispose()
    url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if url:
        engine = _postgis_engine(url)
        try:
            migrate.upgrade(engine)
            row, baseline, figures = _measure(engine, "PostGIS")
            rows.append(row)
            rows.extend(_measure_county(engine, baseline, figures))
        finally:
            with engine.begin() as conn:
                conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
            engine.dispose()
    return rows
