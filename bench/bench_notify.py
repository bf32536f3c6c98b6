"""`flask notify` over 100,000 open cases on SQLite and PostGIS: the set-based pass (one INSERT …
SELECT per tier and recipient kind, then the webhook's digest) vs a per-case Python loop."""

import os
import random
import tempfile
import threading
import time
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import shapely
from sqlalchemy import delete, insert, select, text
from sqlalchemy.orm import Session

from bench.bench_report import _grid
from bench.table import Row
from inspection import migrate
from inspection.accounts.models import User, user_cells
from inspection.alerts.models import Alert, Webhook
from inspection.alerts.notify import notify
from inspection.alerts.rules import alert_rules
from inspection.cases.models import Case
from inspection.clock import utcnow
from inspection.db import make_engine
from inspection.grid.models import GridCell
from inspection.settings import defaults
from inspection.vocab import STATUS_GROUPS

N_CASES = 100_000
TODAY = date(2026, 6, 15)
GOAL_S = 2.0
SCHEMA = "bench_notify"


def build(session: Session, receiver_url: str) -> None:
    """A town of 80 groups, a 网格员 per group, a head per village, 2 supervisors, 2 county users,
    N_CASES open cases due from 30 days ago to 90 days ahead, and one JSON webhook (all tiers)."""
    rng = random.Random(7)
    town_id, pairs = _grid(session)
    users, ties = [], []
    cells = {c.id: c for c in session.scalars(select(GridCell))}
    for n, cell in enumerate(c for c in cells.values() if c.level in ("group", "village")):
        users.append(
            {"id": n + 1, "username": f"u{n}", "display_name": cell.name, "role": "grid_member"}
        )
        ties.append({"user_id": n + 1, "cell_id": cell.id})
    base = len(users)
    for k, role in enumerate(("supervisor", "supervisor", "county", "county")):
        users.append({"id": base + k + 1, "username": f"r{k}", "display_name": role, "role": role})
        if role == "supervisor":
            ties.append({"user_id": base + k + 1, "cell_id": town_id})
    now = utcnow()
    for u in users:
        u |= {"password_hash": "-", "active": True, "session_version": 1, "created_at": now}
    session.execute(insert(User.__table__), users)
    session.execute(insert(user_cells), ties)
    point = shapely.Point(113.0, 30.005)
    statuses = sorted(STATUS_GROUPS["open"])
    cases = []
    for case_id in range(1, N_CASES + 1):
        village_id, group_id = rng.choice(pairs)
        found_on = TODAY - timedelta(days=rng.randint(30, 400))
        cases.append(
            {
                "id": case_id,
                "kind": "issue",
                "status": rng.choice(statuses),
                "source": rng.choice(["patrol", "patrol", "superior", "public", "hotline"]),
                "category": "garbage",
                "title": f"案件{case_id}",
                "description": "",
                "found_on": found_on,
                "deadline_on": TODAY + timedelta(days=rng.randint(-30, 90)),
                "found_year": found_on.year,
                "run_year": found_on.year,
                "needs_history": False,
                "town_id": town_id,
                "village_id": village_id,
                "group_id": group_id,
                "geom": point,
                "point_lon": point.x,
                "point_lat": point.y,
                "created_at": now,
                "updated_at": now,
                "version": 1,
            }
        )
    session.execute(insert(Case.__table__), cases)
    session.add(Webhook(url=receiver_url, format="json", scope="", tiers=["blue", "yellow", "red"]))
    session.commit()


def naive_alerts(session: Session, today: date) -> set:
    """The baseline: every open case with a deadline as an ORM object, its tier and people found in
    a Python loop, each alert added as an ORM object (the same alerts as compute_alerts)."""
    rules = alert_rules(session)
    tied: dict[int, list[User]] = {}
    for user in session.scalars(select(User).where(User.active.is_(True))):
        for cell in user.cells:
            tied.setdefault(cell.id, []).append(user)
    county = session.scalars(select(User).where(User.role == "county", User.active.is_(True))).all()
    codes = {c.id: c.code for c in session.scalars(select(GridCell))}
    made = set()
    now = utcnow()
    for case in session.scalars(select(Case)):
        if case.deadline_on is None or case.status not in STATUS_GROUPS["open"]:
            continue
        late = (today - case.deadline_on).days
        red = late > rules["red"].days or (late > 0 and case.source in rules["red"].red_sources)
        if red:
            tier = "red"
        elif late > rules["yellow"].days:
            tier = "yellow"
        elif -rules["blue"].days <= late <= 0:
            tier = "blue"
        else:
            continue
        people = set()
        for kind in rules[tier].recipients:
            if kind == "member":
                people |= {u.id for u in tied.get(case.group_id, ())}
            elif kind == "village_head":
                people |= {u.id for u in tied.get(case.village_id, ())}
            elif kind == "supervisor":
                people |= {u.id for u in tied.get(case.town_id, ()) if u.role == "supervisor"}
            else:
                people |= {u.id for u in county}
        for user_id in people:
            made.add((case.id, tier, user_id))
            session.add(
                Alert(
                    source_kind="case", source_id=case.id, tier=tier, recipient_id=user_id, day=today,
                    due_on=case.deadline_on, title=case.title, cell_code=codes.get(case.group_id, ""),
                    created_at=now,
                )
            )  # fmt: skip
    session.commit()
    return made


def _stored(session: Session, day: date) -> set:
    rows = session.execute(
        select(Alert.source_id, Alert.tier, Alert.recipient_id).where(Alert.day == day)
    )
    return {tuple(r) for r in rows}


class _Sink(BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def _measure(engine, label: str, receiver_url: str) -> Row:
    with Session(engine) as session:
        build(session, receiver_url)
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        conn.execute(text("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"))
    config = defaults() | {"PUBLIC_URL": "https://xuncha.example.cn"}
    times, counts = [], []
    for offset in range(3):  # three days, each a first pass (new alerts for every due case)
        with Session(engine) as session:
            started = time.perf_counter()
            counts.append(notify(session, TODAY + timedelta(days=offset), config))
            times.append(time.perf_counter() - started)
    with Session(engine) as session:
        ours = _stored(session, TODAY)
        session.execute(delete(Alert).where(Alert.day == TODAY))
        session.commit()
        started = time.perf_counter()
        naive = naive_alerts(session, TODAY)
        baseline = time.perf_counter() - started
    agree = naive == ours and all(c["sent"] == 1 for c in counts)
    best = min(times)
    return Row(
        task=f"notify over {N_CASES // 1000} k open cases ({label})",
        ours=best,
        baseline=baseline,
        unit="s",
        goal=f"< {GOAL_S:g} s",
        met=best < GOAL_S and agree,
        higher_is_better=False,
        note=("" if agree else "DIFFERS: ")
        + f"{counts[0]['alerts']:,} alerts + 1 digest sent; best of 3 days "
        f"({', '.join(f'{t:.2f}' for t in times)} s); baseline: ORM loop per case",
    )


def run() -> list[Row]:
    """Time one notifier pass on a temporary SQLite file and, with a URL set, on PostGIS."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Sink)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/robot"
    rows = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}")
            migrate.upgrade(engine)
            rows.append(_measure(engine, "SQLite", url))
            engine.dispose()
        pg = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
        if pg:
            admin = make_engine(pg, pool_size=1)
            with admin.begin() as conn:
                conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
                conn.execute(text(f"CREATE SCHEMA {SCHEMA}"))
            sep = "&" if "?" in pg else "?"
            engine = make_engine(f"{pg}{sep}options=-csearch_path%3D{SCHEMA},public", pool_size=2)
            try:
                migrate.upgrade(engine)
                rows.append(_measure(engine, "PostGIS", url))
            finally:
                engine.dispose()
                with admin.begin() as conn:
                    conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
                admin.dispose()
    finally:
        server.shutdown()
        server.server_close()
    return rows
