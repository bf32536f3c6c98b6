"""Read vector files safely: format by content, ZIP limits, no XML entities, everything in EPSG:4326."""

import os
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyogrio.errors
import pyproj
import shapely

from geodata import crs as crs_mod
from geodata import sniff
from geodata.archive import safe_extract
from geodata.dbf_encoding import guess_dbf_encoding
from geodata.errors import CRSError, FileFormatError, GeometryError

DEFAULT_MAX_BYTES = 100 * 1024 * 1024
DEFAULT_MAX_ZIP_ENTRIES = 1000
DEFAULT_MAX_UNZIPPED_BYTES = 500 * 1024 * 1024

# Formats whose specification fixes the coordinates to WGS-84 longitude/latitude.
_LONLAT_FORMATS = {sniff.GEOJSON, sniff.TOPOJSON, sniff.KML}
_SOURCE_TYPES = (bytes, bytearray, memoryview, str, os.PathLike)
Source = bytes | bytearray | memoryview | str | os.PathLike | IO[bytes]


class CRSMissingError(CRSError):
    """The file states no CRS; `options` lists (EPSG code, label) to offer, likeliest first."""

    def __init__(
        self, code: str, message_zh: str, message_en: str, options: list[tuple[int, str]]
    ) -> None:
        super().__init__(code, message_zh, message_en)
        self.options = options


@dataclass(frozen=True)
class LayerInfo:
    """One layer of a vector file: its name, geometry type and number of features."""

    name: str
    geometry_type: str | None
    feature_count: int


@dataclass(frozen=True)
class _Layer:
    """Where GDAL finds one layer, and in which format."""

    path: Path
    name: str
    geometry_type: str | None
    fmt: str


def read_vector(
    source: Source,
    *,
    filename: str | None = None,
    crs: str | int | pyproj.CRS | None = None,
    layer: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_zip_entries: int = DEFAULT_MAX_ZIP_ENTRIES,
    max_unzipped_bytes: int = DEFAULT_MAX_UNZIPPED_BYTES,
) -> gpd.GeoDataFrame:
    """Read a GeoJSON, GeoPackage, zipped Shapefile, KML or TopoJSON file into EPSG:4326 lon/lat (2-D).

    `source` is a path, the file's bytes or a binary file object; `filename` only names it in
    messages (the format is told by content). `crs` is the CRS of the coordinates when the file
    states none (a Shapefile without .prj, GeoJSON in metres); a CRS stated in the file wins.
    `layer` picks one layer of a multi-layer file; KML folders are read together when it is None.
    Rows without geometry are kept. Raises FileFormatError, CRSError (CRSMissingError when the
    caller must name the CRS).
    """
    label = _label(source, filename)
    with _layers_of(source, label, max_bytes, max_zip_entries, max_unzipped_bytes) as layers:
        chosen = _choose_layers(layers, layer, label)
        frames = [_read_layer(item, label) for item in chosen]
    frame = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    frame = gpd.GeoDataFrame(frame, geometry="geometry", crs=frames[0].crs)
    if frame.empty:
        raise FileFormatError("file_empty", f"文件中没有要素：{label}", f"{label} has no features.")
    return _to_lonlat(frame, chosen[0].fmt, crs, label)


def list_layers(
    source: Source,
    *,
    filename: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_zip_entries: int = DEFAULT_MAX_ZIP_ENTRIES,
    max_unzipped_bytes: int = DEFAULT_MAX_UNZIPPED_BYTES,
) -> list[LayerInfo]:
    """List the layers with geometry of a vector file (GeoPackage tables, KML folders, shapefiles in a ZIP)."""
    label = _label(source, filename)
    with _layers_of(source, label, max_bytes, max_zip_entries, max_unzipped_bytes) as layers:
        return [
            LayerInfo(item.name, item.geometry_type, _feature_count(item, label))
            for item in layers
            if item.geometry_type is not None
        ]


def _label(source: Source, filename: str | None) -> str:
    """Name the input in messages."""
    if filename:
        return filename
    if isinstance(source, str | os.PathLike):
        return Path(source).name
    return "上传的文件 (uploaded file)"


@contextmanager
def _layers_of(
    source: Source, label: str, max_bytes: int, max_zip_entries: int, max_unzipped_bytes: int
) -> Iterator[list[_Layer]]:
    """Yield every layer GDAL can read from `source`, with temporary files cleaned up after."""
    path, data = _load(source, label, max_bytes)
    head = data[: sniff.HEAD_BYTES] if data is not None else _read_head(path)
    fmt = sniff.sniff_format(head)
    if fmt is None:
        raise _unknown_format(label, head)
    with tempfile.TemporaryDirectory(prefix="geodata-") as tmp:
        if fmt == sniff.ZIP:
            data = data if data is not None else path.read_bytes()
            files = safe_extract(
                data,
                Path(tmp),
                max_entries=max_zip_entries,
                max_unzipped_bytes=max_unzipped_bytes,
            )
            datasets = [(file, sniff.sniff_format(_read_head(file))) for file in files]
            datasets = [(file, kind) for file, kind in datasets if _is_dataset(file, kind)]
            if not datasets:
                raise FileFormatError(
                    "zip_no_data",
                    f"压缩包中没有可读取的矢量数据（Shapefile、GeoPackage、KML、GeoJSON）：{label}",
                    f"{label} holds no Shapefile, GeoPackage, KML or GeoJSON data.",
                )
        elif data is not None:
            # GDAL needs a file: write it under a name that matches what the content is.
            path = Path(tmp) / f"upload.{fmt}"
            path.write_bytes(data)
            datasets = [(path, fmt)]
        else:
            datasets = [(path, fmt)]
        layers = [item for file, kind in datasets for item in _dataset_layers(file, kind, label)]
        yield layers


def _is_dataset(file: Path, kind: str | None) -> bool:
    """Say whether an unpacked file is a dataset to open (a .shx shares the .shp's header; no nested ZIPs)."""
    if kind == sniff.SHAPEFILE:
        return file.suffix.lower() == ".shp"
    return kind not in (None, sniff.ZIP)


def _load(source: Source, label: str, max_bytes: int) -> tuple[Path | None, bytes | None]:
    """Return (path, None) for a file on disk or (None, bytes) for content, refusing oversize input."""
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        try:
            size_bytes = path.stat().st_size
        except OSError as exc:
            raise FileFormatError(
                "file_missing", f"找不到文件：{label}", f"Cannot open {label}: {exc}."
            ) from exc
        if not path.is_file():
            raise FileFormatError("file_missing", f"不是文件：{label}", f"{label} is not a file.")
        _check_size(size_bytes, max_bytes, label)
        return path, None
    if isinstance(source, _SOURCE_TYPES):
        data = bytes(source)
    elif hasattr(source, "read"):
        data = source.read(max_bytes + 1)
    else:
        raise TypeError(f"read_vector expects a path, bytes or a binary file, not {type(source)}")
    _check_size(len(data), max_bytes, label)
    return None, data


def _check_size(size_bytes: int, max_bytes: int, label: str) -> None:
    """Refuse empty files and files over the size limit."""
    if size_bytes == 0:
        raise FileFormatError("file_empty", f"文件为空：{label}", f"{label} is empty.")
    if size_bytes > max_bytes:
        raise FileFormatError(
            "file_too_large",
            f"文件过大（上限 {max_bytes:,} 字节）：{label}",
            f"{label} is larger than the limit of {max_bytes:,} bytes.",
        )


def _read_head(path: Path) -> bytes:
    """Return the first bytes of a file, enough to tell its format."""
    with path.open("rb") as file:
        return file.read(sniff.HEAD_BYTES)


def _unknown_format(label: str, head: bytes) -> FileFormatError:
    """Build the refusal for content that is none of the formats we read."""
    if head.startswith(b"SQLite format 3\x00"):
        return FileFormatError(
            "not_geopackage",
            f"这是 SQLite 数据库但不是 GeoPackage：{label}",
            f"{label} is an SQLite database but not a GeoPackage.",
        )
    return FileFormatError(
        "unknown_format",
        f"无法识别文件格式（支持 GeoJSON、GeoPackage、Shapefile 压缩包、KML、TopoJSON）：{label}",
        f"{label} is not GeoJSON, GeoPackage, a zipped Shapefile, KML or TopoJSON.",
    )


def _dataset_layers(path: Path, fmt: str, label: str) -> list[_Layer]:
    """List the layers of one dataset after the format's own safety checks."""
    if fmt == sniff.KML and sniff.has_xml_declarations(path.read_bytes()):
        raise FileFormatError(
            "kml_doctype",
            f"KML 文件含有 DOCTYPE 或 ENTITY 声明，出于安全原因拒绝读取：{label}",
            f"{label} declares a DOCTYPE or ENTITY; such KML is refused for safety.",
        )
    if fmt == sniff.SHAPEFILE and (
        path.suffix.lower() != ".shp" or not _sibling(path, ".shx") or not _sibling(path, ".dbf")
    ):
        raise FileFormatError(
            "shapefile_incomplete",
            f"Shapefile 需连同 .shx、.dbf、.prj 一起打包为 ZIP 上传：{label}",
            f"Upload a Shapefile as a ZIP with its .shx, .dbf and .prj files: {label}",
        )
    listed = _gdal(pyogrio.list_layers, label, path)
    return [_Layer(path, str(name), geometry_type, fmt) for name, geometry_type in listed]


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
    """Count the features of one layer."""
    return int(_gdal(pyogrio.read_info, label, item.path, layer=item.name)["features"])


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


def _to_lonlat(
    frame: gpd.GeoDataFrame, fmt: str, crs: str | int | pyproj.CRS | None, label: str
) -> gpd.GeoDataFrame:
    """Settle the source CRS, reproject to EPSG:4326 (x = lon, y = lat degrees) and drop Z."""
    source_crs = frame.crs
    if source_crs is None and fmt in _LONLAT_FORMATS:
        source_crs = pyproj.CRS.from_epsg(4326)
    geoms = np.asarray(frame.geometry.values)
    xy = shapely.get_coordinates(geoms)
    if not np.isfinite(xy).all():
        raise FileFormatError(
            "coordinates_not_finite",
            f"文件中有无效坐标（NaN 或无穷大）：{label}",
            f"{label} holds coordinates that are NaN or infinite.",
        )
    if source_crs is not None and source_crs.is_geographic and not _lonlat_range(xy):
        if len(xy) and crs_mod.is_in_china(xy[:, 1], xy[:, 0]).all():
            raise GeometryError(
                "swapped_lonlat",
                f"经纬度可能写反了：纬度超过 90 度，而对调后落在中国境内；应先写经度再写纬度：{label}",
                f"Longitude and latitude in {label} look swapped: latitudes beyond 90 degrees "
                "fall in China when swapped; give longitude first",
            )
        source_crs = None  # "degrees" out of range: metres written without a CRS
    if source_crs is None:
        if crs is None:
            raise _missing_crs(label, xy)
        source_crs = crs if crs_mod.offset_system(crs) else crs_mod.parse_crs(crs)
    lonlat_geoms = shapely.transform(geoms, lambda xy: _xy_to_lonlat(xy, source_crs))
    lonlat = shapely.get_coordinates(lonlat_geoms)
    if not (np.isfinite(lonlat).all() and _lonlat_range(lonlat)):
        raise CRSError(
            "crs_mismatch",
            f"坐标与坐标系不符，转换后超出经纬度范围：{label}",
            f"The coordinates of {label} do not fit their CRS: out of range after reprojection.",
        )
    frame = frame.set_geometry(gpd.GeoSeries(lonlat_geoms, index=frame.index, crs=4326))
    return frame.reset_index(drop=True)


def _xy_to_lonlat(xy: np.ndarray, source_crs: pyproj.CRS | str) -> np.ndarray:
    """Reproject an (n, 2) array of x/y in `source_crs` to lon/lat degrees (EPSG:4326)."""
    lon, lat = crs_mod.to_wgs84(xy[:, 0], xy[:, 1], source_crs)
    return np.column_stack([lon, lat])


def _lonlat_range(xy: np.ndarray) -> bool:
    """Say whether every (x, y) is a longitude in [-180, 180] and a latitude in [-90, 90] (NaN: no)."""
    return bool((np.abs(xy[:, 0]) <= 180).all() and (np.abs(xy[:, 1]) <= 90).all())


def _missing_crs(label: str, xy: np.ndarray) -> CRSMissingError:
    """Build the refusal for a file without a CRS, offering CGCS2000 Gauss-Krüger zones."""
    options = [(zone.epsg, zone.label_zh) for zone in crs_mod.gauss_kruger_zones()]
    if len(xy) and _lonlat_range(xy):
        options = [(4490, "CGCS2000 经纬度"), (4326, "WGS-84 经纬度"), *options]
    guess = crs_mod.guess_gk_epsg(*np.nanmedian(xy, axis=0)) if len(xy) else None
    hint_zh = hint_en = ""
    if guess is not None:
        options.sort(key=lambda option: option[0] != guess)
        hint_zh = f"坐标看来是 EPSG:{guess}（{options[0][1]}）。"
        hint_en = f" The coordinates look like EPSG:{guess}."
    return CRSMissingError(
        "crs_missing",
        f"文件没有坐标系（如缺少 .prj），请指定坐标系，例如 CGCS2000 3度带高斯-克吕格投影"
        f"（EPSG:4513–4554）。{hint_zh}{label}",
        f"{label} states no coordinate system (e.g. no .prj); name one, for example a CGCS2000 "
        f"3-degree Gauss-Kruger zone (EPSG:4513-4554).{hint_en}",
        options,
    )
