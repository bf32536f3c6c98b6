"""Read a patrol track file (GPX, KML, KMZ, GeoJSON) into arrays of fixes: lon/lat (EPSG:4326), UTC time.

The file enters by `ways.PATROL_IMPORT` through the rules of `geodata.io`: the format is sniffed
from the content and must agree with the name's extension, a ZIP (KMZ) unpacks only .gpx and .kml
members (`geodata.archive`), XML is parsed by defusedxml with no DTD and no entities
(`geodata.xml_guard`). GDAL never sees these files: we read the fixes ourselves, and nothing in a
file (a KML NetworkLink, a style URL) is ever followed. Then every fix is checked: the point cap,
longitude and latitude in range, times readable and not after `now`.
"""

import json
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from geodata import sniff, ways, xml_guard

# The first steps of the one guarded reader, shared rather than written twice.
from geodata.entry import Source, file_label, load_source, member_format, sniffed_format, unpack
from geodata.errors import FileFormatError
from geodata.io import DEFAULT_MAX_ZIP_ENTRIES
from geodata.track_parsers import Fixes, geojson_fixes, gpx_fixes, kml_fixes

DEFAULT_MAX_BYTES = 50 * 1024 * 1024  # a 4-hour patrol at one fix a second is about 2 MB of GPX
DEFAULT_MAX_POINTS = 500_000
WAY = ways.PATROL_IMPORT


@dataclass(frozen=True)
class Track:
    """Fixes in file order: lon_deg/lat_deg (EPSG:4326), time (datetime64[ns] UTC, NaT unknown),
    accuracy_m (NaN unknown), segment_break (True at the first fix of each source segment)."""

    lon_deg: np.ndarray
    lat_deg: np.ndarray
    time: np.ndarray
    accuracy_m: np.ndarray
    segment_break: np.ndarray
    fmt: str

    def __len__(self) -> int:
        return len(self.lon_deg)

    @property
    def has_times(self) -> bool:
        """Say whether the fixes carry times (all of them do, or none)."""
        return bool(len(self.time)) and not np.isnat(self.time[0])


def read_track(
    source: Source,
    *,
    filename: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_points: int = DEFAULT_MAX_POINTS,
    now: datetime | None = None,
) -> Track:
    """Read one track file (path, bytes or binary file) into a Track in lon/lat degrees (EPSG:4326).

    `filename` is the name it came with (required for bytes); `now` (default: the clock, UTC) is
    the latest time a fix may carry. Raises FileFormatError.
    """
    label = file_label(source, filename)
    _, data = load_source(source, label, max_bytes)
    fmt = sniffed_format(WAY, data, label)
    if fmt == sniff.ZIP:
        fixes, fmt = _zip_fixes(data, label, max_bytes)
    else:
        fixes = _fixes(data, fmt, label)
    return _track(fixes, fmt, label, max_points, now or datetime.now(UTC))


def _zip_fixes(data: bytes, label: str, max_bytes: int) -> tuple[Fixes, str]:
    """The fixes of every .gpx and .kml member of a ZIP or KMZ, in archive order."""
    fixes, fmt = Fixes(), sniff.ZIP
    with tempfile.TemporaryDirectory(prefix="geodata-track-") as tmp:
        files = unpack(WAY, data, Path(tmp), DEFAULT_MAX_ZIP_ENTRIES, max_bytes)
        for file in files:
            fmt = member_format(WAY, file)
            part = _fixes(file.read_bytes(), fmt, f"{label}/{file.name}")
            for name in vars(fixes):
                getattr(fixes, name).extend(getattr(part, name))
    if not files:
        raise FileFormatError(
            "zip_no_data",
            f"压缩包中没有轨迹文件（{WAY.names_zh()}）：{label}",
            f"{label} holds no track file ({WAY.names_en()}).",
        )
    return fixes, fmt


def _fixes(data: bytes, fmt: str, label: str) -> Fixes:
    """Parse one file's content of format `fmt` into fixes."""
    if fmt == sniff.GPX:
        return gpx_fixes(xml_guard.parse(data, "gpx", label))
    if fmt == sniff.KML:
        return kml_fixes(xml_guard.parse(data, "kml", label), label)
    try:
        document = json.loads(data.removeprefix(b"\xef\xbb\xbf"))
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and bad UTF-8 are ValueErrors
        raise FileFormatError(
            "json_malformed",
            f"GeoJSON 格式有误，请检查文件是否完整：{label}",
            f"{label} is not well-formed JSON ({str(exc)[:100]}).",
        ) from exc
    return geojson_fixes(document, label)


def _track(fixes: Fixes, fmt: str, label: str, max_points: int, now: datetime) -> Track:
    """Check the fixes (count, numbers, ranges, times) and build the Track."""
    n = len(fixes.lon_deg)
    if n == 0:
        raise FileFormatError(
            "no_track",
            f"文件中没有轨迹（GPX 的 trk/rte、KML 的 LineString/gx:Track、GeoJSON 的线）：{label}",
            f"{label} holds no track (GPX trk/rte, KML LineString/gx:Track, GeoJSON lines).",
        )
    if n > max_points:
        raise FileFormatError(
            "too_many_points",
            f"轨迹点过多：{n:,} 个，上限 {max_points:,} 个：{label}",
            f"{label} has {n:,} track points, over the limit of {max_points:,}.",
        )
    lon, lat = _numbers(fixes.lon_deg, label), _numbers(fixes.lat_deg, label)
    _check_range(lon, lat, label)
    accuracy = _numbers([np.nan if a is None else a for a in fixes.accuracy_m], label)
    accuracy[~(accuracy >= 0)] = np.nan  # negative or NaN: the writer did not know
    return Track(
        lon, lat, _times(fixes.time, label, now), accuracy, np.array(fixes.segment_break, bool), fmt
    )


def _numbers(values: list, label: str) -> np.ndarray:
    """Convert number texts (or numbers) to float64, refusing anything else."""
    try:
        return np.array(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise FileFormatError(
            "track_bad_coordinates",
            f"轨迹中有不是数字的坐标或精度：{label}",
            f"{label} holds a coordinate or accuracy that is not a number.",
        ) from exc


def _check_range(lon: np.ndarray, lat: np.ndarray, label: str) -> None:
    """Refuse longitudes outside ±180°, latitudes outside ±90° and non-finite numbers."""
    bad = ~((np.abs(lon) <= 180) & (np.abs(lat) <= 90))
    if bad.any():
        first = int(np.argmax(bad))
        raise FileFormatError(
            "track_out_of_range",
            f"轨迹中有 {int(bad.sum()):,} 个点的经纬度超出范围（第 {first + 1} 个点："
            f"{lon[first]}, {lat[first]}）；坐标须为经纬度（度）：{label}",
            f"{label} has {int(bad.sum()):,} points with longitude/latitude out of range "
            f"(point {first + 1}: {lon[first]}, {lat[first]}); coordinates must be degrees.",
        )


def _times(texts: list, label: str, now: datetime) -> np.ndarray:
    """Parse ISO 8601 times to datetime64[ns] UTC (no offset means UTC, as GPX says); all or none."""
    missing = sum(text is None for text in texts)
    if missing == len(texts):
        return np.full(len(texts), np.datetime64("NaT"), "datetime64[ns]")
    if missing:
        raise FileFormatError(
            "track_times_partial",
            f"轨迹中 {missing:,} 个点没有时间（共 {len(texts):,} 个）；请导出带时间的完整轨迹：{label}",
            f"{missing:,} of the {len(texts):,} points of {label} have no time; export the "
            f"track with a time on every point.",
        )
    try:
        index = pd.to_datetime(pd.Index(texts, dtype=object), utc=True, format="ISO8601")
    except (ValueError, TypeError, OverflowError) as exc:
        raise FileFormatError(
            "track_bad_time",
            f"轨迹中的时间无法识别（须为 ISO 8601，如 2024-05-01T08:00:00Z）：{label}",
            f"{label} holds a time that is not ISO 8601 (e.g. 2024-05-01T08:00:00Z).",
        ) from exc
    times = index.tz_convert(None).as_unit("ns").to_numpy()
    latest = np.datetime64(now.astimezone(UTC).replace(tzinfo=None), "ns")
    future = times > latest
    if future.any():
        first = str(times[np.argmax(future)])[:19]
        raise FileFormatError(
            "track_in_future",
            f"轨迹中有 {int(future.sum()):,} 个点的时间晚于现在（如 {first} UTC）；请检查设备时钟：{label}",
            f"{label} has {int(future.sum()):,} points dated in the future (e.g. {first} UTC); "
            f"check the device's clock.",
        )
    return times
