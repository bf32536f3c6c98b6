"""Importing 卫片图斑: each linked to the cases on its ground or dispatched to its 组; bad rows refused."""

import json
import zipfile
from datetime import date

import geopandas as gpd
import pytest
import shapely
from shapely.geometry import Polygon, box
from sqlalchemy import func, select

from geodata.area import geodesic_area_m2
from geodata.errors import GeodataError
from inspection.accounts.models import User
from inspection.errors import InvalidInput
from inspection.tuban.importer import import_batch
from inspection.tuban.models import Tuban, TubanBatch
from tests.conftest import migrated_app
from tests.reporting.test_ledgers import seed_cases

DEADLINE = date(2026, 12, 31)


def frame(
    rows: list[tuple], id_field: str = "图斑编号", crs: str = "EPSG:4326"
) -> gpd.GeoDataFrame:
    """A 图斑 frame: (number, geometry, 变化类型) rows."""
    return gpd.GeoDataFrame(
        {
            id_field: [r[0] for r in rows],
            "变化类型": [r[2] if len(r) > 2 else "新增建设" for r in rows],
        },
        geometry=[r[1] for r in rows],
        crs="EPSG:4326",
    ).to_crs(crs)


def seeded(session):
    """The ledgers' test town with its cases and a 网格员 for each group."""
    cases = seed_cases(session)
    from inspection.grid.models import GridCell

    for code in ("T01-01", "T01-02", "T02-01"):
        cell = session.scalar(select(GridCell).where(GridCell.code == code))
        member = User(
            username=f"wg{code}",
            display_name=f"网格员{code}",
            role="grid_member",
            password_hash="x",
        )
        member.cells.append(cell)
        session.add(member)
    session.flush()
    return cases


BOW_TIE = Polygon(
    [(113.0002, 30.0012), (113.0006, 30.0016), (113.0006, 30.0012), (113.0002, 30.0016)]
)
ROWS = [
    ("TB-1", box(113.0010, 30.0011, 113.0014, 30.0015)),  # on 复耕一 (FG-01): linked
    ("TB-2", box(113.0001, 30.0001, 113.0005, 30.0004)),  # open ground in T01-01: task
    ("TB-3", box(113.0019, 30.0014, 113.0030, 30.0018)),  # mostly in T02-01, a little in T01-02
    ("TB-4", box(114.0, 31.0, 114.001, 31.001)),  # outside the town
    ("TB-2", box(113.0001, 30.0001, 113.0002, 30.0002)),  # the number again
    ("TB-6", Polygon()),  # empty
    ("TB-7", BOW_TIE),  # self-intersecting: repaired
    ("TB-8", box(113.0031, 30.0001, 113.0031 + 1e-9, 30.0002)),  # a sliver
]


def test_a_batch_links_dispatches_and_refuses(session, tmp_path):
    cases = seeded(session)
    path = tmp_path / "batch.geojson"
    frame(ROWS).to_file(path)

    report = import_batch(session, path, batch_name="2026Q4", deadline_on=DEADLINE)
    session.commit()
    out = report.as_json()
    items = {item["id"]: item for item in out["items"] if item["outcome"] != "refused"}

    assert (out["imported"], out["linked"], out["tasks"]) == (4, 1, 3)
    assert items["TB-1"] == {
        "id": "TB-1",
        "outcome": "linked",
        "group": "T01-02",
        "cases": [cases["farm_v1"].id],
    }
    assert items["TB-2"]["outcome"] == "task" and items["TB-2"]["group"] == "T01-01"
    assert items["TB-3"]["group"] == "T02-01"  # the group holding the larger part
    assert items["TB-7"]["outcome"] == "task" and out["repaired"] == ["TB-7"]
    refused = {(r["row"], r["id"]): r["reason"] for r in out["refused"]}
    assert set(refused) == {(4, "TB-4"), (5, "TB-2"), (6, "TB-6"), (8, "TB-8")}
    assert "重复" in refused[(5, "TB-2")] and "空" in refused[(6, "TB-6")]
    assert "组" in refused[(4, "TB-4")] and "碎片" in refused[(8, "TB-8")]
    task = session.scalar(select(Tuban).where(Tuban.number == "TB-2"))
    assert task.assignee.username == "wgT01-01" and task.due_on == DEADLINE
    assert task.area_m2 == pytest.approx(geodesic_area_m2(ROWS[1][1]))
    assert task.attributes == {"变化类型": "新增建设"}
    linked = session.scalar(select(Tuban).where(Tuban.number == "TB-1"))
    assert linked.assignee is None and linked.due_on is None
    assert session.scalar(select(Tuban).where(Tuban.number == "TB-7")).geom.is_valid


def test_reimporting_is_idempotent_and_a_moved_polygon_is_updated(session, tmp_path):
    seeded(session)
    path = tmp_path / "batch.geojson"
    frame(ROWS[:3]).to_file(path)
    import_batch(session, path, batch_name="2026Q4", deadline_on=DEADLINE)
    session.commit()

    again = import_batch(session, path, batch_name="2026Q4", deadline_on=DEADLINE)
    session.commit()
    assert (again.imported, again.unchanged, again.updated) == (0, 3, 0)

    moved = [ROWS[0], ("TB-2", box(113.0011, 30.0011, 113.0013, 30.0014)), ROWS[2]]  # now on FG-01
    frame(moved).to_file(path)
    third = import_batch(session, path, batch_name="2026Q4", deadline_on=DEADLINE)
    session.commit()

    assert (third.imported, third.unchanged, third.updated) == (0, 2, 1)
    assert session.scalar(select(func.count(Tuban.id))) == 3
    assert session.scalar(select(Tuban).where(Tuban.number == "TB-2")).outcome == "linked"


def test_a_zipped_gbk_shapefile_in_a_gauss_kruger_zone_with_its_zone_number(session, tmp_path):
    seeded(session)
    shp = tmp_path / "shp" / "图斑.shp"
    shp.parent.mkdir()
    # CGCS2000 3-degree zone 38 with the zone number before the easting (38 4xx xxx m).
    frame(ROWS[:3], id_field="TBBH", crs="EPSG:4526").to_file(shp, encoding="GBK")
    shp.with_suffix(".cpg").unlink(missing_ok=True)
    zipped = tmp_path / "图斑.zip"
    with zipfile.ZipFile(zipped, "w") as z:
        for part in shp.parent.iterdir():
            z.write(part, part.name)

    report = import_batch(session, zipped, batch_name="GK", deadline_on=DEADLINE)

    assert report.imported == 3 and not report.refused
    stored = session.scalar(select(Tuban).where(Tuban.number == "TB-2"))
    assert stored.attributes["变化类型"] == "新增建设"  # decoded from GBK without a .cpg
    assert stored.area_m2 == pytest.approx(geodesic_area_m2(ROWS[1][1]), rel=1e-6)


def test_a_geopackage_in_the_zone_without_its_number_and_another_id_field(session, tmp_path):
    seeded(session)
    path = tmp_path / "jc.gpkg"
    frame(ROWS[:2], id_field="JCBH", crs="EPSG:4547").to_file(path, layer="jcbh")

    report = import_batch(session, path, batch_name="GPKG", deadline_on=DEADLINE)

    assert [i["id"] for i in report.items] == ["TB-1", "TB-2"]


def test_a_named_id_field_that_is_missing_is_refused_before_anything_is_written(session, tmp_path):
    seeded(session)
    path = tmp_path / "batch.geojson"
    frame(ROWS[:2]).to_file(path)

    with pytest.raises(InvalidInput, match="编号"):
        import_batch(session, path, batch_name="X", deadline_on=DEADLINE, id_field="BSM")
    session.rollback()

    assert session.scalar(select(func.count(TubanBatch.id))) == 0


def test_a_batch_wholly_outside_the_town_is_refused_as_a_wrong_crs(session, tmp_path):
    seeded(session)
    path = tmp_path / "far.geojson"
    frame(
        [("A", box(100.0, 40.0, 100.001, 40.001)), ("B", box(100.1, 40.0, 100.101, 40.001))]
    ).to_file(path)

    with pytest.raises(InvalidInput, match="坐标系"):
        import_batch(session, path, batch_name="far", deadline_on=DEADLINE)
    session.rollback()

    assert session.scalar(select(func.count(TubanBatch.id))) == 0


def test_a_broken_file_stores_nothing(session, tmp_path):
    seeded(session)
    path = tmp_path / "broken.zip"
    path.write_bytes(b"PK\x03\x04 not really a zip")

    with pytest.raises(GeodataError):
        import_batch(session, path, batch_name="broken", deadline_on=DEADLINE)
    session.rollback()

    assert session.scalar(select(func.count(TubanBatch.id))) == 0


def test_the_command_prints_the_json_report_and_fails_cleanly(tmp_path):
    app = migrated_app(tmp_path)
    from inspection import db

    with app.app_context():
        seeded(db.session())
        db.session().commit()
    path = tmp_path / "batch.geojson"
    frame(ROWS[:4]).to_file(path)
    runner = app.test_cli_runner()

    result = runner.invoke(
        args=["import-tuban", str(path), "--batch", "Q4", "--deadline", "2026-12-31", "--json"]
    )
    out = json.loads(result.output)

    assert result.exit_code == 0
    assert set(out) >= {
        "batch",
        "imported",
        "unchanged",
        "updated",
        "linked",
        "tasks",
        "refused",
        "items",
    }
    assert (out["imported"], out["linked"], out["tasks"], len(out["refused"])) == (3, 1, 2, 1)
    assert out["refused"][0]["id"] == "TB-4"

    bad = runner.invoke(
        args=[
            "import-tuban",
            str(tmp_path / "none.geojson"),
            "--batch",
            "Q5",
            "--deadline",
            "2026-12-31",
        ]
    )
    assert bad.exit_code == 1 and "未写入" in bad.output + (bad.stderr or "")
    with app.app_context():
        assert db.session().scalar(select(func.count(TubanBatch.id))) == 1
    app.extensions["db_engine"].dispose()


def test_shapely_sliver_has_zero_area():
    assert geodesic_area_m2(ROWS[7][1]) < 1.0
    assert not shapely.is_valid(BOW_TIE)
