"""The command line: init-db, demo, import-grid and create-user, with clear failures."""

from pathlib import Path

from sqlalchemy import func, select

from inspection import db
from inspection.accounts.models import User
from inspection.grid.models import GridCell

DATA = Path(__file__).parents[1] / "data"


def count(app, model) -> int:
    """Rows of a model in the app's database."""
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_init_db_reports_up_to_date(runner):
    result = runner.invoke(args=["init-db"])

    assert result.exit_code == 0
    assert "数据库已是最新" in result.output


def test_demo_loads_once_and_prints_logins(app, runner):
    first = runner.invoke(args=["demo"])
    cells = count(app, GridCell)
    second = runner.invoke(args=["demo"])

    assert first.exit_code == 0 and second.exit_code == 0
    assert "zhangzhen" in first.output and "demo1234" in first.output
    assert cells > 40 and count(app, GridCell) == cells
    # Its 图斑 batch and 回头看, once: the two closed cases under a 图斑 are re-checked by its deadline.
    from inspection.rechecks.models import Recheck
    from inspection.tuban.models import Tuban

    assert "卫片图斑" in first.output and "卫片图斑" not in second.output
    with app.app_context():
        assert count(app, Tuban) == 6
        brought = db.session.scalars(select(Recheck).where(Recheck.origin == "tuban")).all()
        assert len(brought) == 2 and {r.case.kind for r in brought} == {
            "illegal_building",
            "farmland",
        }


def test_import_grid_geojson_builds_the_tree(app, runner):
    result = runner.invoke(args=["import-grid", str(DATA / "grid.geojson")])

    assert result.exit_code == 0, result.output
    with app.app_context():
        cells = db.session.scalars(select(GridCell)).all()
        levels = {c.level for c in cells}
        groups = [c for c in cells if c.level == "group"]
        assert levels == {"town", "village", "group"}
        assert all(g.parent is not None and g.parent.level == "village" for g in groups)
        assert all(c.area_m2 > 0 for c in cells)


def test_import_grid_gauss_kruger_and_gbk(app, runner):
    gk = runner.invoke(args=["import-grid", str(DATA / "grid_gk.zip")])

    assert gk.exit_code == 0, gk.output
    with app.app_context():
        lons = [c.min_lon for c in db.session.scalars(select(GridCell))]
    assert all(70 < lon < 140 for lon in lons)  # metres became degrees


def test_import_grid_without_crs_is_refused_and_imports_nothing(app, runner):
    result = runner.invoke(args=["import-grid", str(DATA / "groups_noprj.zip")])

    assert result.exit_code == 1
    assert "导入失败" in result.output and "EPSG" in result.output
    assert count(app, GridCell) == 0


def test_import_grid_without_crs_works_when_named(app, runner):
    runner.invoke(args=["import-grid", str(DATA / "grid.geojson")])

    result = runner.invoke(
        args=[
            "import-grid",
            str(DATA / "groups_noprj.zip"),
            "--crs",
            "EPSG:4526",
            "--level",
            "group",
        ]
    )

    assert result.exit_code == 0, result.output
    assert count(app, GridCell) > 0


def test_import_grid_broken_file_is_refused(app, runner, tmp_path):
    bad = tmp_path / "grid.geojson"
    bad.write_text("this is not json")

    result = runner.invoke(args=["import-grid", str(bad)])

    assert result.exit_code == 1
    assert "导入失败" in result.output
    assert count(app, GridCell) == 0


def test_create_user_with_grid_and_certificate(app, runner):
    runner.invoke(args=["import-grid", str(DATA / "grid.geojson")])
    with app.app_context():
        code = db.session.scalars(select(GridCell.code).where(GridCell.level == "group")).first()

    result = runner.invoke(
        args=[
            "create-user",
            "wang",
            "--role",
            "officer",
            "--grid",
            code,
            "--password",
            "long-enough",
            "--cert-number",
            "42060022009",
            "--cert-expires",
            "2030-12-31",
        ]
    )

    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalars(select(User).where(User.username == "wang")).one()
        assert user.check_password("long-enough") and [c.code for c in user.cells] == [code]
        assert str(user.cert_expires_on) == "2030-12-31"


def test_create_user_refuses_unknown_grid_and_short_password(runner):
    unknown = runner.invoke(
        args=["create-user", "a", "--role", "admin", "--grid", "NOPE", "--password", "x" * 10]
    )
    short = runner.invoke(args=["create-user", "b", "--role", "admin", "--password", "short"])

    assert unknown.exit_code == 1 and "NOPE" in unknown.output
    assert short.exit_code == 1 and "8" in short.output


def test_import_groups_after_their_villages(app, runner, tmp_path):
    import geopandas as gpd

    grid = gpd.read_file(DATA / "grid.geojson")
    is_group = grid["网格编码"].str.len() == 14
    upper, groups = tmp_path / "upper.geojson", tmp_path / "groups.geojson"
    grid[~is_group].to_file(upper)
    grid[is_group].to_file(groups)

    first = runner.invoke(args=["import-grid", str(upper)])
    second = runner.invoke(args=["import-grid", str(groups)])

    assert first.exit_code == 0 and second.exit_code == 0, second.output
    with app.app_context():
        cells = db.session.scalars(select(GridCell).where(GridCell.level == "group")).all()
        assert cells and all(c.parent is not None and c.parent.level == "village" for c in cells)


def cells_file(tmp_path: Path, name: str, rows) -> Path:
    """A GeoJSON of boxes: rows of (code, name, parent_code or None, (w, s, e, n) degrees)."""
    import json

    import shapely

    features = [
        {
            "type": "Feature",
            "properties": {"code": code, "name": label, "parent_code": parent},
            "geometry": json.loads(shapely.to_geojson(shapely.box(*box))),
        }
        for code, label, parent, box in rows
    ]
    path = tmp_path / name
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def test_a_county_of_two_towns_is_imported_level_by_level_and_named(app, runner, tmp_path):
    county = cells_file(
        tmp_path, "county.geojson", [("420116", "黄陂区", None, (113, 30, 113.04, 30.02))]
    )
    towns = cells_file(
        tmp_path,
        "towns.geojson",
        [("420116101", "甲镇", None, (113, 30, 113.02, 30.02)),
         ("420116102", "乙镇", None, (113.02, 30, 113.04, 30.02))],
    )  # fmt: skip

    first = runner.invoke(args=["import-grid", str(county), "--level", "county"])
    second = runner.invoke(args=["import-grid", str(towns), "--level", "town"])
    renamed = runner.invoke(args=["county", "--name", "黄陂区（测试）"])

    assert first.exit_code == 0 and second.exit_code == 0, second.output
    assert renamed.exit_code == 0 and "已更新县级网格 420116" in renamed.output
    with app.app_context():
        parents = {
            c.code: c.parent.code if c.parent else None
            for c in db.session.scalars(select(GridCell))
        }
        name = db.session.scalar(select(GridCell.name).where(GridCell.level == "county"))
    assert parents == {"420116": None, "420116101": "420116", "420116102": "420116"}
    assert name == "黄陂区（测试）"


def test_a_town_overlapping_another_is_refused_and_nothing_is_stored(app, runner, tmp_path):
    towns = cells_file(
        tmp_path,
        "towns.geojson",
        [
            ("T1", "甲镇", None, (113, 30, 113.025, 30.02)),
            ("T2", "乙镇", None, (113.02, 30, 113.04, 30.02)),
        ],
    )

    result = runner.invoke(args=["import-grid", str(towns), "--level", "town"])

    assert result.exit_code == 1 and "T1" in result.output and "重叠" in result.output
    assert count(app, GridCell) == 0


def test_county_command_makes_the_county_over_the_towns(app, runner, tmp_path):
    towns = cells_file(
        tmp_path,
        "towns.geojson",
        [("420116101", "甲镇", None, (113, 30, 113.02, 30.02)),
         ("420116102", "乙镇", None, (113.02, 30, 113.04, 30.02))],
    )  # fmt: skip
    runner.invoke(args=["import-grid", str(towns), "--level", "town"])

    result = runner.invoke(args=["county", "--name", "黄陂区"])

    assert result.exit_code == 0 and "已建立县级网格 420116 黄陂区" in result.output
    with app.app_context():
        county = db.session.scalar(select(GridCell).where(GridCell.level == "county"))
        assert county.boundary.bounds == (113, 30, 113.04, 30.02)
        assert sorted(c.code for c in county.children) == ["420116101", "420116102"]
