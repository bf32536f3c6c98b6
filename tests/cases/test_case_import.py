"""Importing ledgers: GeoJSON and Excel rows become cases with dated history; bad rows, re-imports."""

import json
from datetime import date
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from inspection import db
from inspection.cases.ledger_import import import_cases, import_cases_command
from inspection.cases.models import Case
from inspection.errors import InvalidInput
from tests.conftest import migrated_app
from tests.reporting.test_ledgers import make_town

DATA = Path(__file__).parents[1] / "data" / "import"


def history(case: Case) -> list[tuple[str, date]]:
    return [(change.to_status, change.on) for change in case.history]


def count(session) -> int:
    return session.scalar(select(func.count(Case.id)))


def write_xlsx(path: Path, rows: list[list]) -> Path:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    workbook.save(path)
    return path


BUILDING_LEDGER = [
    ["违法建筑台账"],
    ["编号", "当事人", "结构", "层数", "占地面积(㎡)", "发现日期", "状态", "拆除日期", "执法人员(证号)", "经度", "纬度"],
    ["WJ-1", "张三", "钢结构", 1, 120.5, date(2022, 5, 1), "已拆除", "2022年5月9日", "李执法(4206001)、赵执法(4206002)", 113.003, 30.001],
    ["WJ-2", "李四", "砖混", 2, 80, "2022-06-01", "待拆除", None, None, 113.0011, 30.0015],
]  # fmt: skip


def test_geojson_rows_become_cases_with_history_dates(session):
    make_town(session)

    result = import_cases(session, DATA / "issues.geojson")
    issue, farm = session.scalars(select(Case).order_by(Case.id)).all()

    assert result.ok and result.created == 2
    assert issue.category == "straw_burning"  # 环保问题 narrowed by the title
    assert "环保问题" in issue.history[0].note
    assert history(issue) == [
        ("reported", date(2022, 3, 1)),
        ("assigned", date(2022, 3, 5)),
        ("in_progress", date(2022, 3, 5)),
        ("done", date(2022, 3, 5)),
        ("verified", date(2022, 3, 8)),
    ]
    assert issue.status == "verified" and issue.verified_on == date(2022, 3, 8)
    assert issue.group.code == "T01-01"
    assert farm.kind == "farmland" and farm.crop == "油菜" and farm.parcel_no == "FG-9"
    assert history(farm)[-1] == ("in_progress", date(2022, 4, 2))
    assert farm.village.code == "T02" and farm.area_m2 > 0


def test_reimport_does_not_duplicate(session):
    make_town(session)
    import_cases(session, DATA / "issues.geojson")

    again = import_cases(session, DATA / "issues.geojson")

    assert again.created == 0 and again.existing == 2
    assert count(session) == 2


def test_excel_ledger_with_chinese_headers_and_officers(session, tmp_path):
    make_town(session)
    path = write_xlsx(tmp_path / "违法建筑台账.xlsx", BUILDING_LEDGER)

    result = import_cases(session, path)
    again = import_cases(session, path)
    done, open_ = session.scalars(select(Case).order_by(Case.id)).all()

    assert result.created == 2 and again.existing == 2 and count(session) == 2
    assert done.kind == "illegal_building" and done.structure == "steel"
    assert done.area_m2 == 120.5 and done.client_id == "import:illegal_building:WJ-1"
    assert done.done_on == date(2022, 5, 9)
    assert done.history[-1].details == {
        "officers": [
            {"name": "李执法", "cert_number": "4206001"},
            {"name": "赵执法", "cert_number": "4206002"},
        ]
    }
    assert history(open_) == [("reported", date(2022, 6, 1)), ("assigned", date(2022, 6, 1))]


def test_a_bad_row_imports_nothing_and_is_listed(session):
    make_town(session)

    result = import_cases(session, DATA / "bad_row.geojson")
    messages = [str(error) for error in result.errors]

    assert count(session) == 0 and result.created == 0
    assert [(e.row, e.field) for e in result.errors] == [(2, "found_on"), (3, "geometry")]
    assert "第2行" in messages[0] and "2022-13-45" in messages[0] and "row 2" in messages[0]
    assert "网格" in messages[1]


def test_skip_bad_imports_the_good_rows(session):
    make_town(session)

    result = import_cases(session, DATA / "bad_row.geojson", skip_bad=True)

    assert result.created == 1 and len(result.errors) == 2
    assert session.scalars(select(Case.title)).all() == ["好的一行"]


@pytest.mark.parametrize(
    ("row", "field"),
    [
        (["问题", "garbage", "x", "2022-03-01", "已整改", None, 113.001, 30.0005], "状态"),
        (["问题", "garbage", "x", "2022-03-01", "待核实", None, 113.001, 95.0], "geometry"),
        (["问题", "油烟", "x", "2022-03-01", None, None, 113.001, 30.0005], "类别"),
        (["问题", "garbage", "x", "2022-03-05", None, "2022-03-01", 113.001, 30.0005], "完成日期"),
        (["?", "garbage", "x", "2022-03-01", None, None, 113.001, 30.0005], "类型"),
        (["问题", "garbage", "x", None, None, None, 113.001, 30.0005], "found_on"),
    ],
    ids=["done-without-date", "lat-out-of-range", "unknown-category", "done-before-found", "kind", "no-date"],
)  # fmt: skip
def test_bad_excel_rows_name_the_field(session, tmp_path, row, field):
    make_town(session)
    header = ["类型", "类别", "标题", "发现日期", "状态", "完成日期", "经度", "纬度"]
    path = write_xlsx(tmp_path / "bad.xlsx", [header, row])

    result = import_cases(session, path)

    assert [(e.row, e.field) for e in result.errors] == [(2, field)]
    assert count(session) == 0


def test_files_that_are_not_what_they_say_are_refused(session, tmp_path):
    make_town(session)
    fake = tmp_path / "ledger.xlsx"
    fake.write_text("编号,标题\n1,x\n", encoding="utf-8")

    with pytest.raises(InvalidInput) as refused:
        import_cases(session, fake)

    assert refused.value.code == "not_xlsx"


def cli_app(tmp_path, **config):
    """An app with the import command registered and the test town, config overriding."""
    app = migrated_app(tmp_path, **config)
    if "import-cases" not in app.cli.commands:
        app.cli.add_command(import_cases_command)
    with app.app_context():
        make_town(db.session())
        db.session().commit()
    return app


def test_import_command_through_the_cli(tmp_path):
    app = cli_app(tmp_path)
    runner = app.test_cli_runner()

    bad = runner.invoke(args=["import-cases", str(DATA / "bad_row.geojson")])
    skipped = runner.invoke(args=["import-cases", str(DATA / "bad_row.geojson"), "--skip-bad"])
    good = runner.invoke(args=["import-cases", str(DATA / "issues.geojson")])

    assert bad.exit_code == 1 and "未导入任何案件" in bad.output and "第2行" in bad.output
    assert skipped.exit_code == 0 and "新建 1 件" in skipped.output
    assert good.exit_code == 0 and "新建 2 件" in good.output
    with app.app_context():
        assert count(db.session()) == 3
    app.extensions["db_engine"].dispose()


def test_the_vertex_limit_setting_bounds_imported_geometries(tmp_path):
    """MAX_VERTICES set lower than geodata's default refuses a 12-vertex parcel on import."""
    app = cli_app(tmp_path, MAX_VERTICES=10)
    ring = [(113.001 + 0.0005 * (i % 2), 30.001 + 0.0001 * i) for i in range(6)]
    ring += [(113.003 - 0.0005 * (i % 2), 30.0015 - 0.0001 * i) for i in range(5)]
    feature = {
        "type": "Feature",
        "properties": {"kind": "farmland", "title": "复耕地块甲", "found_on": "2022-03-01"},
        "geometry": {"type": "Polygon", "coordinates": [[*ring, ring[0]]]},
    }
    path = tmp_path / "parcel.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))

    result = app.test_cli_runner().invoke(args=["import-cases", str(path)])

    assert result.exit_code == 1 and "顶点过多（12 个，上限 10 个）" in result.output
    with app.app_context():
        assert count(db.session()) == 0
    app.extensions["db_engine"].dispose()


def test_geopackage_layer_becomes_cases(session, tmp_path):
    import geopandas as gpd
    import shapely

    make_town(session)
    frame = gpd.GeoDataFrame(
        {
            "kind": ["farmland", "illegal_building"],
            "title": ["复耕地块乙", "违建棚房"],
            "found_on": ["2022-04-01", "2022-05-03"],
            "status": ["已复耕", "待拆除"],
            "done_on": ["2022-04-20", None],
            "parcel_no": ["FG-21", None],
            "crop": ["水稻", None],
            "party": [None, "王五"],
            "structure": [None, "简易棚房"],
        },
        geometry=[
            shapely.box(113.0030, 30.0010, 113.0033, 30.0013),
            shapely.box(113.0005, 30.0002, 113.0007, 30.0004),
        ],
        crs="EPSG:4326",
    )
    path = tmp_path / "台账.gpkg"
    frame.to_file(path, driver="GPKG", layer="cases")

    result = import_cases(session, path)
    again = import_cases(session, path)
    farm, building = session.scalars(select(Case).order_by(Case.id)).all()

    assert result.ok and result.created == 2 and again.existing == 2 and count(session) == 2
    assert farm.kind == "farmland" and farm.parcel_no == "FG-21" and farm.crop == "水稻"
    assert farm.status == "done" and farm.done_on == date(2022, 4, 20)
    assert farm.village.code == "T02" and farm.area_m2 > 0
    assert farm.geom.equals(frame.geometry[0])
    assert building.party == "王五" and building.structure == "simple"
    assert history(building) == [("reported", date(2022, 5, 3)), ("assigned", date(2022, 5, 3))]
    assert building.group.code == "T01-01"


def test_excel_ledger_with_a_wkt_column(session, tmp_path):
    import shapely

    make_town(session)
    parcel = "POLYGON ((113.001 30.0011, 113.0014 30.0011, 113.0014 30.0016, 113.001 30.0016, 113.001 30.0011))"
    rows = [
        ["问题整改台账"],
        ["类型", "类别", "标题", "发现日期", "状态", "完成日期", "WKT"],
        ["问题", "污水直排", "河口排污", date(2022, 3, 1), "已整改", "2022-03-09", "POINT (113.003 30.0005)"],
        ["复耕地块", None, "复耕三", "2022/6/1", "待复耕", None, parcel],
    ]  # fmt: skip
    path = write_xlsx(tmp_path / "台账.xlsx", rows)

    result = import_cases(session, path)
    issue, farm = session.scalars(select(Case).order_by(Case.id)).all()

    assert result.ok and result.created == 2
    assert issue.category == "sewage" and issue.status == "done"
    assert issue.done_on == date(2022, 3, 9) and issue.village.code == "T02"
    assert issue.geom.equals(shapely.Point(113.003, 30.0005))
    assert farm.kind == "farmland" and farm.geom.equals(shapely.from_wkt(parcel))
    assert farm.group.code == "T01-02" and farm.status == "assigned"
    assert history(farm) == [("reported", date(2022, 6, 1)), ("assigned", date(2022, 6, 1))]


def test_every_problem_of_a_row_is_listed(session, tmp_path):
    make_town(session)
    header = ["类型", "类别", "标题", "发现日期", "状态", "完成日期", "经度", "纬度"]
    rows = [
        ["问题", "油烟", "三处错", "2022-13-45", None, None, 113.001, 95.0],
        ["问题", "garbage", "好的一行", "2022-03-01", None, None, 113.001, 30.0005],
    ]
    path = write_xlsx(tmp_path / "bad.xlsx", [header, *rows])

    result = import_cases(session, path)
    messages = [str(error) for error in result.errors]

    assert [(e.row, e.field) for e in result.errors] == [
        (2, "类别"),
        (2, "发现日期"),
        (2, "geometry"),
    ]
    assert "油烟" in messages[0] and "2022-13-45" in messages[1] and "row 2" in messages[2]
    assert count(session) == 0


def test_a_bad_row_outside_the_grid_says_so_beside_its_other_problems(session):
    make_town(session)
    result = import_cases(session, DATA / "outside_and_bad.geojson")  # no date, bad status

    assert [(e.row, e.field) for e in result.errors] == [
        (1, "found_on"),
        (1, "status"),
        (1, "geometry"),
    ]
    assert "网格" in str(result.errors[2])


def test_a_changed_reimport_is_listed_and_changes_nothing(session, tmp_path):
    make_town(session)
    import_cases(session, write_xlsx(tmp_path / "v1.xlsx", BUILDING_LEDGER))
    wj2 = session.scalars(
        select(Case).where(Case.client_id == "import:illegal_building:WJ-2")
    ).one()
    before = (wj2.status, wj2.done_on, wj2.floors, history(wj2))
    updated = [list(row) for row in BUILDING_LEDGER]
    updated[3][3], updated[3][6], updated[3][7] = 3, "已拆除", "2022-06-20"  # floors, status, date
    path = write_xlsx(tmp_path / "v2.xlsx", updated)

    again = import_cases(session, path)
    session.expire_all()

    assert again.ok and again.created == 0 and again.existing == 2 and again.changed == 1
    assert [str(w) for w in again.warnings] == [
        "第4行：已导入的案件与文件不同（状态、完成日期、层数），未更新 / "
        "row 4: the case imported before differs from the file (status, done_on, floors); "
        "not updated"
    ]
    assert (wj2.status, wj2.done_on, wj2.floors, history(wj2)) == before
    assert count(session) == 2


def test_the_summary_line_counts_changed_rows(tmp_path):
    app = cli_app(tmp_path)
    path = write_xlsx(tmp_path / "v1.xlsx", BUILDING_LEDGER)
    runner = app.test_cli_runner()
    first = runner.invoke(args=["import-cases", str(path)])
    updated = [list(row) for row in BUILDING_LEDGER]
    updated[2][1] = "张三丰"  # 当事人 of WJ-1, and so its title
    again = runner.invoke(args=["import-cases", str(write_xlsx(tmp_path / "v2.xlsx", updated))])

    assert first.exit_code == 0 and "（其中 0 件与文件不同，未更新）" in first.output
    assert (
        again.exit_code == 0
        and "第3行：已导入的案件与文件不同（当事人、标题），未更新" in again.output
    )
    assert "已存在 2 件（其中 1 件与文件不同，未更新）" in again.output
    assert "already there 2 (1 of them differ from the file, not updated)" in again.output
    app.extensions["db_engine"].dispose()


def test_environment_without_a_telling_word_is_garbage_with_a_warning(session, tmp_path):
    make_town(session)
    rows = [
        ["类型", "类别", "标题", "发现日期", "经度", "纬度"],
        ["问题", "环保问题", "河道非法采砂", "2022-03-01", 113.001, 30.0005],
        ["问题", "环保问题", "路边异味", "2022-03-02", 113.0012, 30.0006],
    ]
    path = write_xlsx(tmp_path / "环保.xlsx", rows)

    result = import_cases(session, path)
    sand, unknown = session.scalars(select(Case).order_by(Case.id)).all()

    assert result.ok and result.created == 2
    assert sand.category == "sand_mining" and unknown.category == "garbage"
    assert [(w.row, w.field) for w in result.warnings] == [(3, "类别")]
    assert "垃圾乱堆乱放" in str(result.warnings[0]) and "garbage" in str(result.warnings[0])
    assert "归为“垃圾乱堆乱放”" in unknown.history[0].note
