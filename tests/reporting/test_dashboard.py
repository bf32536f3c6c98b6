"""The dashboard, the year report page, its JSON and the ledger downloads, on the demo town."""

import io
import json
import re

import pyogrio
import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from inspection import clock, db
from inspection.accounts.models import User
from inspection.cases.access import case_scope
from inspection.cases.deadlines import overdue_cases
from inspection.cases.models import Case
from inspection.grid.models import GridCell
from inspection.ops.demo import load_demo
from inspection.reporting.figures import year_figures
from tests.conftest import login

PARAGRAPH = (
    "我镇组织执法人员参加行政执法资格考试，其中有14名执法人员取得行政执法证。"
    "今年以来，我镇依法拆除违法建筑2处约380㎡，复耕面积约120余亩，整改完成上级反馈问题5个。"
    "全镇划分8个村、36个村民小组，配备36名网格员，巡查发现环保问题4个，整改完成4个。"
)
MEMBER = "wgy_pg01_01"
HEAD = "cz_pg01"


@pytest.fixture
def demo(app):
    """The app with the demo town loaded."""
    with app.app_context():
        load_demo(db.session(), today=clock.town_today())
        db.session.commit()
    return app


def _chart(html: str) -> dict:
    match = re.search(r'<script type="application/json" id="dashboard-data">(.*?)</script>', html)
    assert match, "no chart data on the page"
    return json.loads(match.group(1))


def test_pages_need_login(demo, client):
    for path in ("/dashboard", "/report?year=2022", "/report.json", "/ledgers/issue.xlsx"):
        response = client.get(path)
        assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_report_page_has_the_paragraph_villages_and_downloads(demo, client):
    login(client, "zhangzhen")

    html = client.get("/report?year=2022").get_data(as_text=True)

    assert PARAGRAPH in html
    with demo.app_context():
        figures = year_figures(db.session(), 2022)
    for village in figures["villages"]:
        assert village["name"] in html
        assert f"{village['farmland']['restored_area_mu']:,.2f}" in html
    assert "/report.json?year=2022" in html and "/ledgers/issue.xlsx?year=2022" in html


def test_report_json_equals_year_figures(demo, client):
    login(client, "zhangzhen")

    data = client.get("/report.json?year=2022").get_json()

    with demo.app_context():
        assert data == year_figures(db.session(), 2022, groups=True)


def test_dashboard_shows_villages_overdue_and_chart_sums(demo, client):
    login(client, "zhangzhen")

    html = client.get("/dashboard?year=2022").get_data(as_text=True)

    with demo.app_context():
        session = db.session()
        figures = year_figures(session, 2022)
        user = session.scalar(select(User).where(User.username == "zhangzhen"))
        overdue = overdue_cases(session, today=clock.town_today(), viewer=user)
    for village in figures["villages"]:
        assert village["name"] in html
    assert overdue, "the demo has overdue cases"
    for case in overdue:
        assert f'href="/cases/{case.id}"' in html
    chart = _chart(html)
    issues = chart["monthly"]["kinds"]["issue"]
    assert sum(issues["found"]) == figures["issues"]["found"]
    assert sum(issues["fixed"]) == figures["issues"]["rectified"]
    buildings = chart["monthly"]["kinds"]["illegal_building"]
    assert sum(buildings["fixed"]) == figures["illegal_buildings"]["demolished"]
    assert sum(chart["restored"]["mu"]) == pytest.approx(
        figures["farmland"]["restored_area_mu"], abs=0.01 * len(figures["villages"])
    )
    assert "vendor/chart.js/chart.umd.min.js" in html and "js/dashboard.js" in html
    assert "<script>" not in html  # no inline code: data only, in the JSON tag


def test_member_sees_only_his_group(demo, client):
    login(client, MEMBER)

    data = client.get("/report.json?year=2022").get_json()
    html = client.get("/report?year=2022").get_data(as_text=True)
    dashboard = client.get("/dashboard?year=2022").get_data(as_text=True)

    assert [v["code"] for v in data["villages"]] == ["PG01"]
    assert [g["code"] for g in data["villages"][0]["groups"]] == ["PG01-01"]
    assert "issues" not in data and "summary_zh" not in data
    assert PARAGRAPH not in html and "石桥村" not in html
    with demo.app_context():
        user = db.session().scalar(select(User).where(User.username == MEMBER))
        mine = overdue_cases(db.session(), today=clock.town_today(), viewer=user)
        everyone = overdue_cases(db.session(), today=clock.town_today())
    assert len(re.findall(r'href="/cases/\d+"', dashboard)) == len(mine) < len(everyone)


def test_village_head_sees_his_village(demo, client):
    login(client, HEAD)

    data = client.get("/report.json?year=2022").get_json()

    with demo.app_context():
        town = year_figures(db.session(), 2022, groups=True)
    assert data["villages"] == [v for v in town["villages"] if v["code"] == "PG01"]


def test_ledger_xlsx_opens_with_a_chinese_filename(demo, client):
    login(client, "zhangzhen")

    response = client.get("/ledgers/issue.xlsx?year=2022")

    assert response.status_code == 200
    assert response.content_type.startswith("application/vnd.openxmlformats")
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''%E9%97%AE%E9%A2%98%E6%95%B4%E6%94%B9%E5%8F%B0%E8%B4%A6_2022.xlsx" in (
        disposition
    )  # 问题整改台账_2022.xlsx
    book = load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == ["问题整改台账"]


def test_member_gis_ledger_has_only_his_cases(demo, client, tmp_path):
    login(client, MEMBER)

    response = client.get("/ledgers/all.gpkg")
    xlsx = client.get("/ledgers/all.xlsx")

    assert response.status_code == 200
    assert response.content_type == "application/geopackage+sqlite3"
    path = tmp_path / "ledger.gpkg"
    path.write_bytes(response.data)
    frame = pyogrio.read_dataframe(path)
    with demo.app_context():
        session = db.session()
        user = session.scalar(select(User).where(User.username == MEMBER))
        mine = session.scalar(select(func.count()).select_from(Case).where(case_scope(user)))
        total = session.scalar(select(func.count()).select_from(Case))
        group = session.scalar(select(GridCell.code).where(GridCell.code == "PG01-01"))
    assert 0 < len(frame) == mine < total
    assert set(frame["group_code"]) == {group}
    assert len(load_workbook(io.BytesIO(xlsx.data)).sheetnames) == 3


def test_ledger_csv_and_geojson_open(demo, client):
    login(client, "zhangzhen")

    csv = client.get("/ledgers/farmland.csv?year=2022")
    geojson = client.get("/ledgers/illegal_building.geojson?year=2022")

    assert csv.status_code == 200 and csv.content_type == "text/csv; charset=utf-8"
    assert "复耕台账_2022.csv" in _filename(csv.headers["Content-Disposition"])
    assert geojson.content_type == "application/geo+json"
    assert {f["properties"]["kind"] for f in geojson.get_json()["features"]} == {"illegal_building"}


def _filename(disposition: str) -> str:
    from urllib.parse import unquote

    return unquote(disposition.split("filename*=UTF-8''", 1)[1])


def test_unknown_kind_or_format_is_404(demo, client):
    login(client, "zhangzhen")

    assert client.get("/ledgers/houses.xlsx").status_code == 404
    assert client.get("/ledgers/issue.docx").status_code == 404
    assert client.get("/ledgers/issue.xlsx?year=abc").status_code == 422
    assert client.get("/report?year=1800").status_code == 404


def test_nav_links(demo, client):
    login(client, "zhangzhen")

    html = client.get("/").get_data(as_text=True)

    for path in ('href="/map"', 'href="/cases"', 'href="/dashboard"', 'href="/report"'):
        assert path in html


def _ids_of(fmt: str, data: bytes, tmp_path) -> list[int]:
    """The case ids in a downloaded ledger or GIS file, as openpyxl, csv or pyogrio read it."""
    if fmt == "csv":
        import csv

        rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
        header = next(i for i, r in enumerate(rows) if "编号" in r)
        index = rows[header].index("编号")
        return [int(r[index]) for r in rows[header + 1 :] if r and r[index].isdigit()]
    if fmt == "xlsx":
        ids = []
        for sheet in load_workbook(io.BytesIO(data)).worksheets:
            rows = list(sheet.iter_rows(values_only=True))
            header = next(i for i, r in enumerate(rows) if "编号" in r)
            index = rows[header].index("编号")
            ids += [r[index] for r in rows[header + 1 :] if isinstance(r[index], int)]
        return ids
    path = tmp_path / f"download.{'zip' if fmt == 'shp' else fmt}"
    path.write_bytes(data)
    if fmt == "shp":
        import zipfile

        layers = [n for n in zipfile.ZipFile(path).namelist() if n.endswith(".shp")]
        frames = [pyogrio.read_dataframe(f"/vsizip/{path}/{layer}") for layer in layers]
        return [int(i) for frame in frames for i in frame["id"]]
    frame = pyogrio.read_dataframe(path)
    return [int(i) for i in frame["case_id" if fmt == "kml" else "id"]]


def test_case_list_links_download_its_selection(demo, client, tmp_path):
    from html import unescape

    login(client, HEAD)
    query = "kind=issue&source=patrol&category=environment"

    html = client.get(f"/cases?{query}").get_data(as_text=True)
    links = [unescape(h) for h in re.findall(r'href="(/ledgers/[^"]+)"', html)]
    with demo.app_context():
        session = db.session()
        user = session.scalar(select(User).where(User.username == HEAD))
        expected = sorted(
            session.scalars(
                select(Case.id).where(
                    case_scope(user),
                    Case.kind == "issue",
                    Case.source == "patrol",
                    Case.category.in_(
                        ["garbage", "sewage", "straw_burning", "dust", "livestock", "sand_mining"]
                    ),
                )
            )
        )
        total = session.scalar(select(func.count()).select_from(Case).where(Case.kind == "issue"))

    assert {link.split("?")[0] for link in links} == {
        f"/ledgers/issue.{fmt}" for fmt in ("xlsx", "csv", "geojson", "gpkg", "shp", "kml")
    }
    assert 0 < len(expected) < total
    for link in links:
        assert "source=patrol" in link and "category=environment" in link
        response = client.get(link)
        fmt = link.split("?")[0].rsplit(".", 1)[1]
        assert response.status_code == 200, link
        assert sorted(_ids_of(fmt, response.data, tmp_path)) == expected, fmt


def test_case_list_of_all_kinds_offers_csv_per_kind(demo, client):
    login(client, "zhangzhen")

    html = client.get("/cases?overdue=1&village=PG01").get_data(as_text=True)
    links = {h.split("?")[0] for h in re.findall(r'href="(/ledgers/[^"]+)"', html)}

    assert "/ledgers/all.xlsx" in links and "/ledgers/all.csv" not in links
    assert {"/ledgers/issue.csv", "/ledgers/farmland.csv"} <= links
    assert all("overdue=1" in h for h in re.findall(r'href="(/ledgers/[^"]+)"', html))


def test_ledger_download_filters_by_group_overdue_and_bbox(demo, client):
    login(client, "zhangzhen")
    with demo.app_context():
        session = db.session()
        today = clock.town_today()
        overdue = sorted(
            c.id for c in overdue_cases(session, today=today) if c.group.code == "PG01-01"
        )
        cases = session.scalars(select(Case).where(Case.kind == "farmland")).all()
        lon, lat = cases[0].point_lon, cases[0].point_lat
        box = (lon - 0.003, lat - 0.003, lon + 0.003, lat + 0.003)
        import shapely

        inside = sorted(c.id for c in cases if c.geom.intersects(shapely.box(*box)))

    by_group = client.get("/ledgers/all.geojson?group=PG01-01&overdue=1")
    by_box = client.get(f"/ledgers/farmland.geojson?bbox={','.join(map(str, box))}")
    bad_box = client.get("/ledgers/farmland.geojson?bbox=1,2")

    assert sorted(f["id"] for f in by_group.get_json()["features"]) == overdue
    assert sorted(f["properties"]["id"] for f in by_box.get_json()["features"]) == inside
    assert inside and bad_box.status_code == 422


def test_member_may_not_download_a_foreign_village(demo, client):
    login(client, MEMBER)

    foreign = client.get("/ledgers/all.geojson?village=PG02")
    other_group = client.get("/ledgers/all.geojson?group=PG01-02")

    assert foreign.status_code == 422 and other_group.status_code == 422
