"""The monthly 考核 sheet: rows per 网格员 and village, who reads which rows, the xlsx reopened by openpyxl."""

import io
from datetime import UTC, date, datetime, timedelta

import pytest
import shapely
from openpyxl import load_workbook
from sqlalchemy import select

from inspection import db
from inspection.accounts.models import User
from inspection.cases.records import create_case
from tests.conftest import login
from tests.patrols.support import gpx


def north_walk(lon, start, n=11):
    return [(lon, 30.001 + i * 1e-4, start + timedelta(seconds=8 * i)) for i in range(n)]


@pytest.fixture
def month(town_app, tmp_path):
    """Two patrols of wgy_a1 and one of wgy_a2 in May 2024, and wgy_a1's cases found on patrol."""
    runner = town_app.test_cli_runner()
    for i, (user, lon, day) in enumerate(
        (("wgy_a1", 113.0025, 6), ("wgy_a1", 113.003, 7), ("wgy_a2", 113.007, 7))
    ):
        path = tmp_path / f"p{i}.gpx"
        path.write_bytes(gpx(north_walk(lon, datetime(2024, 5, day, 1, tzinfo=UTC))))
        assert runner.invoke(args=["import-patrol", str(path), "--user", user]).exit_code == 0
    with town_app.app_context():
        s = db.session()
        reporter = s.scalar(select(User).where(User.username == "wgy_a1"))
        for done_on in (date(2024, 5, 9), date(2024, 5, 30), None):
            case, _ = create_case(s, "issue", shapely.Point(113.001, 30.002),
                                  {"title": "=垃圾", "category": "garbage",
                                   "deadline_on": date(2024, 5, 20)}, reporter,
                                  found_on=date(2024, 5, 6))  # fmt: skip
            case.done_on = done_on
        s.commit()
    return "2024-05"


def rows_of(client, month):
    html = client.get(f"/patrols/assessment?month={month}").get_data(as_text=True)
    return html


def test_the_sheet_reopens_in_openpyxl_with_rows_subtotals_and_total(town_app, month):
    client = town_app.test_client()
    login(client, "zhangzhen")

    answer = client.get(f"/patrols/assessment.xlsx?month={month}")

    assert answer.status_code == 200
    sheet = load_workbook(io.BytesIO(answer.data)).active
    assert sheet["A1"].value == "2024年5月网格员巡查考核表"
    header = [c.value for c in sheet[2]]
    assert header[:4] == ["序号", "村", "网格员", "账号"] and "里程(km)" in header
    assert sheet["A2"].font.bold and sheet.freeze_panes == "C3"
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=3)]
    by_login = {r[3]: dict(zip(header, r, strict=True)) for r in rows if r[3]}
    a1 = by_login["wgy_a1"]
    assert (a1["巡查次数"], a1["巡查天数"], a1["巡查发现(件)"], a1["其中按期整改(件)"]) == (
        2,
        2,
        3,
        1,
    )
    assert a1["里程(km)"] == pytest.approx(2 * 0.1109, rel=0.01)  # 10 hops of ≈ 11.09 m each
    assert 0 < a1["负责组覆盖率(%)"] <= 100
    assert by_login["wgy_a2"]["巡查次数"] == 1
    labels = [r[1] for r in rows if r[0] is None]
    assert any(label.startswith("平岗村 小计") for label in labels)
    assert labels[-1].startswith("合计")
    total = dict(zip(header, rows[-1], strict=True))
    assert total["巡查次数"] == 3
    numbers = [c for c in sheet[3] if isinstance(c.value, float)]
    assert numbers and all(c.number_format == "#,##0.00" for c in numbers)


@pytest.mark.parametrize(
    ("username", "sees", "hidden"),
    [
        ("zhangzhen", {"wgy_a1", "wgy_a2", "cz_b"}, set()),
        ("admin", {"wgy_a1", "wgy_a2"}, set()),
        ("cz_a", {"wgy_a1", "wgy_a2", "cz_a"}, {"cz_b"}),
        ("wgy_a1", {"wgy_a1"}, {"wgy_a2", "cz_a"}),
    ],
)
def test_who_reads_which_rows(town_app, month, username, sees, hidden):
    client = town_app.test_client()
    login(client, username)

    html = rows_of(client, month)

    assert all(f"<td>{name}</td>" in html for name in sees), html[-3000:]
    assert not any(f"<td>{name}</td>" in html for name in hidden)


def test_officers_and_bad_months_are_refused(town_app, month):
    officer = town_app.test_client()
    login(officer, "liuwei")
    chief = town_app.test_client()
    login(chief, "zhangzhen")

    assert officer.get(f"/patrols/assessment?month={month}").status_code == 403
    assert chief.get("/patrols/assessment?month=2024-13").status_code == 422
    assert chief.get("/patrols/assessment.xlsx?month=nope").status_code == 422
