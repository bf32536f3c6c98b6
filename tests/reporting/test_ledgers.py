"""台账 frames, Excel and CSV: columns, order by 村/组, subtotals, formats, no formulas from text."""

import csv
import io
from datetime import date, datetime

import pytest
import shapely
from openpyxl import load_workbook

from geodata.area import geodesic_area_m2
from inspection.accounts.models import User
from inspection.cases.history import record_change
from inspection.cases.records import create_case
from inspection.grid.models import GridCell
from inspection.reporting.ledgers import (
    LEDGER_COLUMNS,
    ledger_frame,
    write_ledger_csv,
    write_ledger_xlsx,
    write_ledgers_xlsx,
)
from inspection.vocab import M2_PER_MU

CELLS = [
    ("town", "T", "平岗镇", None, (113.000, 30.000, 113.004, 30.002)),
    ("village", "T01", "平岗村", "T", (113.000, 30.000, 113.002, 30.002)),
    ("village", "T02", "河口村", "T", (113.002, 30.000, 113.004, 30.002)),
    ("group", "T01-01", "一组", "T01", (113.000, 30.000, 113.002, 30.001)),
    ("group", "T01-02", "二组", "T01", (113.000, 30.001, 113.002, 30.002)),
    ("group", "T02-01", "一组", "T02", (113.002, 30.000, 113.004, 30.002)),
]


def make_town(session) -> dict[str, GridCell]:
    """A town of two villages and three groups, drawn by hand as boxes."""
    cells: dict[str, GridCell] = {}
    for level, code, name, parent, bounds in CELLS:
        cell = GridCell(level=level, code=code, name=name, parent=cells.get(parent))
        cell.set_boundary(shapely.box(*bounds))
        cell.area_m2 = geodesic_area_m2(cell.boundary)
        cells[code] = cell
    session.add(cells["T"])
    session.flush()
    return cells


def seed_cases(session) -> dict[str, object]:
    """Cases of every kind in both villages, some with formula-looking text and officers."""
    make_town(session)
    member = User(username="wgy", display_name="王网格", role="grid_member", password_hash="x")
    session.add(member)
    issue_v2, _ = create_case(
        session,
        "issue",
        shapely.Point(113.003, 30.0005),
        {
            "category": "sewage",
            "title": "河口排污",
            "source": "superior",
            "doc_number": "镇办〔2022〕3号",
        },
        member,
        found_on=date(2022, 3, 1),
    )
    issue_v1, _ = create_case(
        session,
        "issue",
        shapely.Point(113.001, 30.0015),
        {
            "category": "garbage",
            "title": '=HYPERLINK("http://x","点我")',
            "description": "+86 电话",
            "remarks": "@备注",
            "measures": "-清运",
            "deadline_on": date(2022, 4, 1),
        },
        member,
        found_on=date(2022, 3, 5),
    )
    record_change(session, issue_v1, "assigned", None, on=date(2022, 3, 6))
    record_change(session, issue_v1, "in_progress", None, on=date(2022, 3, 7))
    record_change(session, issue_v1, "done", None, on=date(2022, 3, 9))
    building_box = shapely.box(113.0005, 30.0002, 113.0007, 30.0004)
    building, _ = create_case(
        session,
        "illegal_building",
        building_box,
        {"title": "违建仓库", "party": "张三", "structure": "steel", "floors": 1},
        member,
        found_on=date(2022, 5, 1),
    )
    officers = [{"name": "李执法", "cert_number": "42060022001"}]
    record_change(session, building, "assigned", None, on=date(2022, 5, 2))
    record_change(
        session, building, "in_progress", None, on=date(2022, 5, 3), details={"officers": officers}
    )
    record_change(
        session,
        building,
        "done",
        None,
        on=date(2022, 5, 9),
        details={"officers": [*officers, {"name": "赵执法", "cert_number": "42060022002"}]},
    )
    farm_v1, _ = create_case(
        session,
        "farmland",
        shapely.box(113.0010, 30.0011, 113.0014, 30.0016),
        {"title": "复耕一", "parcel_no": "FG-01", "land_type": "坑塘", "crop": "水稻"},
        member,
        found_on=date(2022, 6, 1),
    )
    farm_v2, _ = create_case(
        session,
        "farmland",
        shapely.box(113.0030, 30.0010, 113.0033, 30.0013),
        {"title": "复耕二", "parcel_no": "FG-02"},
        member,
        found_on=date(2022, 6, 2),
    )
    session.flush()
    return {
        "issue_v1": issue_v1,
        "issue_v2": issue_v2,
        "building": building,
        "farm_v1": farm_v1,
        "farm_v2": farm_v2,
    }


def all_cases(seeded):
    return list(seeded.values())


def test_issue_frame_has_domain_columns_sorted_by_village_then_group(session):
    seeded = seed_cases(session)

    frame = ledger_frame(all_cases(seeded), "issue")

    assert list(frame.columns) == ["序号", *(c.header for c in LEDGER_COLUMNS["issue"])]
    assert list(frame.columns)[1:] == [
        "编号", "发现日期", "来源", "文号", "类别", "位置(村/组)", "问题描述", "责任人",
        "整改期限", "整改措施", "状态", "整改完成日期", "销号日期", "备注",
    ]  # fmt: skip
    assert frame["序号"].tolist() == [1, 2]
    assert frame["位置(村/组)"].tolist() == ["平岗村/二组", "河口村/一组"]
    assert frame["状态"].tolist() == ["已整改", "待核实"]
    assert frame["来源"].tolist() == ["巡查发现", "上级交办"]
    assert frame["类别"].tolist() == ["垃圾乱堆乱放", "污水直排"]
    assert frame["整改完成日期"].tolist()[0] == date(2022, 3, 9)


def test_building_frame_names_officers_and_demolished_area(session):
    seeded = seed_cases(session)
    building = seeded["building"]

    frame = ledger_frame(all_cases(seeded), "illegal_building")
    row = frame.iloc[0]

    assert row["执法人员(证号)"] == "李执法(42060022001)、赵执法(42060022002)"
    assert row["状态"] == "已拆除" and row["拆除日期"] == date(2022, 5, 9)
    assert row["拆除面积(㎡)"] == building.area_m2 == row["占地面积(㎡)"]
    assert row["结构"] == "钢结构" and row["当事人"] == "张三"


def test_farmland_frame_subtotals_per_village_sum_unrounded(session):
    seeded = seed_cases(session)
    farm_v1, farm_v2 = seeded["farm_v1"], seeded["farm_v2"]

    frame = ledger_frame(all_cases(seeded), "farmland", subtotals=True)

    assert frame["位置(村/组)"].tolist() == [
        "平岗村/二组", "平岗村 小计（1件）", "河口村/一组", "河口村 小计（1件）",
    ]  # fmt: skip
    assert frame["序号"].tolist()[::2] == [1, 2]
    assert frame.iloc[1]["面积(㎡)"] == farm_v1.area_m2
    assert frame.iloc[3]["面积(亩)"] == pytest.approx(farm_v2.area_m2 / M2_PER_MU, rel=1e-12)
    assert frame.iloc[0]["图斑编号"] == "FG-01"


def test_excel_ledger_reopens_with_headers_formats_and_text_not_formulas(session, tmp_path):
    seeded = seed_cases(session)
    path = tmp_path / "问题整改台账.xlsx"

    write_ledger_xlsx(ledger_frame(all_cases(seeded), "issue"), "issue", path)
    sheet = load_workbook(path)["问题整改台账"]
    headers = [c.value for c in sheet[1]]
    cells = [c for row in sheet.iter_rows() for c in row]
    column = {h: i + 1 for i, h in enumerate(headers)}

    assert headers[0] == "序号" and "整改期限" in headers
    assert all(c.font.bold for c in sheet[1])
    assert sheet.freeze_panes == "B2"
    assert [sheet.cell(r, 1).value for r in (2, 3)] == [1, 2]
    assert [c for c in cells if c.data_type == "f"] == []
    described = sheet.cell(2, column["问题描述"])
    assert described.value == '=HYPERLINK("http://x","点我")：+86 电话'
    assert described.data_type == "s" and described.quotePrefix
    assert sheet.cell(2, column["备注"]).value == "@备注"
    assert sheet.cell(2, column["整改措施"]).value == "-清运"
    found = sheet.cell(2, column["发现日期"])
    assert isinstance(found.value, datetime) and found.value.date() == date(2022, 3, 5)
    assert found.is_date


def test_excel_numbers_use_two_decimal_format(session, tmp_path):
    seeded = seed_cases(session)
    path = tmp_path / "台账.xlsx"
    frames = {k: ledger_frame(all_cases(seeded), k, subtotals=True) for k in LEDGER_COLUMNS}

    write_ledgers_xlsx(frames, path)
    book = load_workbook(path)
    sheet = book["复耕台账"]
    headers = [c.value for c in sheet[1]]
    area = sheet.cell(2, headers.index("面积(亩)") + 1)
    subtotal = sheet.cell(3, headers.index("面积(㎡)") + 1)

    assert book.sheetnames == ["问题整改台账", "违法建筑台账", "复耕台账"]
    assert area.number_format == "#,##0.00"
    assert area.value == pytest.approx(seeded["farm_v1"].area_m2 / M2_PER_MU, rel=1e-12)
    assert subtotal.font.bold and subtotal.value == pytest.approx(seeded["farm_v1"].area_m2)
    assert sheet.cell(3, 1).value is None  # a 小计 row has no 序号


def test_csv_ledger_has_bom_same_columns_and_defused_formulas(session):
    seeded = seed_cases(session)
    frame = ledger_frame(all_cases(seeded), "issue")
    buffer = io.BytesIO()

    write_ledger_csv(frame, "issue", buffer)
    data = buffer.getvalue()
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))

    assert data.startswith(b"\xef\xbb\xbf")
    assert rows[0] == list(frame.columns)
    assert rows[1][frame.columns.get_loc("问题描述")].startswith("'=HYPERLINK")
    assert rows[1][frame.columns.get_loc("发现日期")] == "2022-03-05"
    assert rows[2][frame.columns.get_loc("状态")] == "待核实"
