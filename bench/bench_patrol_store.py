"""Storing a phone's 1,000-fix batch: the domain call and its commit, on SQLite (and PostGIS), vs one row per fix.

Each run grows one patrol batch by batch to 14 batches (14,000 fixes, a 4-hour patrol at about a
fix a second), so the later batches pay for re-cleaning the whole patrol, as they do in the app.
The baseline stores a row per fix through the ORM and measures the patrol again with a per-fix
pyproj loop. Not the `make load` figure (40 users over HTTP): one writer, no network.
"""

import os
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from pyproj import Geod
from sqlalchemy import Column, Float, Integer, MetaData, Table, select, text

from bench.table import Row

BATCHES, FIXES = 14, 1000
GOAL_MS = 100.0
SCHEMA = "bench_patrol_store"
GEOD = Geod(ellps="GRS80")


def _fixes(batch: int, start: datetime) -> list[list]:
    """1,000 fixes walking a town's lanes, 1 s apart: [lon, lat, t ms, accuracy m]."""
    rng = np.random.default_rng(batch)
    i = np.arange(batch * FIXES, (batch + 1) * FIXES)
    lon = 113.001 + (i % 400) * 1.2e-5 + rng.normal(0, 2e-6, FIXES)
    lat = 30.001 + (i // 400) * 1e-4 + rng.normal(0, 2e-6, FIXES)
    t_ms = (start.timestamp() + i) * 1000
    accuracy = rng.gamma(2, 6, FIXES)
    return np.column_stack([lon, lat, t_ms, accuracy]).tolist()


def _app(url: str | None, tmp: Path):
    """An app on a fresh database (SQLite in tmp, or a schema of the PostGIS URL) with one 网格员."""
    from app import create_app
    from inspection import db, migrate
    from inspection.accounts.models import User

    if url:
        from inspection.db import make_engine

        engine = make_engine(url, pool_size=1)
        with engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {SCHEMA}"))
        engine.dispose()
        sep = "&" if "?" in url else "?"
        url = f"{url}{sep}options=-csearch_path%3D{SCHEMA},public"
    app = create_app(
        {"TESTING": True, "SECRET_KEY": "bench", "PHOTO_DIR": str(tmp / "photos"),
         "DATABASE_URL": url or f"sqlite:///{tmp / 'bench.sqlite3'}"}
    )  # fmt: skip
    with app.app_context():
        migrate.upgrade(db.engine())
        db.session.add(
            User(username="wgy", display_name="网格员", role="grid_member", password_hash="x")
        )
        db.session.commit()
    return app


def _ours(app) -> list[float]:
    """Milliseconds to store each batch with recording.add_batch and commit."""
    from inspection import db
    from inspection.accounts.models import User
    from inspection.patrols.recording import add_batch

    start = datetime.now(UTC) - timedelta(hours=5)
    times = []
    with app.app_context():
        session = db.session()
        user = session.scalar(select(User))
        for b in range(BATCHES):
            fixes = _fixes(b, start)
            began = time.perf_counter()
            add_batch(session, user, "bench-patrol-0001", f"b-{b:07d}", fixes, app.config)
            session.commit()
            times.append((time.perf_counter() - began) * 1000)
    return times


def _naive(app) -> list[float]:
    """Milliseconds per batch for a row per fix (ORM-free inserts) and a per-fix pyproj re-measure."""
    from inspection import db

    table = Table(
        "bench_fixes", MetaData(), Column("id", Integer, primary_key=True),
        *[Column(n, Float) for n in ("lon", "lat", "t_ms", "accuracy_m")],
    )  # fmt: skip
    start = datetime.now(UTC) - timedelta(hours=5)
    times = []
    with app.app_context():
        engine = db.engine()
        table.create(engine)
        for b in range(BATCHES):
            fixes = _fixes(b, start)
            began = time.perf_counter()
            with engine.begin() as conn:
                for lon, lat, t_ms, accuracy in fixes:
                    conn.execute(
                        table.insert().values(lon=lon, lat=lat, t_ms=t_ms, accuracy_m=accuracy)
                    )
                rows = conn.execute(select(table).order_by(table.c.t_ms)).all()
            length_m, last = 0.0, None
            for row in rows:
                if row.accuracy_m > 50:
                    continue
                if last is not None:
                    length_m += GEOD.inv(last.lon, last.lat, row.lon, row.lat)[2]
                last = row
            times.append((time.perf_counter() - began) * 1000)
    return times


def _drop_schema(url: str) -> None:
    """Remove the bench's PostGIS schema."""
    from inspection.db import make_engine

    engine = make_engine(url, pool_size=1)
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
    engine.dispose()


def _p95(values: list[float]) -> float:
    return float(np.percentile(values, 95))


def run() -> list[Row]:
    """Time storing 14 batches of 1,000 fixes on each backend, beside the row-per-fix baseline."""
    rows = []
    backends = [("SQLite", None)]
    if os.environ.get("TEST_DATABASE_URL"):
        backends.append(("PostGIS", os.environ["TEST_DATABASE_URL"]))
    for name, url in backends:
        with tempfile.TemporaryDirectory(prefix="bench-patrol-") as tmp:
            app = _app(url, Path(tmp))
            ours, naive = _ours(app), _naive(app)
            app.extensions["db_engine"].dispose()
        if url:
            _drop_schema(url)
        rows.append(
            Row(
                f"store a 1,000-fix batch (p95 of {BATCHES}), {name}",
                _p95(ours),
                _p95(naive),
                "ms",
                f"< {GOAL_MS:g}",
                _p95(ours) < GOAL_MS,
                higher_is_better=False,
                note=f"last batch {ours[-1]:.0f} ms (re-cleans {BATCHES * FIXES:,} fixes); baseline: a row "
                "per fix and a per-fix pyproj re-measure; one writer, no HTTP",
            )
        )
    return rows
