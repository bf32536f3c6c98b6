"""The bulletin page, its Excel download and `flask bulletin`: scope, errors, the file reopened."""

import json
from io import BytesIO

import pytest
from openpyxl import load_workbook

from inspection import db
from inspection.accounts.models import User
from inspection.bulletins.commands import bulletin_command
from inspection.cases.extension import extend_deadline
from inspection.cases.models import Case
from tests.conftest import login
from tests.test_route_access import seed_county


@pytest.fixture
def county(app):
    """The route-access county (平岗镇 PG with its case, 石桥镇 SQ), the case assigned in 2026-01."""
    from datetime import date

    from inspection.cases.history import record_change

    ids = seed_county(app)
    with app.app_context():
        s = db.session()
        case = s.get(Case, ids["case"])
        case.found_on = date(2026, 1, 5)
        case.history[0].on = date(2026, 1, 5)
        record_change(s, case, "assigned", None, on=date(2026, 1, 6))
        case.deadline_on = date(2026, 1, 20)
        s.commit()
        supervisor = s.scalar(
            __import__("sqlalchemy").select(User).where(User.username == "zhangzhen")
        )
        extend_deadline(s, case, supervisor, deadline_on=date(2026, 2, 10), reason="雨雪",
                        today=date(2026, 1, 15))  # fmt: skip
        s.commit()
    if "bulletin" not in app.cli.commands:
        app.cli.add_command(bulletin_command)
    return ids


def client_of(app, username):
    client = app.test_client()
    assert login(client, username).status_code in (302, 303)
    return client


def test_the_page_shows_the_towns_figures_and_the_paragraph(app, county):
    html = client_of(app, "zhangzhen").get("/bulletins/?month=2026-01").get_data(as_text=True)

    assert "1月，全镇共发现问题1个，整改完成0个，结案率0%，按期结案率0%，延期率100%" in html
    assert "—" in html  # 返工率: nothing rectified


def test_scope_another_towns_supervisor_gets_404_and_the_county_chooses(app, county):
    other = client_of(app, "zhang_sq")
    assert other.get("/bulletins/?month=2026-01&town=PG").status_code == 404
    own = other.get("/bulletins/?month=2026-01").get_data(as_text=True)
    assert "石桥镇" in own and "全镇共发现问题0个" in own
    assert client_of(app, "cz_a").get("/bulletins/?month=2026-01").status_code == 404
    county_page = client_of(app, "xian").get("/bulletins/?month=2026-01").get_data(as_text=True)
    assert "全县共发现问题1个" in county_page and "石桥镇" in county_page


@pytest.mark.parametrize("month", ["2099-01", "2026-13", "x"])
def test_a_future_or_malformed_month_is_a_400_with_its_reason(app, county, month):
    response = client_of(app, "zhangzhen").get(f"/bulletins/?month={month}")
    assert response.status_code == 400
    assert "尚未开始" in response.get_data(as_text=True) or "YYYY-MM" in response.get_data(
        as_text=True
    )


def test_the_xlsx_reopens_with_headers_and_a_villages_values(app, county):
    response = client_of(app, "zhangzhen").get("/bulletins/bulletin.xlsx?month=2026-01")
    assert response.status_code == 200
    book = load_workbook(BytesIO(response.data))
    try:
        sheet = book["村"]
        headers = [c.value for c in sheet[1]]
        assert headers[:5] == ["序号", "村", "发现(个)", "整改完成(个)", "结案率"]
        rows = {r[1]: r for r in sheet.iter_rows(min_row=2, values_only=True)}
        first = rows[next(iter(rows))]
        values = dict(zip(headers, first, strict=True))
        assert (values["发现(个)"], values["延期(个)"], values["延期率"]) == (1, 1, 1.0)
        assert values["返工率"] == "—"
        assert set(book.sheetnames) == {"村", "网格员", "红黑榜", "现场核查"}
        assert [c.value for c in book["现场核查"][2]][:3] == ["平岗镇", 0, 0]
        assert "1月" in book["红黑榜"]["A2"].value
    finally:
        book.close()


def test_cli_json_and_errors(app, county, tmp_path):
    runner = app.test_cli_runner()

    printed = runner.invoke(args=["bulletin", "--month", "2026-01", "--town", "PG"])
    future = runner.invoke(args=["bulletin", "--month", "2099-01"])
    bad = runner.invoke(args=["bulletin", "--month", "2026/01"])
    out = tmp_path / "b.xlsx"
    written = runner.invoke(
        args=["bulletin", "--month", "2026-01", "--format", "xlsx", "--out", str(out)]
    )

    assert printed.exit_code == 0, printed.output
    data = json.loads(printed.output)
    assert (data["month"], data["found"], data["extended"], data["rework_rate"]) == (
        "2026-01",
        1,
        1,
        None,
    )
    assert data["summary_zh"].startswith("1月，全镇共发现问题1个")
    assert future.exit_code != 0 and "尚未开始" in future.output
    assert bad.exit_code != 0 and "YYYY-MM" in bad.output
    assert written.exit_code == 0 and out.stat().st_size > 0


def test_the_docx_reopens_with_title_paragraph_tables_and_lists(app, county, tmp_path):
    from tests.documents.support import east_asia_fonts, reopen, table_texts

    response = client_of(app, "zhangzhen").get("/bulletins/bulletin.docx?month=2026-01")
    assert response.status_code == 200
    document = reopen(response.data)
    texts = [p.text for p in document.paragraphs]

    assert texts[0] == "平岗镇2026年1月网格巡查工作通报"
    assert texts[1].startswith("1月，全镇共发现问题1个")
    villages, members, field_checks = document.tables
    assert table_texts(villages)[0][:4] == ["村", "发现(个)", "整改完成(个)", "结案率"]
    total = table_texts(villages)[-1]
    assert total[0] == "合计" and total[1] == "1" and total[5] == "—"  # 返工率: nothing rectified
    assert table_texts(members)[0][:2] == ["网格员", "村"]
    assert table_texts(field_checks)[1][:2] == ["平岗镇", "0"]
    assert any(t.startswith("红榜（村）：") for t in texts)
    assert all(font for font in east_asia_fonts(document))
    out = tmp_path / "b.docx"
    written = app.test_cli_runner().invoke(
        args=["bulletin", "--month", "2026-01", "--format", "docx", "--out", str(out)]
    )
    assert written.exit_code == 0, written.output
    assert reopen(out.read_bytes()).paragraphs[0].text.endswith("网格巡查工作通报")
