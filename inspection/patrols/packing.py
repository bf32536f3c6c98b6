"""Fixes packed into bytes for storage: lon/lat degrees (EPSG:4326), time (ns UTC), accuracy (m), breaks.

Little-endian: a 4-byte tag and the count n, then five columns of n values: float64 lon_deg,
float64 lat_deg, int64 time in ns since 1970 UTC (the minimum int64 = unknown, numpy's NaT),
float64 accuracy_m (NaN = unknown), uint8 segment break (1 at the first fix of a source
segment, as a file's trkseg). A month of patrols reads back as numpy arrays, no row per fix.
"""

from dataclasses import dataclass

import numpy as np

TAG = b"PF1\x00"
HEADER_BYTES = 8


@dataclass(frozen=True)
class FixArrays:
    """Fixes as arrays: lon_deg, lat_deg (EPSG:4326), time (datetime64[ns] UTC, NaT unknown),
    accuracy_m (NaN unknown), segment_break (bool)."""

    lon_deg: np.ndarray
    lat_deg: np.ndarray
    time: np.ndarray
    accuracy_m: np.ndarray
    segment_break: np.ndarray

    def __len__(self) -> int:
        return len(self.lon_deg)


def pack(lon_deg, lat_deg, time, accuracy_m=None, segment_break=None) -> bytes:
    """Pack fixes (degrees EPSG:4326, datetime64 UTC or NaT, metres or NaN, bool) into bytes."""
    lon = np.ascontiguousarray(lon_deg, "<f8")
    n = len(lon)
    lat = np.ascontiguousarray(lat_deg, "<f8")
    t = np.ascontiguousarray(np.asarray(time).astype("datetime64[ns]").view(np.int64), "<i8")
    accuracy = np.full(n, np.nan) if accuracy_m is None else accuracy_m
    breaks = np.zeros(n, bool) if segment_break is None else segment_break
    accuracy = np.ascontiguousarray(accuracy, "<f8")
    breaks = np.ascontiguousarray(breaks, np.uint8)
    if not (len(lat) == len(t) == len(accuracy) == len(breaks) == n):
        raise ValueError("every column needs one value per fix")
    head = TAG + np.uint32(n).astype("<u4").tobytes()
    return head + b"".join(a.tobytes() for a in (lon, lat, t, accuracy, breaks))


def unpack(data: bytes) -> FixArrays:
    """Read packed fixes back as arrays (read-only views of the bytes)."""
    if data[:4] != TAG:
        raise ValueError("not packed fixes")
    n = int(np.frombuffer(data, "<u4", 1, 4)[0])
    at = HEADER_BYTES
    lon = np.frombuffer(data, "<f8", n, at)
    lat = np.frombuffer(data, "<f8", n, at + 8 * n)
    t = np.frombuffer(data, "<i8", n, at + 16 * n)
    accuracy = np.frombuffer(data, "<f8", n, at + 24 * n)
    breaks = np.frombuffer(data, np.uint8, n, at + 32 * n)
    return FixArrays(lon, lat, t.view("datetime64[ns]"), accuracy, breaks.astype(bool))


def concat(parts: list[FixArrays]) -> FixArrays:
    """Join fix arrays end to end."""
    if not parts:
        empty = np.empty(0)
        return FixArrays(empty, empty, np.empty(0, "datetime64[ns]"), empty, np.empty(0, bool))
    return FixArrays(
        *(np.concatenate([getattr(p, name) for p in parts]) for name in FixArrays.__annotations__)
    )
