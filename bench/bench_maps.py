"""Benchmark the town map with 10,000 and 100,000 cases: server build, bytes, and Chromium open/zoom times.

The baseline is the naive folium page: one CircleMarker with a popup per case, all in the HTML.
Browser figures come from headless Chromium (Playwright), timed from navigation start until the
cases are drawn (MapApp's ready event; for the baseline, the load event plus a frame).
"""

import contextlib
import gc
import os
import statistics
import sys
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import folium
import numpy as np
import shapely
from sqlalchemy import insert

from app import create_app
from bench.table import Row
from geodata import assets
from geodata.maps import GROUP_COLORS, MAP_GROUPS
from geodata.synthetic import make_town
from inspection import db, migrate
from inspection.accounts.models import User
from inspection.cases.models import Case
from inspection.grid.models import GridCell

SIZES = (10_000, 100_000)
CHROMIUM = os.environ.get("CHROMIUM_PATH") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
BASELINE_TIMEOUT_S = 300
READY_SCRIPT = """
document.addEventListener('mapapp:ready', () => {
  if (!window.__ready) window.__ready = performance.now();
  window.__last = performance.now();
}, true);
window.addEventListener('load', () => requestAnimationFrame(() => { window.__loaded = performance.now(); }));
"""
MAP = "window[document.querySelector('.folium-map').id]"
KINDS = np.array(["issue", "illegal_building", "farmland"])
STATUSES = np.array(list(MAP_GROUPS))
SOURCES = np.array(["patrol", "superior", "public", "hotline"])
M_PER_DEG_LAT = 110_574.0


def seed_cases(app, n_cases: int, seed: int = 7) -> None:
    """The synthetic town 平岗镇 with a supervisor and n_cases random cases inside its groups."""
    grid = make_town(seed=2022)
    rng = np.random.default_rng(seed)
    with app.app_context():
        s = db.session()
        cells: dict[str, GridCell] = {}
        for row in grid.itertuples():
            cell = GridCell(level=row.level, code=row.code, name=row.name)
            cell.parent = cells.get(row.parent_code) if isinstance(row.parent_code, str) else None
            cell.set_boundary(row.geometry)
            s.add(cell)
            cells[row.code] = cell
        user = User(username="zhangzhen", display_name="张振", role="supervisor")
        user.set_password("demo1234")
        user.cells = [cells["PG"]]
        s.add(user)
        s.commit()
        groups = [c for c in cells.values() if c.level == "group"]
        tree = shapely.STRtree([c.boundary for c in groups])
        west, south, east, north = cells["PG"].boundary.bounds
        lon = rng.uniform(west, east, n_cases * 2)
        lat = rng.uniform(south, north, n_cases * 2)
        hit_point, hit_group = tree.query(shapely.points(lon, lat), predicate="within")
        _first, keep = np.unique(hit_point, return_index=True)
        order = hit_point[keep][:n_cases]
        lon, lat, group_pos = lon[order], lat[order], hit_group[keep][:n_cases]
        n = len(lon)
        kinds = rng.choice(KINDS, n, p=[0.5, 0.25, 0.25])
        statuses = rng.choice(STATUSES, n)
        sources = rng.choice(SOURCES, n)
        found = [date(2023, 1, 1) + timedelta(days=int(d)) for d in rng.integers(0, 1000, n)]
        half_m = np.where(kinds == "farmland", rng.uniform(25, 60, n), rng.uniform(4, 10, n))
        half_lat = half_m / M_PER_DEG_LAT
        half_lon = half_lat / np.cos(np.radians(lat))
        boxes = shapely.box(lon - half_lon, lat - half_lat, lon + half_lon, lat + half_lat)
        rows = []
        for i in range(n):
            square = kinds[i] != "issue"
            group = groups[int(group_pos[i])]
            rows.append(
                {
                    "kind": str(kinds[i]),
                    "status": str(statuses[i]),
                    "source": str(sources[i]),
                    "title": f"案件 {i}",
                    "description": "",
                    "found_on": found[i],
                    "deadline_on": found[i] + timedelta(days=30),
                    "town_id": cells["PG"].id,
                    "village_id": group.parent_id,
                    "group_id": group.id,
                    "geom": boxes[i] if square else shapely.Point(lon[i], lat[i]),
                    "point_lon": float(lon[i]),
                    "point_lat": float(lat[i]),
                    "area_m2": float((2 * half_m[i]) ** 2) if square else None,
                    "min_lon": float(lon[i] - half_lon[i]) if square else float(lon[i]),
                    "max_lon": float(lon[i] + half_lon[i]) if square else float(lon[i]),
                    "min_lat": float(lat[i] - half_lat[i]) if square else float(lat[i]),
                    "max_lat": float(lat[i] + half_lat[i]) if square else float(lat[i]),
                }
            )
        with db.engine().begin() as conn:
            for start in range(0, n, 20_000):
                conn.execute(insert(Case.__table__), rows[start : start + 20_000])


def baseline_html(app) -> tuple[str, float]:
    """The naive page (a CircleMarker with a popup per case, vendored assets) and its build time (s)."""
    with app.app_context():
        rows = db.session().query(Case.id, Case.title, Case.status, Case.point_lat, Case.point_lon)
        rows = rows.all()
    start = time.perf_counter()
    lats, lons = [r.point_lat for r in rows], [r.point_lon for r in rows]
    m = folium.Map(location=[np.mean(lats), np.mean(lons)], zoom_start=14, tiles=None, maxZoom=19)
    for r in rows:
        color = GROUP_COLORS[MAP_GROUPS[r.status]]
        folium.CircleMarker(
            [r.point_lat, r.point_lon],
            radius=6,
            color=color,
            fill=True,
            popup=folium.Popup(f'{r.title}<br><a href="/cases/{r.id}">查看</a>'),
        ).add_to(m)
    html = assets.render_local(m)
    return html, time.perf_counter() - start


def with_page(app, path: str, html: str):
    """A WSGI app answering path with the HTML page and everything else with app."""
    body = html.encode()

    def wsgi(environ, start_response):
        if environ.get("PATH_INFO") != path:
            return app(environ, start_response)
        headers = [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body)))]
        start_response("200 OK", headers)
        return [body]

    return wsgi


class Server:
    """A WSGI app served on 127.0.0.1 and a free port, in a thread."""

    def __init__(self, app):
        from werkzeug.serving import WSGIRequestHandler, make_server

        class QuietHandler(WSGIRequestHandler):
            def log_request(self, *args, **kwargs):  # keep the table readable: no access log
                pass

        self.server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.thread.join()
        self.server.server_close()


def median_seconds(function, repeat: int = 5) -> float:
    """The median wall time of `repeat` calls, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def server_figures(app, feed_url: str) -> tuple[float, int]:
    """Seconds to build the town page plus its first feed, and their bytes together."""
    client = app.test_client()
    client.post("/auth/login", data={"username": "zhangzhen", "password": "demo1234"})
    page = client.get("/map")
    assert page.status_code == 200, page.status_code
    feed = client.get(feed_url)
    assert feed.status_code == 200, feed.status_code
    seconds = median_seconds(lambda: (client.get("/map"), client.get(feed_url)))
    return seconds, len(page.data) + len(feed.data)


def login(page, base: str) -> None:
    """Log the supervisor in through the form."""
    page.goto(f"{base}/auth/login")
    page.fill("input[name=username]", "zhangzhen")
    page.fill("input[name=password]", "demo1234")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def our_figures(browser, base: str) -> dict:
    """Open our town map in Chromium: ms until drawn, slowest zoom-in redraw, first feed URL."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.add_init_script(READY_SCRIPT)
    feeds: list[str] = []
    page.on("request", lambda r: feeds.append(r.url) if "data.geojson" in r.url else None)
    login(page, base)
    page.goto(f"{base}/map")
    page.wait_for_function("window.__ready", timeout=60_000)
    figures = {
        "open_ms": page.evaluate("window.__ready"),
        "feed": feeds[0].removeprefix(base),
        "drawn": page.evaluate(f"MapApp.stats({MAP}).cases"),
    }
    zooms = []
    for _step in range(3):
        page.evaluate("window.__last = 0; window.__t0 = performance.now()")
        page.evaluate(f"{MAP}.setZoom({MAP}.getZoom() + 1)")
        page.wait_for_function("window.__last > 0", timeout=60_000)
        zooms.append(page.evaluate("window.__last - window.__t0"))
    figures["zoom_ms"] = max(zooms)
    context.close()
    return figures


def baseline_figures(launch, base: str) -> dict:
    """Open the naive page (served at /baseline.html) in its own Chromium: ms until drawn, zoom."""
    browser = launch()
    started = time.perf_counter()
    try:
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.add_init_script(READY_SCRIPT)
        timeout_ms = BASELINE_TIMEOUT_S * 1000
        page.goto(f"{base}/baseline.html", timeout=timeout_ms)
        page.wait_for_function("window.__loaded", timeout=timeout_ms)
        figures = {"open_ms": page.evaluate("window.__loaded")}
        page.evaluate(
            f"window.__z = 0; {MAP}.once('zoomend', () => requestAnimationFrame(() => "
            f"{{ window.__z = performance.now(); }})); window.__t0 = performance.now();"
            f" {MAP}.setZoom({MAP}.getZoom() + 1)"
        )
        page.wait_for_function("window.__z > 0", timeout=timeout_ms)
        figures["zoom_ms"] = page.evaluate("window.__z - window.__t0")
        return figures
    except Exception as exc:  # a page too big to open: say so instead of a number
        seconds = time.perf_counter() - started
        return {
            "open_ms": float("nan"),
            "zoom_ms": float("nan"),
            "note": f"baseline never drew: {type(exc).__name__} after {seconds:.0f} s",
        }
    finally:
        with contextlib.suppress(Exception):  # already gone with a crashed page
            browser.close()


def run_size(n_cases: int, launch) -> list[Row]:
    """All rows for one town size."""
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {
                "TESTING": True,
                "WTF_CSRF_ENABLED": False,
                "SECRET_KEY": "bench",
                "DATABASE_URL": f"sqlite:///{Path(tmp) / 'bench.sqlite3'}",
                "PHOTO_DIR": str(Path(tmp) / "photos"),
            }
        )
        with app.app_context():
            migrate.upgrade(app.extensions["db_engine"])
        print(f"  seeding {n_cases:,} cases …", file=sys.stderr, flush=True)
        seed_cases(app, n_cases)
        label = f"town map, {n_cases:,} cases"
        figures, base_figures = {}, {}
        feed = "/map/data.geojson?bbox=113.55,29.80,113.70,29.90&zoom=13"
        if launch is not None:
            with Server(app) as server:
                browser = launch()
                figures = our_figures(browser, server.base)
                browser.close()
            feed = figures["feed"]
        build_s, page_bytes = server_figures(app, feed)
        # The baseline comes last: its hundred thousand folium elements would slow our server's
        # garbage collections if they were still in memory.
        print("  building the baseline page …", file=sys.stderr, flush=True)
        baseline, baseline_build_s = baseline_html(app)
        baseline_mb = len(baseline.encode()) / 1e6
        gc.collect()
        if launch is not None:
            with Server(with_page(app, "/baseline.html", baseline)) as server:
                base_figures = baseline_figures(launch, server.base)
        del baseline
        rows.append(
            Row(
                f"{label}: server build (page + first data)",
                build_s,
                baseline_build_s,
                "s",
                "< 0.3 s" if n_cases <= 10_000 else "—",
                build_s < 0.3 or n_cases > 10_000,
                higher_is_better=False,
            )
        )
        rows.append(
            Row(
                f"{label}: page + first data",
                page_bytes / 1e6,
                baseline_mb,
                "MB",
                "< 1 MB" if n_cases <= 10_000 else "—",
                page_bytes < 1e6 or n_cases > 10_000,
                higher_is_better=False,
            )
        )
        if launch is not None:
            rows.append(
                Row(
                    f"{label}: open in Chromium until drawn",
                    figures["open_ms"] / 1000,
                    base_figures["open_ms"] / 1000,
                    "s",
                    "< 3 s",
                    figures["open_ms"] < 3000,
                    higher_is_better=False,
                    note=base_figures.get("note", f"{figures['drawn']:,} cases drawn"),
                )
            )
            rows.append(
                Row(
                    f"{label}: zoom in one step until redrawn",
                    figures["zoom_ms"] / 1000,
                    base_figures["zoom_ms"] / 1000,
                    "s",
                    "< 1 s (ours)",
                    figures["zoom_ms"] < 1000,
                    higher_is_better=False,
                    note="slowest of three steps",
                )
            )
        app.extensions["db_engine"].dispose()
    return rows


def run() -> list[Row]:
    """Measure both town sizes; browser rows only when Chromium and Playwright are there."""
    rows = []
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    if sync_playwright is None or not Path(CHROMIUM).exists():
        for n in SIZES:
            rows += run_size(n, None)
        return rows
    with sync_playwright() as p:

        def launch():
            return p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)

        for n in SIZES:
            rows += run_size(n, launch)
    return rows
