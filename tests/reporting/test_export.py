"""GIS exports reopened with pyogrio (count, Chinese text, areas), filters, and the export command."""

import io
import zipfile

import pandas as pd
import pyogrio
import pytest
from openpyxl import load_workbook

from geodata.area import geodesic_area_m2
from geodata.export import shapefile_names
from inspection.errors import InvalidInput
from inspection.reporting.exports import export_cases, export_command, select_cases
from tests.conftest import migrated_app
from tests.reporting.test_ledgers import seed_cases


def read_back(path, fmt) -> pd.DataFrame:
    """Every feature of an exported file, as GDAL reads it (the zip's layers concatenated)."""
    if fmt != "shp":
        frame = pyogrio.read_dataframe(path)
        if fmt == "kml":  # KML readers give placemarks their own id; ours is case_id
            frame = frame.drop(columns="id").rename(columns={"case_id": "id"})
        return frame
    names = zipfile.ZipFile(path).namelist()
    layers = sorted(n for n in names if n.endswith(".shp"))
    frames = [pyogrio.read_dataframe(f"/vsizip/{path}/{layer}") for layer in layers]
    inverse = {short: name for name, short in shapefile_names(_long_names()).items()}
    return pd.concat(frames, ignore_index=True).rename(columns=inverse)


def _long_names():
    from inspection.reporting.exports import GIS_COMMON, GIS_KIND_FIELDS

    return [*GIS_COMMON, *{n: 0 for f in GIS_KIND_FIELDS.values() for n in f}]


@pytest.mark.parametrize("fmt", ["geojson", "gpkg", "shp", "kml"])
def test_every_gis_format_reopens_with_attributes_and_areas(session, tmp_path, fmt):
    seeded = seed_cases(session)
    path = tmp_path / f"cases.{'zip' if fmt == 'shp' else fmt}"

    count = export_cases(session, None, "all", fmt, path, {})
    frame = read_back(path, fmt).sort_values("id", key=lambda s: s.astype(int))
    by_id = {int(row["id"]): row for _, row in frame.iterrows()}

    assert count == len(seeded) == len(frame)
    for case in seeded.values():
        row = by_id[case.id]
        assert row["title"] == case.title
        assert row["kind"] == case.kind and row["status"] == case.status
        assert row["village"] == case.village.name and row["group"] == case.group.name
        assert str(row["found_on"])[:10] == case.found_on.isoformat()
        if case.area_m2 is not None:
            assert row["area_m2"] == pytest.approx(case.area_m2, rel=1e-9)
            assert geodesic_area_m2(row.geometry) == pytest.approx(case.area_m2, rel=1e-6)
    building = by_id[seeded["building"].id]
    assert building["status_label"] == "已拆除" and building["party"] == "张三"
    assert by_id[seeded["farm_v1"].id]["crop"] == "水稻"


def test_shapefile_zip_has_cpg_readme_and_one_type_per_layer(session, tmp_path):
    seed_cases(session)
    buffer = io.BytesIO()

    export_cases(session, None, "all", "shp", buffer, {})
    archive = zipfile.ZipFile(buffer)
    readme = archive.read("README.txt").decode("utf-8")
    path = tmp_path / "cases.zip"
    path.write_bytes(buffer.getvalue())
    points = pyogrio.read_info(f"/vsizip/{path}/cases_point.shp")
    polygons = pyogrio.read_info(f"/vsizip/{path}/cases_polygon.shp")

    assert archive.read("cases_point.cpg").strip() == b"UTF-8"
    assert "status_lbl" in readme and "status_label" in readme and "bldg_m2" in readme
    assert points["geometry_type"] == "Point" and points["features"] == 2
    assert polygons["geometry_type"] in ("Polygon", "MultiPolygon") and polygons["features"] == 3
    assert all(len(name) <= 10 for name in points["fields"])


def test_shapefile_names_are_short_and_unique():
    names = shapefile_names(
        ["status_label", "remarks_long_a", "remarks_long_b", "enforcement_doc_no", "id"]
    )

    assert names == {
        "status_label": "status_lbl",
        "remarks_long_a": "remarks_lo",
        "remarks_long_b": "remarks_l1",
        "enforcement_doc_no": "enf_doc_no",
        "id": "id",
    }


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"status": "done"}, {"issue_v1", "building"}),
        ({"status": "open"}, {"issue_v2", "farm_v1", "farm_v2"}),
        ({"village": "T02"}, {"issue_v2", "farm_v2"}),
        ({"year": 2022, "status": "reported", "village": "T01"}, {"farm_v1"}),
        ({"year": 2021}, set()),
    ],
)
def test_filters_select_by_status_village_and_year(session, filters, expected):
    seeded = seed_cases(session)
    names = {case.id: name for name, case in seeded.items()}

    found = select_cases(session, None, "all", filters)

    assert {names[c.id] for c in found} == expected


@pytest.mark.parametrize(
    ("kind", "fmt", "filters"),
    [("all", "csv", {}), ("issue", "pdf", {}), ("issue", "xlsx", {"village": "X9"})],
)
def test_bad_export_requests_are_refused(session, kind, fmt, filters):
    seed_cases(session)

    with pytest.raises(InvalidInput):
        export_cases(session, None, kind, fmt, io.BytesIO(), filters)


def test_empty_selection_still_writes_a_readable_file(session, tmp_path):
    seed_cases(session)
    path = tmp_path / "none.gpkg"

    count = export_cases(session, None, "all", "gpkg", path, {"year": 2001})

    assert count == 0 and len(pyogrio.read_dataframe(path)) == 0


@pytest.fixture
def cli_app(tmp_path):
    """An app like the `app` fixture with the export command registered, seeded with cases."""
    app = migrated_app(tmp_path)
    if "export" not in app.cli.commands:
        app.cli.add_command(export_command)
    with app.app_context():
        from inspection import db

        seed_cases(db.session())
        db.session().commit()
    yield app
    app.extensions["db_engine"].dispose()


def test_export_command_writes_ledger_and_gis(cli_app, tmp_path):
    runner = cli_app.test_cli_runner()
    xlsx, gpkg = tmp_path / "违法建筑台账.xlsx", tmp_path / "done.gpkg"

    first = runner.invoke(
        args=["export", "--kind", "illegal_building", "--format", "xlsx", "--out", str(xlsx)]
    )
    second = runner.invoke(
        args=[
            "export",
            "--format",
            "gpkg",
            "--out",
            str(gpkg),
            "--status",
            "done",
            "--year",
            "2022",
        ]
    )
    bad = runner.invoke(
        args=["export", "--format", "csv", "--out", str(tmp_path / "x.csv"), "--village", "X9"]
    )

    assert first.exit_code == 0, first.output
    assert "已导出 1 件" in first.output
    assert load_workbook(xlsx)["违法建筑台账"].cell(2, 2).value is not None
    assert second.exit_code == 0, second.output
    assert sorted(pyogrio.read_dataframe(gpkg)["kind"]) == ["illegal_building", "issue"]
    assert bad.exit_code == 1 and "导出失败" in bad.output


def _expected_overdue(seeded) -> set[str]:
    from inspection import clock
    from inspection.cases.deadlines import is_overdue

    today = clock.town_today()
    return {name for name, case in seeded.items() if is_overdue(case, today)}


def _in_box(seeded, box) -> set[str]:
    import shapely

    return {name for name, case in seeded.items() if case.geom.intersects(shapely.box(*box))}


@pytest.mark.parametrize(
    "filters",
    [
        {"source": "superior"},
        {"category": "environment"},
        {"category": "污水直排"},
        {"group": "T01-02"},
        {"group": "T01-01", "status": "done"},
        {"overdue": True},
        {"bbox": "113.0000,30.0000,113.0012,30.0012"},
        {"bbox": (113.0009, 30.0010, 113.0032, 30.0012), "year": 2022},
    ],
)
def test_filters_select_by_source_category_group_overdue_and_bbox(session, filters):
    seeded = seed_cases(session)
    names = {case.id: name for name, case in seeded.items()}
    expected = {
        "source": lambda: {n for n, c in seeded.items() if c.source == filters["source"]},
        "category": lambda: (
            {"issue_v2"}
            if filters["category"] == "污水直排"
            else {
                "issue_v1",
                "issue_v2",
            }
        ),
        "group": lambda: {
            n
            for n, c in seeded.items()
            if c.group.code == filters["group"]
            and (c.status == filters["status"] if "status" in filters else True)
        },
        "overdue": lambda: _expected_overdue(seeded),
        "bbox": lambda: _in_box(
            seeded,
            tuple(map(float, filters["bbox"].split(",")))
            if isinstance(filters["bbox"], str)
            else filters["bbox"],
        ),
    }[next(iter(filters))]()

    found = select_cases(session, None, "all", filters)

    assert {names[c.id] for c in found} == expected
    assert expected or next(iter(filters)) == "overdue"


def test_filters_stay_in_the_users_scope(session):
    from inspection.accounts.models import User
    from inspection.grid.models import GridCell

    seeded = seed_cases(session)
    names = {case.id: name for name, case in seeded.items()}
    member = User(username="wgy2", display_name="二组网格员", role="grid_member", password_hash="x")
    member.cells.append(session.query(GridCell).filter_by(code="T01-02").one())
    session.add(member)
    session.flush()

    mine = select_cases(session, member, "all", {"bbox": "112,29,114,31"})
    village = select_cases(session, member, "all", {"village": "T01"})

    assert {names[c.id] for c in mine} == {"issue_v1", "farm_v1"}
    assert {names[c.id] for c in village} == {"issue_v1", "farm_v1"}
    for refused in ({"village": "T02"}, {"group": "T01-01"}):
        with pytest.raises(InvalidInput):
            select_cases(session, member, "all", refused)


@pytest.mark.parametrize(
    "filters",
    [
        {"source": "mail"},
        {"category": "noise"},
        {"group": "T09-01"},
        {"bbox": "1,2,3"},
        {"bbox": "114,30,113,31"},
    ],
)
def test_bad_filters_are_refused(session, filters):
    seed_cases(session)

    with pytest.raises(InvalidInput):
        select_cases(session, None, "all", filters)


def ledger_ids(path, seeded=None) -> list[int]:
    """The case ids of every sheet of an exported Excel ledger (编号, or 图斑编号 for farmland)."""
    parcels = {c.parcel_no: c.id for c in (seeded or {}).values() if c.kind == "farmland"}
    ids = []
    for sheet in load_workbook(path).worksheets:
        rows = list(sheet.iter_rows(values_only=True))
        header = next(i for i, r in enumerate(rows) if "编号" in r or "图斑编号" in r)
        column = "编号" if "编号" in rows[header] else "图斑编号"
        index = rows[header].index(column)
        for row in rows[header + 1 :]:
            value = row[index]
            if value is not None and "小计" not in str(row) and "合计" not in str(row):
                ids.append(int(value) if column == "编号" else parcels[value])
    return ids


def test_export_command_filters_by_source_group_category_overdue_and_bbox(cli_app, tmp_path):
    from inspection import db

    runner = cli_app.test_cli_runner()
    with cli_app.app_context():
        session = db.session()
        everything = select_cases(session, None, "all", {})
        wanted = {
            "superior": [c.id for c in everything if c.source == "superior"],
            "T01-02": [c.id for c in everything if c.group.code == "T01-02"],
            "box": [
                c.id
                for c in select_cases(session, None, "all", {"bbox": "113,30,113.0012,30.0012"})
            ],
        }
        overdue = select_cases(session, None, "all", {"category": "environment", "overdue": True})
        wanted["env"] = [c.id for c in overdue]
        seeded = {c.title: c for c in everything}
    outputs = {
        "superior": ("geojson", ["--source", "superior"]),
        "T01-02": ("xlsx", ["--group", "T01-02"]),
        "box": ("gpkg", ["--bbox", "113,30,113.0012,30.0012"]),
        "env": ("shp", ["--category", "environment", "--overdue"]),
    }
    results = {}
    for key, (fmt, options) in outputs.items():
        path = tmp_path / f"{key}.{'zip' if fmt == 'shp' else fmt}"
        result = runner.invoke(args=["export", "--format", fmt, "--out", str(path), *options])
        assert result.exit_code == 0, result.output
        results[key] = path

    assert (
        sorted(int(i) for i in read_back(results["superior"], "geojson")["id"])
        == wanted["superior"]
    )
    assert sorted(ledger_ids(results["T01-02"], seeded)) == wanted["T01-02"]
    assert sorted(int(i) for i in read_back(results["box"], "gpkg")["id"]) == wanted["box"]
    assert wanted["box"] and wanted["superior"] and wanted["T01-02"]
    env = read_back(results["env"], "shp") if wanted["env"] else pd.DataFrame({"id": []})
    assert sorted(int(i) for i in env["id"]) == wanted["env"]
    bad = runner.invoke(
        args=["export", "--format", "kml", "--out", str(tmp_path / "x.kml"), "--bbox", "x"]
    )
    assert bad.exit_code == 1 and "导出失败" in bad.output


def test_readme_documents_the_shapefile_field_names():
    import re
    from pathlib import Path

    from geodata.export import SHAPEFILE_FIELDS

    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Shapefile field names", 1)[1].split("\n## ", 1)[0]
    table = dict(re.findall(r"^\| `(\w+)` \| `(\w+)` \|$", section, re.MULTILINE))

    assert table == SHAPEFILE_FIELDS
