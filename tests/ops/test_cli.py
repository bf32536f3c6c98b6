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
