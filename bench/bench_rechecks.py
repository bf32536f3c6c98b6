"""The daily 回头看 run over 100,000 cases (40,000 closed buildings and parcels) on SQLite.

Ours: `schedule_rechecks`, whose one query reads only the closures with no re-check yet (NOT EXISTS on
the unique key). Baseline: every closed building and parcel loaded, and each one's re-checks asked
for in its own query. The first run creates the re-checks of the closures that are due; the daily
figure is the run after it, when nothing more is due: what `flask rechecks schedule` costs each day.
"""

import random
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import shapely
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from bench.bench_report import _grid
from bench.table import Row
from inspection import migrate
from inspection.accounts.models import User, user_cells
from inspection.cases.models import Case
from inspection.clock import utcnow
from inspection.db import make_engine
from inspection.rechecks.models import Recheck
from inspection.rechecks.schedule import KINDS, schedule_rechecks

N_CASES = 100_000
CLOSED_SHARE = 0.4
TODAY = date(2026, 12, 8)
DAYS, WINDOW = 90, 30
GOAL_S = 1.0


def build(session: Session) -> None:
    """One town of 80 groups with a 网格员 each; N_CASES cases, 40 % closed buildings and parcels
    verified over the last two years, the rest open issues."""
    rng = random.Random(11)
    _town_id, pairs = _grid(session)
    now = utcnow()
    users = [
        {"id": n + 1, "username": f"u{n}", "display_name": f"网格员{n}", "role": "grid_member",
         "password_hash": "-", "active": True, "session_version": 1, "created_at": now}
        for n in range(len(pairs))
    ]  # fmt: skip
    session.execute(insert(User.__table__), users)
    session.execute(
        insert(user_cells), [{"user_id": n + 1, "cell_id": g} for n, (_, g) in enumerate(pairs)]
    )
    point = shapely.Point(113.0, 30.005)
    cases = []
    for case_id in range(1, N_CASES + 1):
        village_id, group_id = rng.choice(pairs)
        closed = rng.random() < CLOSED_SHARE
        verified_on = TODAY - timedelta(days=rng.randint(1, 730)) if closed else None
        found_on = (verified_on or TODAY) - timedelta(days=rng.randint(10, 200))
        cases.append(
            {
                "id": case_id, "kind": rng.choice(KINDS) if closed else "issue",
                "status": "verified" if closed else "assigned", "source": "patrol",
                "title": f"案件{case_id}", "description": "", "found_on": found_on,
                "done_on": verified_on, "verified_on": verified_on, "found_year": found_on.year,
                "fixed_year": verified_on.year if closed else None, "needs_history": False,
                "town_id": _town_id, "village_id": village_id, "group_id": group_id,
                "geom": point, "point_lon": point.x, "point_lat": point.y,
                "created_at": now, "updated_at": now, "version": 1,
            }
        )  # fmt: skip
    session.execute(insert(Case.__table__), cases)
    session.commit()


def naive_waiting(session: Session, today: date) -> list[int]:
    """The baseline: each closed building or parcel loaded, and its re-checks asked for one by one."""
    waiting = []
    for case in session.scalars(
        select(Case).where(Case.kind.in_(KINDS), Case.status == "verified")
    ):
        if case.verified_on > today - timedelta(days=DAYS):
            continue
        closed_on = session.scalars(select(Recheck.closed_on).where(Recheck.case_id == case.id))
        if case.verified_on not in set(closed_on):
            waiting.append(case.id)
    return waiting


def run() -> list[Row]:
    """Time the first and the next day's run of the schedule, and the baseline's next day."""
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        migrate.upgrade(engine)
        with Session(engine) as session:
            build(session)
        with Session(engine) as session:
            started = time.perf_counter()
            created = schedule_rechecks(session, TODAY, days=DAYS, window_days=WINDOW)
            session.commit()
            first_s, first_n = time.perf_counter() - started, len(created)
        with Session(engine) as session:
            started = time.perf_counter()
            again = schedule_rechecks(
                session, TODAY + timedelta(days=1), days=DAYS, window_days=WINDOW
            )
            session.rollback()
            daily_s = time.perf_counter() - started
        with Session(engine) as session:
            started = time.perf_counter()
            naive = naive_waiting(session, TODAY + timedelta(days=1))
            baseline_s = time.perf_counter() - started
        engine.dispose()
    agree = {r.case_id for r in again} == set(naive)
    return [
        Row(
            task=f"daily 回头看 run, {N_CASES // 1000} k cases (SQLite)",
            ours=daily_s,
            baseline=baseline_s,
            unit="s",
            goal=f"< {GOAL_S:g} s",
            met=daily_s < GOAL_S and agree,
            higher_is_better=False,
            note=("" if agree else "DIFFERS: ")
            + f"{len(again)} due that day; the first run created {first_n:,} in {first_s:.1f} s; "
            "baseline: each closure's re-checks asked for one by one",
        )
    ]
