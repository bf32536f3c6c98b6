"""Tracks and coverage on the village and group maps: only the tracks one may see, every track's coverage."""

from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import login
from tests.patrols.support import gpx

PERIOD = "patrol_from=2024-05-01&patrol_to=2024-05-31"


def north_walk(lon, lat0, n, start):
    return [(lon, lat0 + i * 1e-4, start + timedelta(seconds=8 * i)) for i in range(n)]


@pytest.fixture
def walked(town_app, tmp_path):
    """wgy_a1 walks A1 on 6 May; wgy_a2 walks along A2's edge with A1 (30 m of A1 covered)."""
    runner = town_app.test_cli_runner()
    for name, user, lon in (("a1.gpx", "wgy_a1", 113.0025), ("a2.gpx", "wgy_a2", 113.0051)):
        path = tmp_path / name
        path.write_bytes(gpx(north_walk(lon, 30.0, 101, datetime(2024, 5, 6, 1, tzinfo=UTC))))
        assert runner.invoke(args=["import-patrol", str(path), "--user", user]).exit_code == 0


def page(app, username, url):
    client = app.test_client()
    login(client, username)
    answer = client.get(url)
    return answer.status_code, answer.get_data(as_text=True)


def test_the_village_map_shows_tracks_and_coverage(town_app, walked):
    status, html = page(town_app, "cz_a", f"/map/village/PG01?{PERIOD}")

    assert status == 200
    assert html.count("L.polyline") == 2  # both 网格员 of his village
    assert "一组：覆盖率" in html and "二组：覆盖率" in html
    assert 'name="patrol_from" value="2024-05-01"' in html


def test_a_grid_member_sees_only_his_tracks_but_all_coverage(town_app, walked):
    _status, html = page(town_app, "wgy_a1", f"/map/group/PG01-01?{PERIOD}")

    assert html.count("L.polyline") == 1 and "用户0" in html and "用户1" not in html
    percent = int(html.split("一组：覆盖率 ")[1].split("%")[0])
    assert 14 <= percent <= 20  # his 60 m strip (12.4 %) and 30 m of the neighbour's (≈ 5.6 %)


def test_the_default_period_is_this_month_and_a_bad_one_is_refused(town_app, walked):
    _status, html = page(town_app, "zhangzhen", "/map/village/PG01")
    bad, _html = page(town_app, "zhangzhen", "/map/village/PG01?patrol_from=2024-13-01")
    reversed_, _html = page(
        town_app, "zhangzhen", "/map/village/PG01?patrol_from=2024-05-09&patrol_to=2024-05-01"
    )

    assert "L.polyline" not in html  # May 2024 is not this month
    assert bad == reversed_ == 422
