"""The year report as a Word document: reopened with python-docx, its paragraph, tables and pictures
checked against the figures; the download's scope; `flask report --format docx`. Both backends."""

from datetime import date

import pytest
from sqlalchemy import select

from inspection import db
from inspection.accounts.models import User
from inspection.documents.blocks import cell_text
from inspection.documents.downloads import DOCX_MIMETYPE
from inspection.ops.demo import load_demo
from inspection.ops.demo_county import COUNTY_USER, load_demo_county
from inspection.patrols.recording import add_batch
from inspection.reporting.figures import year_figures
from inspection.reporting.year_docx import (
    AREA_HEADER,
    NO_SUMMARY,
    PATROL_HEADER,
    area_row,
    build_year_report,
    patrol_rows,
    year_report_content,
)
from tests.cases.test_report_forms import seed_town
from tests.conftest import login, migrated_app
from tests.documents.support import east_asia_fonts, reopen, table_texts
from tests.reporting.test_reports import DEMO_EXAMPLE

TODAY = date(2026, 11, 20)
# The demo's complete year paragraph (with the 14 certified officers and the grid: bulletins branch).
PARAGRAPH = DEMO_EXAMPLE


@pytest.fixture
def demo_app(db_url, tmp_path):
    """An app on each backend holding the demo town 平岗镇."""
    app = migrated_app(tmp_path, DATABASE_URL=db_url)
    with app.app_context():
        load_demo(db.session(), today=TODAY)
        db.session.commit()
    yield app
    app.extensions["db_engine"].dispose()


def _content(app, year: int, **scope) -> dict:
    with app.app_context():
        radius_m = float(app.config["PATROL_COVERAGE_RADIUS_M"])
        return year_report_content(db.session(), year, radius_m=radius_m, **scope)


def _expected_rows(figures: dict) -> list[list[str]]:
    areas = figures.get("towns") or figures["villages"]
    rows = [area_row(a["name"], a) for a in areas] + [area_row("合计", figures)]
    return [[cell_text(v) for v in row] for row in rows]


def test_year_report_holds_the_summary_the_figures_the_map_and_the_chart(demo_app):
    content = _content(demo_app, 2022)
    document = reopen(build_year_report(content))

    texts = [p.text for p in document.paragraphs]
    assert texts[0] == "平岗镇2022年度网格化巡查执法工作总结"
    assert content["figures"]["summary_zh"] == PARAGRAPH
    assert PARAGRAPH in texts  # a paragraph of its own, word for word
    villages = document.tables[0]
    assert table_texts(villages)[0] == ["村", *AREA_HEADER]
    assert table_texts(villages)[1:] == _expected_rows(content["figures"])
    assert table_texts(villages)[-1][0] == "合计"
    assert len(document.inline_shapes) == 2  # the map and the chart
    assert any(t.startswith("图1 平岗镇2022年拆除违法建筑与复耕地块分布示意图") for t in texts)
    assert any(t.startswith("图2 2022年每月发现与整改完成案件数") for t in texts)
    fonts = east_asia_fonts(document)
    assert fonts and all(fonts)


def test_patrol_figures_appear_only_when_there_are_patrols(demo_app):
    content = _content(demo_app, 2022)
    patrols = content["patrols"]
    document = reopen(build_year_report(content))
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 1"]
    if patrols["patrols"]:
        assert any("巡查情况" in h for h in headings)
        expected = [[cell_text(v) for v in row] for row in patrol_rows(patrols)]
        assert table_texts(document.tables[1])[1:] == expected
    else:
        assert not any("巡查情况" in h for h in headings)
        assert len(document.tables) == 1


def test_a_year_without_cases_says_so_and_draws_the_villages(demo_app):
    content = _content(demo_app, 2019)
    document = reopen(build_year_report(content))
    assert NO_SUMMARY in [p.text for p in document.paragraphs]
    assert table_texts(document.tables[0])[-1][1:] == ["0", "0", "0.00", "0", "0.00", "0", "0", "0"]
    assert len(document.inline_shapes) == 2  # the villages still make a map


def test_supervisor_downloads_his_town_report(demo_app):
    client = demo_app.test_client()
    login(client, "zhangzhen")
    page = client.get("/report?year=2022").get_data(as_text=True)
    response = client.get("/report.docx?year=2022")
    data = response.get_data()
    response.close()

    assert "/report.docx?year=2022" in page
    assert response.status_code == 200 and response.mimetype == DOCX_MIMETYPE
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    assert PARAGRAPH in [p.text for p in reopen(data).paragraphs]


@pytest.mark.parametrize("username", ["cz_pg01", "wgy_pg01_01"])
def test_village_staff_get_no_town_report(demo_app, username):
    client = demo_app.test_client()
    login(client, username)
    assert "/report.docx" not in client.get("/report?year=2022").get_data(as_text=True)
    response = client.get("/report.docx?year=2022")
    assert response.status_code == 404
    response.close()


@pytest.mark.parametrize("query", ["year=1800", "year=2022&town=NOPE"])
def test_bad_year_or_unknown_town_is_404(demo_app, query):
    client = demo_app.test_client()
    login(client, "zhangzhen")
    response = client.get(f"/report.docx?{query}")
    assert response.status_code == 404
    response.close()


def test_report_command_writes_a_docx(demo_app, tmp_path):
    out = tmp_path / "年度报告.docx"
    runner = demo_app.test_cli_runner()
    result = runner.invoke(args=["report", "--year", "2022", "--format", "docx", "--out", str(out)])
    assert result.exit_code == 0, result.output
    document = reopen(out.read_bytes())
    assert PARAGRAPH in [p.text for p in document.paragraphs]
    with demo_app.app_context():
        figures = year_figures(db.session(), 2022)
    assert table_texts(document.tables[0])[1:] == _expected_rows(figures)


def test_report_command_docx_needs_out(demo_app):
    result = demo_app.test_cli_runner().invoke(
        args=["report", "--year", "2022", "--format", "docx"]
    )
    assert result.exit_code != 0 and "--out" in result.output


@pytest.fixture
def county_app(db_url, tmp_path):
    """An app on each backend holding the demo county of two towns."""
    app = migrated_app(tmp_path, DATABASE_URL=db_url)
    with app.app_context():
        load_demo_county(db.session(), towns=2, today=TODAY)
        db.session.commit()
    yield app
    app.extensions["db_engine"].dispose()


def test_county_report_has_a_row_per_town_and_one_town_on_request(county_app, tmp_path):
    client = county_app.test_client()
    login(client, COUNTY_USER[0])
    whole = client.get("/report.docx?year=2022")
    one = client.get("/report.docx?year=2022&town=T02")
    whole_doc, one_doc = reopen(whole.get_data()), reopen(one.get_data())
    whole.close()
    one.close()

    with county_app.app_context():
        county = year_figures(db.session(), 2022)
        town = year_figures(db.session(), 2022, town_code="T02")
    assert table_texts(whole_doc.tables[0])[0][0] == "镇"
    assert table_texts(whole_doc.tables[0])[1:] == _expected_rows(county)
    assert one_doc.paragraphs[0].text == f"{town['town']}2022年度网格化巡查执法工作总结"
    assert table_texts(one_doc.tables[0])[1:] == _expected_rows(town)
    assert town["summary_zh"] in [p.text for p in one_doc.paragraphs]


def test_a_year_with_patrols_has_their_section_and_table(db_url, tmp_path):
    app = migrated_app(tmp_path, DATABASE_URL=db_url)
    try:
        seed_town(app)
        with app.app_context():
            s = db.session()
            walker = s.scalar(select(User).where(User.username == "wgy_a1"))
            fixes = [
                [113.001, 30.001 + i * 1e-4, 1714955400000 + 10_000 * i, 5.0] for i in range(30)
            ]
            add_batch(s, walker, "doc-patrol-0001", "b-0000001", fixes, app.config)
            s.commit()
        content = _content(app, 2024)
        document = reopen(build_year_report(content))
    finally:
        app.extensions["db_engine"].dispose()

    patrols = content["patrols"]
    assert patrols["patrols"] == 1
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 1"]
    assert "三、巡查情况" in headings
    expected = [[cell_text(v) for v in row] for row in patrol_rows(patrols)]
    assert table_texts(document.tables[1])[0] == PATROL_HEADER
    assert table_texts(document.tables[1])[1:] == expected
    assert expected[-1][:2] == ["合计", "1"]


def test_a_year_with_a_tuban_batch_has_its_section_and_table(db_url, tmp_path):
    import json

    import shapely

    from inspection.tuban.importer import import_batch
    from inspection.tuban.yearly import year_tuban_figures

    app = migrated_app(tmp_path, DATABASE_URL=db_url)
    squares = [
        shapely.box(113.0012, 30.0012, 113.0018, 30.0018),
        shapely.box(113.012, 30.002, 113.013, 30.003),
    ]
    features = [
        {
            "type": "Feature",
            "properties": {"TBBH": f"JC-{n}"},
            "geometry": shapely.geometry.mapping(g),
        }
        for n, g in enumerate(squares, start=1)
    ]
    data = json.dumps({"type": "FeatureCollection", "features": features}).encode()
    try:
        seed_town(app)
        with app.app_context():
            s = db.session()
            import_batch(
                s, data, filename="q4.geojson", batch_name="2024Q4", deadline_on=date(2024, 12, 31)
            )
            s.commit()
            assert year_tuban_figures(s, 2023)["polygons"] == 0
        content = _content(app, 2024)
        document = reopen(build_year_report(content))
    finally:
        app.extensions["db_engine"].dispose()

    tuban = content["tuban"]
    assert (tuban["polygons"], tuban["tasks"], tuban["closed"]) == (2, 2, 0)
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 1"]
    assert "三、卫片图斑核查" in headings
    texts = [p.text for p in document.paragraphs]
    assert any(t.startswith("全年收到卫片图斑2个（1批）") and "核查完成率0%" in t for t in texts)
    table = next(t for t in document.tables if table_texts(t)[0][0] == "批次")
    assert table_texts(table)[1][:4] == ["2024Q4", "2", "0", "2"]
