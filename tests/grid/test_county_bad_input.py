"""Issue 16's bad input: towns of two counties, a town code reused, a village whose parent is missing,
a ledger naming an unknown town. Each refused with the codes concerned, nothing stored; both backends."""

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from inspection import db
from inspection.cases.models import Case
from inspection.grid.models import GridCell
from tests.conftest import migrated_app
from tests.ops.test_cli import cells_file

TOWNS = [
    ("420116101", "甲镇", None, (113.00, 30.00, 113.02, 30.02)),
    ("420116102", "乙镇", None, (113.02, 30.00, 113.04, 30.02)),
]
VILLAGES = [
    ("420116101001", "甲村", "420116101", (113.00, 30.00, 113.02, 30.02)),
    ("420116102001", "乙村", "420116102", (113.02, 30.00, 113.04, 30.02)),
]
GROUPS = [
    ("420116101001001", "甲一组", "420116101001", (113.00, 30.00, 113.02, 30.02)),
    ("420116102001001", "乙一组", "420116102001", (113.02, 30.00, 113.04, 30.02)),
]


@pytest.fixture
def county(db_url, tmp_path):
    """An app on each backend with two towns of county 420116, a village and a group in each."""
    app = migrated_app(tmp_path, DATABASE_URL=db_url)
    runner = app.test_cli_runner()
    for level, rows in (("town", TOWNS), ("village", VILLAGES), ("group", GROUPS)):
        result = runner.invoke(args=["import-grid", str(cells_file(tmp_path, f"{level}.geojson", rows)), "--level", level])
        assert result.exit_code == 0, result.output
    yield app, runner
    app.extensions["db_engine"].dispose()


def grid_state(app) -> list[tuple]:
    """Every stored cell as (level, code, name, parent code)."""
    with app.app_context():
        cells = db.session.scalars(select(GridCell).order_by(GridCell.code)).all()
        return [(c.level, c.code, c.name, c.parent.code if c.parent else None) for c in cells]


def test_a_file_of_towns_from_two_counties_is_refused(county, tmp_path):
    app, runner = county
    before = grid_state(app)
    towns = cells_file(
        tmp_path,
        "two.geojson",
        [("420116103", "丙镇", None, (113.04, 30.00, 113.06, 30.02)),
         ("420117101", "外县镇", None, (113.06, 30.00, 113.08, 30.02))],
    )  # fmt: skip

    result = runner.invoke(args=["import-grid", str(towns), "--level", "town"])

    assert result.exit_code == 1
    assert "导入失败，未写入任何网格" in result.output and "不同的县" in result.output
    assert "420116" in result.output and "420117" in result.output
    assert grid_state(app) == before


def test_a_town_code_reused_for_a_village_is_refused(county, tmp_path):
    app, runner = county
    before = grid_state(app)
    village = cells_file(tmp_path, "reuse.geojson", [("420116102", "新村", "420116101", (113.0, 30.0, 113.01, 30.01))])

    result = runner.invoke(args=["import-grid", str(village), "--level", "village"])

    assert result.exit_code == 1
    assert "编码 420116102 已是镇级网格的编码，不能再用于村级网格" in result.output
    assert grid_state(app) == before  # 乙镇 is still a town, with its village


def test_a_town_code_twice_in_one_file_is_refused(county, tmp_path):
    app, runner = county
    before = grid_state(app)
    towns = cells_file(
        tmp_path,
        "twice.geojson",
        [("420116103", "丙镇", None, (113.04, 30.00, 113.06, 30.02)),
         ("420116103", "丁镇", None, (113.06, 30.00, 113.08, 30.02))],
    )  # fmt: skip

    result = runner.invoke(args=["import-grid", str(towns), "--level", "town"])

    assert result.exit_code == 1 and "网格编码 420116103 重复 2 次" in result.output
    assert grid_state(app) == before


def test_a_village_whose_parent_code_is_missing_is_refused(county, tmp_path):
    app, runner = county
    before = grid_state(app)
    villages = cells_file(
        tmp_path,
        "orphan.geojson",
        [("420116101002", "好村", "420116101", (113.0, 30.0, 113.01, 30.01)),
         ("420116109001", "孤村", "420116109", (113.01, 30.0, 113.02, 30.01))],
    )  # fmt: skip

    result = runner.invoke(args=["import-grid", str(villages), "--level", "village"])

    assert result.exit_code == 1
    assert "网格 420116109001 的上级 420116109 不存在或不是镇级网格" in result.output
    assert grid_state(app) == before  # the good village of the file is not stored either


def ledger(tmp_path: Path, towns: list[str | None]) -> Path:
    """A GeoJSON ledger of issues in 甲镇 (one per entry), each naming the given town (None: none)."""
    features = [
        {
            "type": "Feature",
            "properties": {
                "编号": f"L{i}", "类型": "问题", "类别": "垃圾乱堆乱放", "标题": f"垃圾 {i}",
                "发现日期": "2026-03-01", **({"所属乡镇": town} if town is not None else {}),
            },
            "geometry": {"type": "Point", "coordinates": [113.005 + i * 0.001, 30.005]},
        }
        for i, town in enumerate(towns)
    ]  # fmt: skip
    path = tmp_path / "ledger.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False))
    return path


def case_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Case.id)))


def test_a_ledger_naming_an_unknown_town_imports_nothing(county, tmp_path):
    app, runner = county
    path = ledger(tmp_path, ["甲镇", "420116101", "石桥镇"])

    result = runner.invoke(args=["import-cases", str(path)])

    assert result.exit_code == 1
    assert "第3行" in result.output and "没有编码或名称为“石桥镇”的镇" in result.output
    assert case_count(app) == 0


def test_a_ledger_row_naming_another_town_than_where_it_lies_is_refused(county, tmp_path):
    app, runner = county
    path = ledger(tmp_path, ["乙镇"])

    result = runner.invoke(args=["import-cases", str(path)])

    assert result.exit_code == 1
    assert "位置在甲镇（420116101）内，不在表中所写的乙镇（420116102）" in result.output
    assert case_count(app) == 0


def test_a_ledger_naming_its_towns_by_name_or_code_imports(county, tmp_path):
    app, runner = county
    path = ledger(tmp_path, ["甲镇", "420116101", None])

    result = runner.invoke(args=["import-cases", str(path)])

    assert result.exit_code == 0, result.output
    with app.app_context():
        towns = db.session.scalars(select(GridCell.code).join(Case, Case.town_id == GridCell.id)).all()
    assert towns == ["420116101"] * 3
