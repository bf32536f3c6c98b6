"""Write lon/lat (EPSG:4326) GeoDataFrames as GeoJSON, GeoPackage, zipped Shapefile or KML.

Every writer takes a GeoDataFrame in EPSG:4326 whose attribute columns hold text, numbers or
`datetime.date` values (written as ISO text "YYYY-MM-DD", the same in every format) and a path or
binary buffer. Coordinates keep full double precision, so areas measured on the read-back
geometry match the written ones.

Format limits and what we do about them:

- Field names hold at most 10 characters: long names are renamed with SHAPEFILE_FIELDS below
  (unknown long names are cut to 10 characters and numbered when they collide). The mapping
  is also written as README.txt inside the zip.
- KML: placemarks are named by the title; the `id` attribute is written as `case_id`.
- One geometry type per Shapefile: points go to `<name>_point.shp`, polygons and multipolygons to
  `<name>_polygon.shp`, both in the same zip.
- Text is UTF-8 with a `.cpg` file; a DBF text field holds at most 254 bytes (about 84 Chinese
  characters), so longer text is cut at a character boundary.

SHAPEFILE_FIELDS (long → short): id → id, kind → kind, status → status, status_label →
status_lbl, source → source, category → category, title → title, description → descr,
found_on → found_on, deadline_on → deadline, done_on → done_on, verified_on → verified,
village_code → vill_code, village → village, group_code → grp_code, group → group,
area_m2 → area_m2, area_mu → area_mu, doc_number → doc_no, measures → measures,
responsible → resp_name, party → party, structure → structure, floors → floors,
building_area_m2 → bldg_m2, demolished_area_m2 → demol_m2, enforcement_doc_no → enf_doc_no,
land_type → land_type, crop → crop, parcel_no → parcel_no, remarks → remarks.
"""

import datetime
import io
import os
import tempfile
import zipfile
from pathlib import Path
from typing import IO

import geopandas as gpd
import pandas as pd
import pyogrio

FORMATS = ("geojson", "gpkg", "shp", "kml")
SUFFIXES = {"geojson": ".geojson", "gpkg": ".gpkg", "shp": ".zip", "kml": ".kml"}
MEDIA_TYPES = {
    "geojson": "application/geo+json",
    "gpkg": "application/geopackage+sqlite3",
    "shp": "application/zip",
    "kml": "application/vnd.google-earth.kml+xml",
}
SHAPEFILE_FIELDS = {
    "status_label": "status_lbl",
    "description": "descr",
    "deadline_on": "deadline",
    "verified_on": "verified",
    "village_code": "vill_code",
    "group_code": "grp_code",
    "doc_number": "doc_no",
    "responsible": "resp_name",
    "building_area_m2": "bldg_m2",
    "demolished_area_m2": "demol_m2",
    "enforcement_doc_no": "enf_doc_no",
}
DBF_TEXT_MAX_BYTES = 254

Target = str | os.PathLike | IO[bytes]


def _plain(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Copy a frame with dates as ISO text, so every format stores them alike."""
    if frame.crs is None or frame.crs.to_epsg() != 4326:
        raise ValueError("export expects lon/lat EPSG:4326")
    out = frame.copy()
    for name in out.columns:
        if name == out.geometry.name:
            continue
        if out[name].map(lambda v: isinstance(v, datetime.date)).any():
            out[name] = out[name].map(
                lambda v: v.isoformat() if isinstance(v, datetime.date) else None
            )
    return out


def _emit(data: bytes, target: Target) -> None:
    """Write bytes to a path or a binary buffer."""
    if hasattr(target, "write"):
        target.write(data)
    else:
        Path(target).write_bytes(data)


def _via_file(frame: gpd.GeoDataFrame, suffix: str, target: Target, **options) -> None:
    """Write with GDAL to a temporary file, then copy its bytes to the target."""
    with tempfile.TemporaryDirectory(prefix="export-") as tmp:
        path = Path(tmp) / f"cases{suffix}"
        _write(frame, path, **options)
        _emit(path.read_bytes(), target)


def _write(frame: gpd.GeoDataFrame, path: Path, **options) -> None:
    """Write one layer with pyogrio, naming the geometry type when the frame is empty."""
    if len(frame) == 0:
        options.setdefault("geometry_type", "Point")
    pyogrio.write_dataframe(frame, path, **options)


def write_geojson(frame: gpd.GeoDataFrame, target: Target) -> None:
    """Write a lon/lat (EPSG:4326) frame as a GeoJSON FeatureCollection (UTF-8, full precision)."""
    _via_file(_plain(frame), ".geojson", target, driver="GeoJSON")


def write_gpkg(frame: gpd.GeoDataFrame, target: Target, *, layer: str = "cases") -> None:
    """Write a lon/lat (EPSG:4326) frame as one GeoPackage layer (points and polygons together)."""
    options = {"driver": "GPKG", "layer": layer}
    types = set(frame.geometry.geom_type.dropna())
    if len(types) > 1:
        options["geometry_type"] = "Unknown"
    _via_file(_plain(frame), ".gpkg", target, **options)


def write_kml(frame: gpd.GeoDataFrame, target: Target, *, name_field: str = "title") -> None:
    """Write a lon/lat (EPSG:4326) frame as KML: placemarks named by name_field, attributes as ExtendedData.

    KML readers give each placemark its own `id`, so an `id` attribute is written as `case_id`.
    """
    out = _plain(frame).rename(columns={"id": "case_id"})
    if name_field in out.columns:
        out.insert(0, "Name", out[name_field])
    _via_file(out, ".kml", target, driver="KML")


def shapefile_names(columns) -> dict[str, str]:
    """Map attribute names to unique Shapefile field names of at most 10 characters."""
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for name in columns:
        short = SHAPEFILE_FIELDS.get(name, name)[:10]
        candidate, number = short, 1
        while candidate.lower() in used:
            suffix = str(number)
            candidate, number = short[: 10 - len(suffix)] + suffix, number + 1
        used.add(candidate.lower())
        mapping[name] = candidate
    return mapping


def _cut_utf8(value, max_bytes: int = DBF_TEXT_MAX_BYTES):
    """Cut text to max_bytes of UTF-8 at a character boundary; other values pass."""
    if not isinstance(value, str) or len(value.encode("utf-8")) <= max_bytes:
        return value
    return value.encode("utf-8")[:max_bytes].decode("utf-8", errors="ignore")


def _readme(mapping: dict[str, str], layers: list[str]) -> str:
    """Describe the zip's layers and the field-name mapping, in Chinese and English."""
    lines = [
        "Shapefile 导出说明 / Shapefile export",
        "",
        "坐标系 / CRS: WGS-84 经纬度 (EPSG:4326); 编码 / encoding: UTF-8 (.cpg)",
        "图层 / layers: " + ", ".join(f"{name}.shp" for name in layers),
        "点与面分别存放（一个 Shapefile 只能有一种几何类型）/ points and polygons in separate files",
        "文本字段最长254字节，超出部分被截断 / text fields are cut at 254 bytes",
        "",
        "字段名对照 / field names (shapefile → full name):",
    ]
    lines += [f"  {short:<10} {name}" for name, short in mapping.items()]
    return "\n".join(lines) + "\n"


def write_shapefile_zip(frame: gpd.GeoDataFrame, target: Target, *, name: str = "cases") -> None:
    """Write a lon/lat (EPSG:4326) frame as a zip of UTF-8 Shapefiles: <name>_point and <name>_polygon."""
    out = _plain(frame)
    attributes = [c for c in out.columns if c != out.geometry.name]
    mapping = shapefile_names(attributes)
    for column in attributes:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(_cut_utf8)
    out = out.rename(columns=mapping)
    is_point = out.geometry.geom_type == "Point"
    parts = {f"{name}_point": out[is_point], f"{name}_polygon": out[~is_point]}
    parts = {layer: part for layer, part in parts.items() if len(part)} or {f"{name}_point": out}
    buffer = io.BytesIO()
    with tempfile.TemporaryDirectory(prefix="export-") as tmp:
        for layer, part in parts.items():
            _write(part, Path(tmp) / f"{layer}.shp", driver="ESRI Shapefile", encoding="UTF-8")
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(Path(tmp).iterdir()):
                archive.write(path, path.name)
            archive.writestr("README.txt", _readme(mapping, list(parts)))
    _emit(buffer.getvalue(), target)


WRITERS = {
    "geojson": write_geojson,
    "gpkg": write_gpkg,
    "shp": write_shapefile_zip,
    "kml": write_kml,
}


def write_vector(frame: gpd.GeoDataFrame, fmt: str, target: Target) -> None:
    """Write a lon/lat (EPSG:4326) frame in one of FORMATS to a path or binary buffer."""
    if fmt not in WRITERS:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    WRITERS[fmt](frame, target)
