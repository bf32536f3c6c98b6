"""The county report: county totals are the sum of the towns, one town is given as a town report,
the towns ranked; scoped by town on the pages. On SQLite and PostGIS, over the demo county."""

import json
from datetime import date

import pytest
from sqlalchemy.orm import Session

from inspection import db
from inspection.errors import InvalidInput
from inspection.ops.demo_county import load_demo_county
from inspection.reporting.figures import year_figures
from inspection.reporting.ranking import SORTS, town_ranking
from tests.conftest import login, migrated_app
from tests.reporting.test_reports import DEMO_EXAMPLE

TODAY = date(2026, 11, 20)
TOWNS = ("PG", "T02", "T03")


@pytest.fixture
def county_app(db_url, tmp_path):
    """An app on each backend holding the demo county of three towns."""
    app = migrated_app(tmp_path, DATABASE_URL=db_url)
    with app.app_context():
        session = db.session()
        load_demo_county(session, towns=len(TOWNS), today=TODAY)
        session.commit()
    yield app
    app.extensions["db_engine"].dispose()


def numbers(figures: dict, prefix: str = "") -> dict[str, float]:
    """Every number of the figures' three blocks, by its dotted path."""
    found = {}
    for key in ("illegal_buildings", "farmland", "issues"):
        stack = [(f"{prefix}{key}", figures[key])]
        while stack:
            path, block = stack.pop()
            for name, value in block.items():
                if isinstance(value, dict):
                    stack.append((f"{path}.{name}", value))
                else:
                    found[f"{path}.{name}"] = value
    return found


def summed(entries: list[dict]) -> dict[str, float]:
    """The sum, path by path, of the numbers of several entries."""
    total: dict[str, float] = {}
    for entry in entries:
        for path, value in numbers(entry).items():
            total[path] = total.get(path, 0) + value
    return total


def assert_same_numbers(a: dict[str, float], b: dict[str, float]) -> None:
    assert a.keys() == b.keys()
    for path in a:
        assert a[path] == pytest.approx(b[path], rel=1e-12, abs=1e-9), path


def test_the_county_is_the_sum_of_its_towns_and_each_town_of_its_villages(county_app):
    with county_app.app_context():
        session: Session = db.session()
        for year in (2022, TODAY.year):
            county = year_figures(session, year, groups=True)
            assert county["county"] == county["town"] == "演示县"
            assert [t["code"] for t in county["towns"]] == list(TOWNS)
            assert_same_numbers(numbers(county), summed(county["towns"]))
            assert_same_numbers(numbers(county), summed(county["villages"]))
            for town in county["towns"]:
                assert_same_numbers(numbers(town), summed(town["villages"]))
                assert {v["code"][: len(town["code"])] for v in town["villages"]} == {town["code"]}
            assert county["illegal_buildings"]["demolished"] > 0
            assert "今年以来，我县" in county["summary_zh"] or year != 2022
            assert county["certified_officers"] == sum(t["certified_officers"] for t in county["towns"])
            assert county["grid"]["towns"] == len(TOWNS)


def test_one_town_is_given_exactly_as_a_town_report(county_app):
    with county_app.app_context():
        session = db.session()
        county = year_figures(session, 2022, groups=True)
        for entry in county["towns"]:
            town = year_figures(session, 2022, groups=True, town_code=entry["code"])
            assert set(town) == {
                "year", "town", "illegal_buildings", "farmland", "issues", "villages", "summary_zh",
                "certified_officers", "grid",
            }  # fmt: skip
            assert town["grid"] == entry["grid"]
            assert town["town"] == entry["name"]
            assert town["villages"] == entry["villages"]
            assert town["summary_zh"] == entry["summary_zh"]
            assert_same_numbers(numbers(town), numbers(entry))
        pg = year_figures(session, 2022, town_code="PG")
        assert pg["summary_zh"] == DEMO_EXAMPLE  # the seed paragraph, as the one-town demo writes it
        with pytest.raises(InvalidInput) as refused:
            year_figures(session, 2022, town_code="XX")
        assert "XX" in refused.value.message_zh


def test_report_command_for_the_county_and_for_one_town(county_app):
    runner = county_app.test_cli_runner()

    county = runner.invoke(args=["report", "--year", "2022", "--format", "json"])
    town = runner.invoke(args=["report", "--year", "2022", "--town", "T02", "--format", "json"])
    text = runner.invoke(args=["report", "--year", "2022"])
    unknown = runner.invoke(args=["report", "--year", "2022", "--town", "XX"])

    assert county.exit_code == 0 and town.exit_code == 0, county.output + town.output
    county_json, town_json = json.loads(county.output), json.loads(town.output)
    (t02,) = [t for t in county_json["towns"] if t["code"] == "T02"]
    assert town_json["town"] == t02["name"] == "石门镇"
    assert_same_numbers(numbers(town_json), numbers(t02))
    assert town_json["summary_zh"] == t02["summary_zh"]
    assert text.output.startswith("演示县2022年") and "\n镇 " in text.output
    assert "石门镇" in text.output and "平岗村" not in text.output  # a table of towns
    assert unknown.exit_code != 0 and "没有编码为 XX 的镇" in unknown.output


def test_towns_are_ranked_by_each_column(county_app):
    with county_app.app_context():
        session = db.session()
        county = year_figures(session, 2022)
        for sort, higher_first in SORTS.items():
            rows = town_ranking(session, 2022, TODAY, sort)
            assert sorted(r.code for r in rows) == sorted(TOWNS)
            values = [getattr(r, sort) for r in rows if getattr(r, sort) is not None]
            assert values == sorted(values, reverse=higher_first), sort
        rows = {r.code: r for r in town_ranking(session, 2022, TODAY)}
        for town in county["towns"]:
            row = rows[town["code"]]
            found = sum(town[k]["found"] for k in ("illegal_buildings", "farmland", "issues"))
            assert row.found == found
            assert row.demolished_m2 == pytest.approx(town["illegal_buildings"]["demolished_area_m2"])
            assert row.restored_mu == pytest.approx(town["farmland"]["restored_area_mu"])
            assert 0 <= row.rectified_on_time <= row.rectified_with_deadline <= row.rectified
        assert sum(r.overdue_now for r in rows.values()) > 0  # this year's demo has late work


def test_pages_give_each_user_his_town_and_the_county_its_towns(county_app):
    client = county_app.test_client()
    with county_app.app_context():
        t02 = year_figures(db.session(), 2022, groups=True, town_code="T02")

    login(client, "zz_t02")
    mine = client.get("/report.json?year=2022").get_json()
    assert client.get("/towns").status_code == 404

    assert mine["town"] == "石门镇" and "towns" not in mine
    assert_same_numbers(numbers(mine), numbers(t02))
    assert {v["code"][:3] for v in mine["villages"]} == {"T02"}

    county_client = county_app.test_client()
    login(county_client, "county")
    page = county_client.get("/towns?year=2022&sort=overdue_now")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert all(f'data-town="{code}"' in html for code in TOWNS)
    assert county_client.get("/report.json?year=2022").get_json()["county"] == "演示县"
