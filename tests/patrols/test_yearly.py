"""The year report's patrol figures: patrols, km, hours and each village's mean monthly coverage."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from inspection import db
from inspection.accounts.models import User
from inspection.patrols.stats import period_stats
from inspection.patrols.yearly import year_patrol_figures
from tests.conftest import login
from tests.patrols.support import gpx


def north_walk(lon, start, n=101):
    return [(lon, 30.0 + i * 1e-4, start + timedelta(seconds=8 * i)) for i in range(n)]


@pytest.fixture
def year(town_app, tmp_path):
    """wgy_a1 walks A1 in May and in July 2022."""
    runner = town_app.test_cli_runner()
    for i, month in enumerate((5, 7)):
        path = tmp_path / f"p{i}.gpx"
        path.write_bytes(
            gpx(north_walk(113.0025 + i * 0.001, datetime(2022, month, 6, 1, tzinfo=UTC)))
        )
        assert runner.invoke(args=["import-patrol", str(path), "--user", "wgy_a1"]).exit_code == 0
    return 2022


def test_mean_coverage_is_the_mean_of_the_months(town_app, year):
    with town_app.app_context():
        s = db.session()
        chief = s.scalar(select(User).where(User.username == "zhangzhen"))
        figures = year_patrol_figures(s, year, chief, 30.0)
        may = period_stats(s, date(2022, 5, 1), date(2022, 5, 31))
        july = period_stats(s, date(2022, 7, 1), date(2022, 7, 31))

    village = next(v for v in figures["villages"] if v["code"] == "PG01")
    monthly = [next(v["coverage"] for v in m.villages if v["code"] == "PG01") for m in (may, july)]
    assert figures["patrols"] == village["patrols"] == 2
    assert village["mean_coverage"] == pytest.approx(sum(monthly) / 12)
    assert village["length_m"] == pytest.approx(2 * 100 * 11.09, rel=0.01)
    assert next(v for v in figures["villages"] if v["code"] == "PG02")["patrols"] == 0


def test_the_report_page_shows_them_and_a_grid_member_sees_his_village_only(town_app, year):
    chief, member = town_app.test_client(), town_app.test_client()
    login(chief, "zhangzhen")
    login(member, "wgy_a1")

    town_html = chief.get(f"/report?year={year}").get_data(as_text=True)
    own_html = member.get(f"/report?year={year}").get_data(as_text=True)

    assert 'id="year-patrols"' in town_html and "巡查 2 次" in town_html
    assert 'data-village="PG01"' in town_html and 'data-village="PG02"' in town_html
    assert 'data-village="PG01"' in own_html and 'data-village="PG02"' not in own_html
