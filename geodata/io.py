"""Read vector files that come from outside: one guarded reader for every way in.

Every file that enters (report form, preview, each import command) comes through `read_vector`
or `list_layers`, with the `Way` it enters by (`geodata.ways`). The rules, written once:
the format is sniffed from content and must be allowed by the way in and agree with the name's
extension; the file is copied to a temporary folder of ours and only that path is handed to GDAL;
GDAL can open nothing but our formats and nothing on the network (`geodata.gdal_guard`), and the
driver it opened the file with must be the sniffed format's; XML is checked by defusedxml first
(`geodata.xml_guard`); a GeoPackage is inspected as hostile SQLite and only its feature tables are
read (`geodata.gpkg_guard`); a ZIP unpacks only the members its way allows (`geodata.archive`).
Coordinates come out in EPSG:4326 lon/lat degrees (`geodata.lonlat`).
"""

import shutil
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import geopandas as gpd
import pandas as pd
import pyogrio
import pyogrio.errors
import pyproj
import shapely

from geodata import gdal_guard, gpkg_guard, sniff, ways, xml_guard
from geodata.dbf_encoding import guess_dbf_encoding
from geodata.entry import (
    Source,
    check_size,
    file_label,
    load_source,
    member_format,
    sniffed_format,
    unpack,
)
from geodata.errors import CRSError, FileFormatError
from geodata.lonlat import CRSMissingError, to_lonlat
from geodata.ways import Way

__all__ = ["CRSMissingError", "LayerInfo", "Way", "list_layers", "read_vector"]

DEFAULT_MAX_BYTES = 100 * 1024 * 1024
DEFAULT_MAX_ZIP_ENTRIES = 1000
DEFAULT_MAX_UNZIPPED_BYTES = 500 * 1024 * 1024


gdal_guard.restrict()


@dataclass(frozen=True)
class LayerInfo:
    """One layer of a vector file: its name, geometry type and number of features."""

    name: str
    geometry_type: str | None
    feature_count: int


@dataclass(frozen=True)
class _Layer:
    """Where GDAL finds one layer (always in our temporary folder), and in which format."""

    path: Path
    name: str
    geometry_type: str | None
    fmt: str


def read_vector(
    source: Source,
    *,
    way: Way,
    filename: str | None = None,
    crs: str | int | pyproj.CRS | None = None,
    layer: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_zip_entries: int = DEFAULT_MAX_ZIP_ENTRIES,
    max_unzipped_bytes: int = DEFAULT_MAX_UNZIPPED_BYTES,
) -> gpd.GeoDataFrame:
    """Read a vector file allowed by `way` into EPSG:4326 lon/lat (2-D).

    `source` is a path, the file's bytes or a binary file object; `filename` is the name it came
    with (required for bytes: its extension must agree with the content). `crs` is the CRS of the
    coordinates when the file states none (a Shapefile without .prj, GeoJSON in metres); a CRS
    stated in the file wins. `layer` picks one layer of a multi-layer file; KML folders are read
    together when it is None. Rows without geometry are kept. Raises FileFormatError, CRSError
    (CRSMissingError when the caller must name the CRS).
    """
    label = file_label(source, filename)
    with _layers_of(source, way, label, max_bytes, max_zip_entries, max_unzipped_bytes) as layers:
        chosen = _choose_layers(layers, layer, label)
        frames = [_read_layer(item, label) for item in chosen]
    frame = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    frame = gpd.GeoDataFrame(frame, geometry="geometry", crs=frames[0].crs)
    if frame.empty:
        raise FileFormatError("file_empty", f"文件中没有要素：{label}", f"{label} has no features.")
    return to_lonlat(frame, chosen[0].fmt, crs, label)


def list_layers(
    source: Source,
    *,
    way: Way,
    filename: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_zip_entries: int = DEFAULT_MAX_ZIP_ENTRIES,
    max_unzipped_bytes: int = DEFAULT_MAX_UNZIPPED_BYTES,
) -> list[LayerInfo]:
    """List the layers with geometry of a file allowed by `way` (GeoPackage tables, KML folders, shapefiles in a ZIP)."""
    label = file_label(source, filename)
    with _layers_of(source, way, label, max_bytes, max_zip_entries, max_unzipped_bytes) as layers:
        return [
            LayerInfo(item.name, item.geometry_type, _feature_count(item, label))
            for item in layers
            if item.geometry_type is not None
        ]


@contextmanager
def _layers_of(
    source: Source,
    way: Way,
    label: str,
    max_bytes: int,
    max_zip_entries: int,
    max_unzipped_bytes: int,
) -> Iterator[list[_Layer]]:
    """Yield every layer of `source` after the way's checks, from our own temporary copy."""
    gdal_guard.check()
    path, data = load_source(source, label, max_bytes)
    fmt = sniffed_format(way, data, label)
    with tempfile.TemporaryDirectory(prefix="geodata-") as tmp:
        if fmt == sniff.ZIP:
            files = unpack(way, data, Path(tmp), max_zip_entries, max_unzipped_bytes)
            datasets = [(file, kind) for file in files if (kind := member_format(way, file))]
            if not datasets:
                raise FileFormatError(
                    "zip_no_data",
                    f"压缩包中没有可读取的矢量数据（{way.names_zh()}）：{label}",
                    f"{label} holds no data of the accepted formats ({way.names_en()}).",
                )
        else:
            copy = Path(tmp) / f"upload{PurePosixPath(label).suffix.lower()}"
            copy.write_bytes(data)
            if fmt == sniff.SHAPEFILE and path is not None:
                _copy_sidecars(path, copy, max_bytes)
            datasets = [(copy, fmt)]
        layers = [item for file, kind in datasets for item in _dataset_layers(file, kind, label)]
        yield layers


def _copy_sidecars(shp: Path, copy: Path, max_bytes: int) -> None:
    """Copy a .shp's own sidecar files (.shx, .dbf, .prj, .cpg, .qix), and only those, beside our copy."""
    for suffix in ways.MEMBER_EXTENSIONS[sniff.SHAPEFILE] - {".shp"}:
        sidecar = _sibling(shp, suffix)
        if sidecar is not None and sidecar.is_file():
            check_size(sidecar.stat().st_size, max_bytes, sidecar.name)
            shutil.copyfile(sidecar, copy.with_suffix(suffix))


def _dataset_layers(path: Path, fmt: str, label: str) -> list[_Layer]:
    """List the layers of one dataset after the format's own safety checks and the driver check."""
    tables = None
    if fmt == sniff.KML:
        xml_guard.check_kml(path.read_bytes(), label)
    elif fmt == sniff.GEOPACKAGE:
        tables = gpkg_guard.feature_tables(path, label)
    elif fmt == sniff.SHAPEFILE and (
        path.suffix.lower() != ".shp" or not _sibling(path, ".shx") or not _sibling(path, ".dbf")
    ):
        raise FileFormatError(
            "shapefile_incomplete",
            f"Shapefile 需连同 .shx、.dbf、.prj 一起打包为 ZIP 上传：{label}",
            f"Upload a Shapefile as a ZIP with its .shx, .dbf and .prj files: {label}",
        )
    # The first open is the driver check: only our drivers are registered, and it must be this one.
    _gdal(gdal_guard.opened_by, label, path, 0, ways.DRIVERS[fmt], label)
    listed = _gdal(pyogrio.list_layers, label, path)  # the same file, just opened by that driver
    layers = [_Layer(path, str(name), kind, fmt) for name, kind in listed]
    if tables is not None:
        layers = [item for item in layers if item.name in tables]
    return layers


def _choose_layers(layers: list[_Layer], layer: str | None, label: str) -> list[_Layer]:
    """Pick the layer(s) to read: the named one, the only one, or all KML folders."""
    spatial = [item for item in layers if item.geometry_type is not None]
    names = "、".join(item.name for item in spatial)
    if layer is not None:
        chosen = [item for item in layers if item.name == layer]
        if not chosen:
            raise FileFormatError(
                "layer_missing",
                f"文件中没有图层“{layer}”，现有图层：{names}",
                f"{label} has no layer {layer!r}; layers: {names}",
            )
        return chosen[:1]
    if not spatial:
        raise FileFormatError(
            "file_empty", f"文件中没有含几何的图层：{label}", f"{label} has no layer with geometry."
        )
    if len(spatial) == 1 or all(item.fmt == sniff.KML for item in spatial):
        return spatial
    raise FileFormatError(
        "several_layers",
        f"文件含多个图层，请选择一个：{names}",
        f"{label} has several layers; choose one of: {names}",
    )


def _read_layer(item: _Layer, label: str) -> gpd.GeoDataFrame:
    """Read one layer with GDAL, decoding a .cpg-less Shapefile as UTF-8 or GBK when it is one."""
    encoding = None
    if item.fmt == sniff.SHAPEFILE and not _sibling(item.path, ".cpg"):
        dbf = _sibling(item.path, ".dbf")
        encoding = guess_dbf_encoding(dbf) if dbf else None
    # pyogrio cannot name the driver of a read: each layer's open is checked first, as the dataset's was.
    _gdal(gdal_guard.opened_by, label, item.path, item.name, ways.DRIVERS[item.fmt], label)
    frame = _gdal(pyogrio.read_dataframe, label, item.path, layer=item.name, encoding=encoding)
    if item.fmt == sniff.SHAPEFILE and frame.crs is None and _sibling(item.path, ".prj"):
        raise CRSError(
            "crs_unknown",
            f"无法识别 .prj 中的坐标系：{label}",
            f"The CRS in the .prj of {label} is not recognised.",
        )
    return frame


def _sibling(path: Path, suffix: str) -> Path | None:
    """Find the file next to `path` with the same stem and `suffix`, in any letter case."""
    for candidate in path.parent.iterdir():
        if candidate.stem == path.stem and candidate.suffix.lower() == suffix:
            return candidate
    return None


def _feature_count(item: _Layer, label: str) -> int:
    """Count the features of one layer, refusing it when GDAL opened it with another driver."""
    info = _gdal(gdal_guard.opened_by, label, item.path, item.name, ways.DRIVERS[item.fmt], label)
    return int(info["features"])


def _gdal(function, label: str, *args, **kwargs):
    """Call a pyogrio function, turning GDAL's errors into FileFormatError and muting its chatter."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            warnings.simplefilter("ignore", UserWarning)
            return function(*args, **kwargs)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise FileFormatError(
            "file_unreadable", f"文件已损坏或无法读取：{label}", f"Cannot read {label}: {exc}"
        ) from exc
    except shapely.errors.ShapelyError as exc:  # GEOS cannot build a ring: unclosed or NaN
        raise FileFormatError(
            "file_bad_geometry",
            f"文件中的几何无效（面的边界没有闭合，或坐标不是有效数字），请检查后重新导出：{label}",
            f"{label} holds a geometry that cannot be built (an unclosed ring or a coordinate "
            f"that is not a number): {exc}",
        ) from exc
    except (RuntimeError, ValueError, OSError) as exc:  # pyogrio's other errors are RuntimeErrors
        raise FileFormatError(
            "file_unreadable", f"文件内容有误，无法读取：{label}", f"Cannot read {label}: {exc}"
        ) from exc
