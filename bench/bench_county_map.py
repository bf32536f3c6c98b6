"""Benchmark the county map of 20 towns and a town map with 100,000 cases, through the test client.

On PostGIS when BENCH_DATABASE_URL or TEST_DATABASE_URL is set (a schema of its own), else SQLite.
Baselines, naive ways to the same pages: for the county, every case loaded as an ORM object and
counted in Python, then a folium GeoJson with a style function and a marker per town; for the town,
every case of it as a folium CircleMarker with a popup in the HTML.
"""

import os
import re
import sys
import tempfile
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import folium
import numpy as np
import shapely
from sqlalchemy import insert, select, text

from app import create_app
from bench.bench_maps import median_seconds
from bench.table import Row
from geodata import assets
from geodata.maps import GROUP_COLORS, MAP_GROUPS
from geodata.maps.choropleth import CLASS_COLORS, class_index, count_classes
from inspection import clock, db, migrate
from inspection.accounts.models import User
from inspection.cases.models import Case
from inspection.db import make_engine
from inspection.grid.models import GridCell
from inspection.ops.demo import store_grid
from inspection.ops.demo_county import town_frame
from inspection.vocab import STATUS_GROUPS

TOWNS = 20
BIG_TOWN_CASES = 100_000
OTHER_TOWN_CASES = 500
TODAY = date(2026, 11, 20)
SCHEMA = "bench_county_map"
COUNTY_GOAL_S, TOWN_GOAL_S = 0.5, 1.0
KINDS = np.array(["issue", "illegal_building", "farmland"])
STATUSES = np.array(list(MAP_GROUPS))
M_PER_DEG_LAT = 110_574.0
BATCH = 20_000


def _app(tmp: Path, url: str | None):
    """An app on a migrated database: the PostGIS URL in SCHEMA (emptied), else a SQLite file."""
    if url:
        admin = make_engine(url, pool_size=1)
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {SCHEMA}"))
        admin.dispose()
        sep = "&" if "?" in url else "?"
        url = f"{url}{sep}options=-csearch_path%3D{SCHEMA},public"
    app = create_app(
        {
            "TESTING": True,
            "WTF_CSRF_ENABLED": False,
            "SECRET_KEY": "bench",
            "DATABASE_URL": url or f"sqlite:///{tmp / 'bench.sqlite3'}",
            "PHOTO_DIR": str(tmp / "photos"),
        }
    )
    with app.app_context():
        migrate.upgrade(app.extensions["db_engine"])
    return app


def _case_rows(rng, town: GridCell, groups: list[GridCell], n: int) -> list[dict]:
    """n random cases inside the town's groups, as rows for a bulk insert (lon/lat EPSG:4326)."""
    tree = shapely.STRtree([g.boundary for g in groups])
    west, south, east, north = town.boundary.bounds
    lon = rng.uniform(west, east, n * 2)
    lat = rng.uniform(south, north, n * 2)
    hit_point, hit_group = tree.query(shapely.points(lon, lat), predicate="within")
    _first, keep = np.unique(hit_point, return_index=True)
    order = hit_point[keep][:n]
    lon, lat, group_pos = lon[order], lat[order], hit_group[keep][:n]
    n = len(lon)
    kinds = rng.choice(KINDS, n, p=[0.5, 0.25, 0.25])
    statuses = rng.choice(STATUSES, n)
    found = [TODAY - timedelta(days=int(d)) for d in rng.integers(0, 900, n)]
    late = rng.integers(-60, 60, n)
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
                "source": "patrol",
                "title": f"案件 {i}",
                "description": "",
                "found_on": found[i],
                "deadline_on": TODAY + timedelta(days=int(late[i])),
                "town_id": town.id,
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
    return rows


def seed_county(app) -> str:
    """20 synthetic towns under a county, a county user, 100,000 cases in the first town and 500
    in each other; return the big town's code."""
    rng = np.random.default_rng(11)
    with app.app_context():
        s = db.session()
        towns = []
        for number in range(2, TOWNS + 2):
            cells = store_grid(s, town_frame(number, TOWNS + 1))
            town = next(c for c in cells.values() if c.level == "town")
            towns.append((town, [c for c in cells.values() if c.level == "group"]))
        county = GridCell(level="county", code="420100", name="测试县")
        county.set_boundary(shapely.union_all([t.boundary for t, _ in towns]).convex_hull)
        s.add(county)
        for town, _groups in towns:
            town.parent = county
        user = User(username="xian", display_name="县局", role="county")
        user.set_password("demo1234")
        s.add(user)
        s.commit()
        rows = []
        for pos, (town, groups) in enumerate(towns):
            rows += _case_rows(rng, town, groups, BIG_TOWN_CASES if pos == 0 else OTHER_TOWN_CASES)
        with db.engine().begin() as conn:
            for start in range(0, len(rows), BATCH):
                conn.execute(insert(Case.__table__), rows[start : start + BATCH])
        return towns[0][0].code


def _client(app):
    client = app.test_client()
    client.post("/auth/login", data={"username": "xian", "password": "demo1234"})
    return client


def _first_feed(html: str, town) -> str:
    """The feed URL the town page asks first: its data URL with the town's box and zoom 13."""
    (url,) = re.findall(r'"url":"([^"]+)"', html)
    west, south, east, north = town.boundary.bounds
    return f"{url}&bbox={west:.5f},{south:.5f},{east:.5f},{north:.5f}&zoom=13"


def baseline_county(app) -> tuple[float, dict[str, int]]:
    """The naive county page: every case as an ORM object counted in Python, a folium GeoJson
    with a style function and a marker per town; seconds to build it, and its counts."""
    start = time.perf_counter()
    today = clock.town_today()  # the day the county page counts on
    with app.app_context():
        s = db.session()
        towns = list(s.scalars(select(GridCell).where(GridCell.level == "town")))
        counts: Counter = Counter()
        for case in s.scalars(select(Case)):
            if (
                case.deadline_on is not None
                and case.deadline_on < today
                and case.status in STATUS_GROUPS["open"]
            ):
                counts[case.town_id] += 1
        by_code = {t.code: counts[t.id] for t in towns}
        classes = count_classes(list(by_code.values()))
        m = folium.Map(tiles=None)
        for town in towns:
            color = CLASS_COLORS[class_index(by_code[town.code], classes)]
            folium.GeoJson(
                shapely.geometry.mapping(town.boundary),
                style_function=lambda _f, color=color: {"fillColor": color, "fillOpacity": 0.7},
                tooltip=f"{town.name} {by_code[town.code]}",
            ).add_to(m)
            point = town.boundary.representative_point()
            folium.Marker([point.y, point.x], popup=f"{town.name} {by_code[town.code]}").add_to(m)
        assets.render_local(m)
        s.close()
    return time.perf_counter() - start, by_code


def baseline_town(app, town_code: str) -> tuple[float, int]:
    """The naive town page: one CircleMarker with a popup per case of the town; seconds and bytes."""
    start = time.perf_counter()
    with app.app_context():
        s = db.session()
        town_id = s.scalar(select(GridCell.id).where(GridCell.code == town_code))
        rows = s.execute(
            select(Case.id, Case.title, Case.status, Case.point_lat, Case.point_lon).where(
                Case.town_id == town_id
            )
        ).all()
        s.close()
    m = folium.Map(location=[rows[0].point_lat, rows[0].point_lon], zoom_start=13, tiles=None)
    for r in rows:
        folium.CircleMarker(
            [r.point_lat, r.point_lon],
            radius=6,
            color=GROUP_COLORS[MAP_GROUPS[r.status]],
            fill=True,
            popup=folium.Popup(f'{r.title}<br><a href="/cases/{r.id}">查看</a>'),
        ).add_to(m)
    html = assets.render_local(m)
    return time.perf_counter() - start, len(html.encode())


def run() -> list[Row]:
    """Seed the county, then time the county map and the big town's map against their baselines."""
    url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    backend = "PostGIS" if url else "SQLite"
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        app = _app(Path(tmp), url)
        print(f"  seeding {TOWNS} towns, {BIG_TOWN_CASES:,} cases in one …", file=sys.stderr)
        started = time.perf_counter()
        big = seed_county(app)
        seed_s = time.perf_counter() - started
        try:
            client = _client(app)
            county_page = client.get("/map/county")
            assert county_page.status_code == 200, county_page.status_code
            county_s = median_seconds(lambda: client.get("/map/county"))
            base_county_s, base_counts = baseline_county(app)
            html = county_page.get_data(as_text=True)
            shown = dict(re.findall(r'data-town="([^"]+)" data-overdue="(\d+)"', html))
            agree = {code: int(n) for code, n in shown.items()} == base_counts
            rows.append(
                Row(
                    f"county map, {TOWNS} towns ({backend}): page build",
                    county_s,
                    base_county_s,
                    "s",
                    f"< {COUNTY_GOAL_S} s",
                    county_s < COUNTY_GOAL_S and agree and len(shown) == TOWNS,
                    higher_is_better=False,
                    note=f"{len(county_page.data) / 1e3:,.0f} kB; counts "
                    + ("agree with the baseline" if agree else "DIFFER from the baseline"),
                )
            )
            with app.app_context():
                town = db.session().scalar(select(GridCell).where(GridCell.code == big))
                page = client.get(f"/map/town/{big}")
                assert page.status_code == 200, page.status_code
                feed_url = _first_feed(page.get_data(as_text=True), town)
            feed = client.get(feed_url)
            assert feed.status_code == 200, feed.status_code
            town_s = median_seconds(lambda: (client.get(f"/map/town/{big}"), client.get(feed_url)))
            base_town_s, base_bytes = baseline_town(app, big)
            rows.append(
                Row(
                    f"town map, {BIG_TOWN_CASES:,} cases ({backend}): page + first data",
                    town_s,
                    base_town_s,
                    "s",
                    f"< {TOWN_GOAL_S} s",
                    town_s < TOWN_GOAL_S,
                    higher_is_better=False,
                    note=f"{(len(page.data) + len(feed.data)) / 1e6:.2f} MB vs "
                    f"{base_bytes / 1e6:.0f} MB; seeded in {seed_s:.0f} s",
                )
            )
        finally:
            app.extensions["db_engine"].dispose()
            if url:
                admin = make_engine(url, pool_size=1)
                with admin.begin() as conn:
                    conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
                admin.dispose()
    return rows


if __name__ == "__main__":
    from bench.table import print_table

    print_table(run())
