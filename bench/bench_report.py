"""Year figures over 100,000 cases on SQLite (and PostGIS): one aggregate query vs an ORM loop."""

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
from inspection.cases.models import Case, StatusChange
from inspection.clock import utcnow
from inspection.db import make_engine
from inspection.grid.models import GridCell
from inspection.reporting.figures import empty_figures, year_figures
from inspection.vocab import CATEGORIES, ENVIRONMENT_CATEGORIES, M2_PER_MU, STATUS_GROUPS

N_CASES = 100_000
YEAR = 2022
GOAL_S = 0.5
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


def _grid(session: Session) -> list[tuple[int, int]]:
    """A town of 8 villages × 10 groups (boxes); returns (village_id, group_id) pairs."""
    town = GridCell(level="town", code="PG", name="平岗镇")
    town.set_boundary(shapely.box(113.0, 30.0, 113.0 + VILLAGES * 0.01, 30.01))
    pairs_cells = []
    for v in range(VILLAGES):
        village = GridCell(level="village", code=f"PG{v:02d}", name=f"第{v + 1}村", parent=town)
        village.set_boundary(shapely.box(113.0 + v * 0.01, 30.0, 113.01 + v * 0.01, 30.01))
        for g in range(GROUPS_PER_VILLAGE):
            group = GridCell(
                level="group", code=f"PG{v:02d}-{g:02d}", name=f"{g + 1}组", parent=village
            )
            x = 113.0 + v * 0.01 + g * 0.001
            group.set_boundary(shapely.box(x, 30.0, x + 0.001, 30.01))
            pairs_cells.append((village, group))
    session.add(town)
    session.flush()
    return [(v.id, g.id) for v, g in pairs_cells]


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
    pairs = _grid(session)
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
                "done_on": max((d for s, d in steps if s == "done"), default=None),
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


def _measure(engine, label: str) -> Row:
    """Build the cases, time both computations and check that they agree."""
    with Session(engine) as session:
        build_cases(session)
    with Session(engine) as session:
        ours, figures = _best_of(lambda: year_figures(session, YEAR), 3)
    with Session(engine) as session:
        baseline, naive = _best_of(lambda: naive_figures(session, YEAR), 1)
    agree = figures_agree(figures, naive)
    return Row(
        task=f"year figures, {N_CASES:,} cases ({label})",
        ours=ours,
        baseline=baseline,
        unit="s",
        goal=f"< {GOAL_S} s",
        met=ours < GOAL_S and agree,
        higher_is_better=False,
        note="same figures as the ORM loop" if agree else "DIFFERS from the ORM loop",
    )


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
        rows.append(_measure(engine, "SQLite"))
        engine.dispose()
    url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if url:
        engine = _postgis_engine(url)
        try:
            migrate.upgrade(engine)
            rows.append(_measure(engine, "PostGIS"))
        finally:
            with engine.begin() as conn:
                conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
            engine.dispose()
    return rows
