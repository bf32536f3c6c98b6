"""flask patrol-stats: figures per 网格员 by the town's calendar, coverage against an independent computation."""

import json
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest
import shapely
from pyproj import Transformer
from sqlalchemy import select

from inspection import db
from inspection.accounts.models import User
from inspection.cases.records import create_case
from inspection.grid.models import GridCell
from tests.patrols.support import gpx

UTM49 = Transformer.from_crs("EPSG:4326", "EPSG:32649", always_xy=True)  # metres, zone of 113°E


def north_walk(lon, lat0, lat1, start, step_s=8):
    """Fixes walking north along a meridian every ≈ 11 m, step_s seconds apart (under 120 km/h)."""
    n = int(round((lat1 - lat0) / 0.0001)) + 1
    return [(lon, lat0 + i * 0.0001, start + timedelta(seconds=i * step_s)) for i in range(n)]


def import_file(app, tmp_path, name, fixes, user="wgy_a1"):
    path = tmp_path / name
    path.write_bytes(gpx(fixes))
    result = app.test_cli_runner().invoke(args=["import-patrol", str(path), "--user", user])
    assert result.exit_code == 0, result.stderr


def stats(app, date_from, date_to):
    result = app.test_cli_runner().invoke(
        args=["patrol-stats", "--from", date_from, "--to", date_to, "--json"]
    )
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def exact_share(group_box, fixes, radius_m=30.0) -> float:
    """Independent coverage: shapely's exact buffer of the line in UTM metres, clipped to the group."""

    def project(geom):
        return shapely.transform(geom, lambda xy: np.column_stack(UTM49.transform(*xy.T)))

    group = project(shapely.box(*group_box))
    line = project(shapely.LineString([(lon, lat) for lon, lat, _ in fixes]))
    return shapely.intersection(line.buffer(radius_m, quad_segs=64), group).area / group.area


def test_coverage_matches_an_independent_computation(town_app, tmp_path):
    # Along lon 113.0025 through group A1 (113.000–113.005), and a short leg into A2's corner.
    day = datetime(2024, 5, 6, 1, 0, tzinfo=UTC)
    walk_a1 = north_walk(113.0025, 30.0, 30.01, day)
    leg_a2 = [(113.005 + i * 0.0001, 30.0055, day + timedelta(hours=2, seconds=8 * i))
              for i in range(15)]  # fmt: skip
    import_file(town_app, tmp_path, "a1.gpx", walk_a1)
    import_file(town_app, tmp_path, "a2.gpx", leg_a2, user="wgy_a2")

    out = stats(town_app, "2024-05-06", "2024-05-06")

    assert list(out) == ["users", "groups"]
    coverage = {g["code"]: g["coverage"] for g in out["groups"]}
    expected_a1 = exact_share((113.000, 30.000, 113.005, 30.010), walk_a1)
    expected_a1 += exact_share((113.000, 30.000, 113.005, 30.010), leg_a2)
    expected_a2 = exact_share((113.005, 30.000, 113.010, 30.010), leg_a2)
    assert expected_a1 == pytest.approx(0.126, abs=0.01)  # a 60 m strip of a 482 m wide group
    assert coverage["PG01-01"] == pytest.approx(expected_a1, abs=0.004)
    assert coverage["PG01-02"] == pytest.approx(expected_a2, abs=0.004)
    assert coverage["PG02-01"] == 0.0
    assert [g["name"] for g in out["groups"]] == ["一组", "二组", "三组"]


def test_users_count_by_the_towns_calendar(town_app, tmp_path):
    # 2024-05-05 23:30 UTC is 07:30 on 6 May in the town: it counts on the 6th.
    early = datetime(2024, 5, 5, 23, 30, tzinfo=UTC)
    import_file(town_app, tmp_path, "early.gpx", north_walk(113.001, 30.001, 30.002, early))
    later = datetime(2024, 5, 7, 2, 0, tzinfo=UTC)
    import_file(town_app, tmp_path, "later.gpx", north_walk(113.002, 30.001, 30.003, later))
    with town_app.app_context():
        s = db.session()
        reporter = s.scalar(select(User).where(User.username == "wgy_a1"))
        for found_on, source in ((date(2024, 5, 6), "patrol"), (date(2024, 5, 6), "public"),
                                 (date(2024, 5, 8), "patrol")):  # fmt: skip
            create_case(s, "issue", shapely.Point(113.001, 30.002),
                        {"title": "垃圾", "category": "garbage", "source": source}, reporter,
                        found_on=found_on)  # fmt: skip
        s.commit()

    sixth = stats(town_app, "2024-05-06", "2024-05-06")
    both = stats(town_app, "2024-05-06", "2024-05-07")
    fifth = stats(town_app, "2024-05-05", "2024-05-05")

    users = {u["username"]: u for u in both["users"]}
    assert list(users["wgy_a1"]) == ["username", "patrols", "days", "length_m", "duration_s",
                                     "cases_found"]  # fmt: skip
    assert (users["wgy_a1"]["patrols"], users["wgy_a1"]["days"]) == (2, 2)
    assert users["wgy_a1"]["cases_found"] == 1  # source patrol, found in the period
    assert users["wgy_a1"]["duration_s"] == pytest.approx(10 * 8 + 20 * 8)
    assert users["wgy_a2"]["patrols"] == 0 and users["wgy_a2"]["length_m"] == 0
    one = {u["username"]: u for u in sixth["users"]}["wgy_a1"]
    assert (one["patrols"], one["days"]) == (1, 1)
    assert {u["username"]: u for u in fifth["users"]}["wgy_a1"]["patrols"] == 0


def test_village_and_town_coverage_are_area_weighted(town_app, tmp_path):
    from inspection.patrols.stats import period_stats

    import_file(town_app, tmp_path, "a1.gpx",
                north_walk(113.0025, 30.0, 30.01, datetime(2024, 5, 6, 1, tzinfo=UTC)))  # fmt: skip
    with town_app.app_context():
        result = period_stats(db.session(), date(2024, 5, 6), date(2024, 5, 6))
        groups = {g["code"]: g["coverage"] for g in result.groups}
        villages = {v["code"]: v["coverage"] for v in result.villages}
        towns = {t["code"]: t["coverage"] for t in result.towns}
        cells = {c.code: c for c in db.session.scalars(select(GridCell))}

    # A1 and A2 have the same area: the village's share is half A1's; the town's, a quarter.
    assert villages["PG01"] == pytest.approx(groups["PG01-01"] / 2, rel=1e-6)
    assert villages["PG02"] == 0.0
    assert towns["PG"] == pytest.approx(groups["PG01-01"] / 4, rel=1e-6)
    assert cells["PG01-01"].area_m2 is None  # measured on GRS80 when not stored


def test_a_reversed_period_is_refused(town_app):
    result = town_app.test_cli_runner().invoke(
        args=["patrol-stats", "--from", "2024-05-07", "--to", "2024-05-06"]
    )

    assert result.exit_code == 1 and "早于开始日期" in result.stderr
