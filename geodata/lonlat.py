"""Settle a read file's CRS and bring its coordinates to EPSG:4326 longitude/latitude degrees (2-D)."""

import geopandas as gpd
import numpy as np
import pyproj
import shapely

from geodata import crs as crs_mod
from geodata import sniff
from geodata.errors import CRSError, FileFormatError, GeometryError

# Formats whose specification fixes the coordinates to WGS-84 longitude/latitude.
LONLAT_FORMATS = {sniff.GEOJSON, sniff.TOPOJSON, sniff.KML}


class CRSMissingError(CRSError):
    """The file states no CRS; `options` lists (EPSG code, label) to offer, likeliest first."""

    def __init__(
        self, code: str, message_zh: str, message_en: str, options: list[tuple[int, str]]
    ) -> None:
        super().__init__(code, message_zh, message_en)
        self.options = options


def to_lonlat(
    frame: gpd.GeoDataFrame, fmt: str, crs: str | int | pyproj.CRS | None, label: str
) -> gpd.GeoDataFrame:
    """Settle the source CRS, reproject to EPSG:4326 (x = lon, y = lat degrees) and drop Z."""
    source_crs = frame.crs
    if source_crs is None and fmt in LONLAT_FORMATS:
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
