"""Write the small boundary files the geodata tests read: python tests/data/make_fixtures.py."""

import json
import sqlite3
import zipfile
from contextlib import closing
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

HERE = Path(__file__).parent
# A fixed timestamp keeps regenerated ZIPs byte-identical.
ZIP_DATE_TIME = (2024, 1, 1, 0, 0, 0)

TOWN = ("420116101", "平岗镇", None)
VILLAGES = [("420116101201", "平岗村", TOWN[0]), ("420116101202", "石桥村", TOWN[0])]
GROUPS = [
    ("42011610120101", "一组", VILLAGES[0][0]),
    ("42011610120102", "二组", VILLAGES[0][0]),
    ("42011610120201", "一组", VILLAGES[1][0]),
    ("42011610120202", "二组", VILLAGES[1][0]),
]
# Lon/lat degrees (EPSG:4326): the town is 0.04° × 0.02°, two villages side by side, each split
# into two groups at a vertical line; groups i and i + 1 share the edge lon = 113.00 + 0.01 (i + 1).
WEST_DEG, SOUTH_DEG, STEP_DEG, NORTH_DEG = 113.00, 30.00, 0.01, 30.02


def cells() -> gpd.GeoDataFrame:
    """Return the town, villages and groups with level, code, name, parent_code (EPSG:4326)."""
    rows = [("town", *TOWN, shapely.box(WEST_DEG, SOUTH_DEG, WEST_DEG + 4 * STEP_DEG, NORTH_DEG))]
    for i, village in enumerate(VILLAGES):
        west = WEST_DEG + 2 * i * STEP_DEG
        rows.append(
            ("village", *village, shapely.box(west, SOUTH_DEG, west + 2 * STEP_DEG, NORTH_DEG))
        )
    for i, group in enumerate(GROUPS):
        west = WEST_DEG + i * STEP_DEG
        rows.append(("group", *group, shapely.box(west, SOUTH_DEG, west + STEP_DEG, NORTH_DEG)))
    columns = ["level", "code", "name", "parent_code", "geometry"]
    data = {
        column: pd.Series(values, dtype=object)  # object keeps the town's parent None, not NaN
        for column, values in zip(columns[:-1], zip(*rows, strict=True), strict=False)
    }
    return gpd.GeoDataFrame(data, geometry=[row[-1] for row in rows], crs=4326)


def write_geojson(frame: gpd.GeoDataFrame) -> None:
    """All three levels with Chinese field names 网格编码 / 网格名称 / 上级编码, no level field."""
    features = [
        {
            "type": "Feature",
            "properties": {"网格编码": row.code, "网格名称": row.name, "上级编码": row.parent_code},
            "geometry": shapely.geometry.mapping(row.geometry),
        }
        for row in frame.itertuples()
    ]
    text = json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False)
    (HERE / "grid.geojson").write_text(text + "\n", encoding="utf-8")


def write_geopackage(frame: gpd.GeoDataFrame) -> None:
    """One layer per level (town, village, group) with fields code, name, parent_code."""
    path = HERE / "grid.gpkg"
    path.unlink(missing_ok=True)
    for level in ("town", "village", "group"):
        layer = frame[frame["level"] == level].drop(columns="level")
        pyogrio.write_dataframe(
            layer, path, layer=level, driver="GPKG", layer_options={"SPATIAL_INDEX": "NO"}
        )
    # Small pages and a VACUUM keep the committed file a few kilobytes instead of 100+.
    with closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA page_size = 512")
        db.execute("VACUUM")


def write_shapefile_zip(
    frame: gpd.GeoDataFrame, name: str, *, encoding: str, keep: tuple[str, ...]
) -> None:
    """Write a Shapefile and zip the parts named in `keep` (leave out .prj or .cpg to test their absence)."""
    work = HERE / f"_{name}"
    work.mkdir(exist_ok=True)
    pyogrio.write_dataframe(frame, work / f"{name}.shp", driver="ESRI Shapefile", encoding=encoding)
    dbf = work / f"{name}.dbf"
    data = bytearray(dbf.read_bytes())
    data[29] = 0  # no language driver id either, like many Chinese tools write
    dbf.write_bytes(bytes(data))
    with zipfile.ZipFile(HERE / f"{name}.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        for suffix in keep:
            info = zipfile.ZipInfo(f"{name}{suffix}", ZIP_DATE_TIME)
            archive.writestr(info, (work / f"{name}{suffix}").read_bytes(), zipfile.ZIP_DEFLATED)
    for part in work.iterdir():
        part.unlink()
    work.rmdir()


def write_kml(frame: gpd.GeoDataFrame) -> None:
    """One folder per level; Placemark name = 名称, ExtendedData code and parent_code; Z = 0."""
    folders = []
    for level, title in (("town", "镇"), ("village", "村"), ("group", "组")):
        placemarks = []
        for row in frame[frame["level"] == level].itertuples():
            ring = " ".join(f"{x:.2f},{y:.2f},0" for x, y in row.geometry.exterior.coords)
            parent = (
                f'<Data name="parent_code"><value>{row.parent_code}</value></Data>'
                if row.parent_code
                else ""
            )
            placemarks.append(
                f"<Placemark><name>{row.name}</name><ExtendedData>"
                f'<Data name="code"><value>{row.code}</value></Data>{parent}</ExtendedData>'
                f"<Polygon><outerBoundaryIs><LinearRing><coordinates>{ring}</coordinates>"
                f"</LinearRing></outerBoundaryIs></Polygon></Placemark>"
            )
        folders.append(f"<Folder><name>{title}</name>{''.join(placemarks)}</Folder>")
    text = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
        + "".join(folders)
        + "</Document></kml>\n"
    )
    (HERE / "grid.kml").write_text(text, encoding="utf-8")


def write_topojson() -> None:
    """The four groups as a quantized, delta-encoded TopoJSON; neighbours share their vertical arc."""
    # Quantized units of 0.001° from (113, 30): group i spans x 10 i … 10 (i + 1), y 0 … 20.
    verticals = [[[10 * i, 0], [0, 20]] for i in range(5)]  # arc i: up the line x = 10 i
    bottoms = [[[10 * i, 0], [10, 0]] for i in range(4)]  # arc 5 + i: east along y = 0
    tops = [[[10 * (i + 1), 20], [-10, 0]] for i in range(4)]  # arc 9 + i: west along y = 20
    geometries = [
        {
            "type": "Polygon",
            # bottom →, right edge ↑, top ←, left edge ↓ (~i = -i - 1: arc i reversed)
            "arcs": [[5 + i, i + 1, 9 + i, ~i]],
            "properties": {"code": code, "name": name, "parent": parent},
        }
        for i, (code, name, parent) in enumerate(GROUPS)
    ]
    topology = {
        "type": "Topology",
        "transform": {"scale": [0.001, 0.001], "translate": [WEST_DEG, SOUTH_DEG]},
        "objects": {"groups": {"type": "GeometryCollection", "geometries": geometries}},
        "arcs": verticals + bottoms + tops,
    }
    text = json.dumps(topology, ensure_ascii=False)
    (HERE / "groups.topojson").write_text(text + "\n", encoding="utf-8")


def main() -> None:
    """Write every fixture next to this script."""
    frame = cells()
    write_geojson(frame)
    write_geopackage(frame)
    write_kml(frame)
    write_topojson()
    # CGCS2000 3-degree Gauss-Krüger zone 38 (EPSG:4526), metres, with .prj; codes as integers and
    # English field names, no parent or level: the tree must come from containment.
    gk = frame.to_crs(4526)[["code", "name", "geometry"]].rename(
        columns={"code": "CODE", "name": "NAME"}
    )
    gk["CODE"] = gk["CODE"].astype(np.int64)
    write_shapefile_zip(
        gk, "grid_gk", encoding="UTF-8", keep=(".shp", ".shx", ".dbf", ".prj", ".cpg")
    )
    groups = frame[frame["level"] == "group"].drop(columns="level")
    named = groups.assign(
        name=[f"{VILLAGES[i // 2][1]}{name}" for i, name in enumerate(groups["name"])]
    )
    # GBK attributes and GBK field names (8 bytes each), no .cpg and no LDID (row 20 of BAD_INPUT).
    gbk = named.rename(columns={"code": "网格编码", "name": "网格名称", "parent_code": "上级编码"})
    write_shapefile_zip(gbk, "groups_gbk", encoding="GBK", keep=(".shp", ".shx", ".dbf", ".prj"))
    # Metres with no .prj (row 19).
    noprj = named.rename(columns={"parent_code": "parent"}).to_crs(4526)
    write_shapefile_zip(
        noprj, "groups_noprj", encoding="UTF-8", keep=(".shp", ".shx", ".dbf", ".cpg")
    )


if __name__ == "__main__":
    main()
