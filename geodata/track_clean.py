"""Clean a patrol track by the DOMAIN rules and measure it: kept fixes, segments, length_m on GRS80, duration_s.

Rules, in time order (stable: fixes with equal times keep their file order), each a parameter:
a fix whose known accuracy is worse than `max_accuracy_m` is dropped (`accuracy`); a fix with the
same time as the last kept fix is dropped (`duplicate_time`); a fix implying more than
`max_speed_kmh` from the last kept fix is dropped (`speed`); a gap over `max_gap_s` between kept
fixes, or a segment break of the source file, starts a new segment. Without times only the
accuracy rule applies and the duration is unknown (None).

"Last kept" makes the speed and duplicate rules sequential. `_keep` gives exactly the sequential
answer while touching Python only at the rare fixes that fail against their predecessor: between
two such fixes every fix is kept, since its predecessor is.
"""

import bisect
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
from pyproj import Geod

from geodata.area import GRS80_A_M, GRS80_F

REASONS = ("", "accuracy", "duplicate_time", "speed")  # drop_reason codes 0, 1, 2, 3
KEPT, ACCURACY, DUPLICATE_TIME, SPEED = range(4)

# Hops up to this length use the local ellipsoidal formula of hop_lengths_m (relative error
# below 1e-9 there); longer ones, rare in a walk, go to Karney's geodesic in pyproj.
LOCAL_HOP_MAX_M = 1000.0
LOOKAHEAD = 6  # fixes after a failing one judged in the vectorised pass (see _keep)
_GEOD = Geod(a=GRS80_A_M, f=GRS80_F)
_E2 = GRS80_F * (2 - GRS80_F)
_RAD = np.pi / 180
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class CleanTrack:
    """Kept fixes in time order (lon_deg/lat_deg EPSG:4326, time datetime64[ns] UTC, accuracy_m),
    their segment ids, the drop reason of every input fix (codes into REASONS, input order) and
    the figures of the patrol: length_m (GRS80 geodesic), duration_s (None without times)."""

    lon_deg: np.ndarray
    lat_deg: np.ndarray
    time: np.ndarray
    accuracy_m: np.ndarray
    segment: np.ndarray
    drop_reason: np.ndarray
    points: int
    kept: int
    segments: int
    dropped: dict
    length_m: float
    duration_s: float | None
    started_at: datetime | None
    ended_at: datetime | None


def hop_lengths_m(lon1_deg, lat1_deg, lon2_deg, lat2_deg) -> np.ndarray:
    """Geodesic distances in metres on GRS80 between lon/lat points (EPSG:4326), vectorised.

    Short hops use the ellipsoid's meridian and prime-vertical radii at the mid-latitude, whose
    error grows as the square of the hop (under 1e-9 relative at 1 km); longer ones use pyproj.
    """
    arrays = np.broadcast_arrays(
        *(np.asarray(v, dtype=np.float64) for v in (lon1_deg, lat1_deg, lon2_deg, lat2_deg))
    )
    shape = arrays[0].shape
    lon1, lat1, lon2, lat2 = (a.reshape(-1) for a in arrays)
    phi = (lat1 + lat2) * (_RAD / 2)
    sin_phi = np.sin(phi)
    w2 = 1 - _E2 * sin_phi * sin_phi
    n_m = GRS80_A_M / np.sqrt(w2)
    dx = n_m * np.cos(phi) * ((lon2 - lon1 + 180) % 360 - 180) * _RAD
    dy = n_m * (1 - _E2) / w2 * (lat2 - lat1) * _RAD
    length_m = np.hypot(dx, dy)
    far = np.flatnonzero(length_m > LOCAL_HOP_MAX_M)
    if len(far):
        length_m[far] = _GEOD.inv(lon1[far], lat1[far], lon2[far], lat2[far])[2]
    return length_m.reshape(shape)


def clean_fixes(
    lon_deg,
    lat_deg,
    time=None,
    accuracy_m=None,
    segment_break=None,
    *,
    max_accuracy_m: float = 50.0,
    max_speed_kmh: float = 120.0,
    max_gap_s: float = 600.0,
) -> CleanTrack:
    """Clean fixes given as arrays (lon/lat degrees EPSG:4326, datetime64 UTC or all NaT, metres)."""
    lon, lat = np.asarray(lon_deg, np.float64), np.asarray(lat_deg, np.float64)
    n = len(lon)
    t_ns = _nanoseconds(time, n)
    accuracy = np.full(n, np.nan) if accuracy_m is None else np.asarray(accuracy_m, np.float64)
    breaks = np.zeros(n, bool) if segment_break is None else np.asarray(segment_break, bool).copy()
    if n:
        breaks[0] = True
    timed = t_ns is not None
    order = _time_order(t_ns) if timed else np.arange(n)
    reason = np.zeros(n, np.int8)  # in time order until the end
    reason[accuracy[order] > max_accuracy_m] = ACCURACY
    candidates = np.flatnonzero(reason == KEPT)
    if timed:
        codes = _keep(
            lon[order[candidates]],
            lat[order[candidates]],
            t_ns[order[candidates]],
            max_speed_kmh / 3.6,
        )
        reason[candidates] = codes
    kept = np.flatnonzero(reason == KEPT)
    source = order[kept]
    new_segment = _new_segments(
        kept, np.cumsum(breaks[order]), t_ns[source] if timed else None, max_gap_s
    )
    within = ~new_segment[1:]
    hops_m = hop_lengths_m(lon[source[:-1]], lat[source[:-1]], lon[source[1:]], lat[source[1:]])
    drop_reason = np.empty(n, np.int8)
    drop_reason[order] = reason
    times = np.full(len(kept), np.datetime64("NaT"), "datetime64[ns]")
    duration_s = started_at = ended_at = None
    if timed:
        times = t_ns[source].astype("datetime64[ns]")
        duration_s = float(np.diff(t_ns[source])[within].sum() / 1e9)
        started_at, ended_at = (_utc(times[0]), _utc(times[-1])) if len(kept) else (None, None)
    return CleanTrack(
        lon_deg=lon[source],
        lat_deg=lat[source],
        time=times,
        accuracy_m=accuracy[source],
        segment=np.cumsum(new_segment) - 1,
        drop_reason=drop_reason,
        points=n,
        kept=len(kept),
        segments=int(new_segment.sum()),
        dropped={name: int((reason == code).sum()) for code, name in enumerate(REASONS) if code},
        length_m=float(hops_m[within].sum()),
        duration_s=duration_s,
        started_at=started_at,
        ended_at=ended_at,
    )


def clean_track(track, **rules) -> CleanTrack:
    """Clean a geodata.tracks.Track (lon/lat EPSG:4326) with the rules' defaults or `rules`."""
    return clean_fixes(
        track.lon_deg, track.lat_deg, track.time, track.accuracy_m, track.segment_break, **rules
    )


def _nanoseconds(time, n: int) -> np.ndarray | None:
    """Times as int64 ns since 1970 (UTC), or None when there are none; refuse some-but-not-all."""
    if time is None:
        return None
    time = np.asarray(time).astype("datetime64[ns]")
    missing = np.isnat(time)
    if missing.all():
        return None
    if missing.any():
        raise ValueError(
            f"{int(missing.sum())} of {n} fixes have no time; give times to all or none"
        )
    return time.view(np.int64)


def _time_order(t_ns: np.ndarray) -> np.ndarray:
    """The stable time order of the fixes (identity when already sorted, as trackers write)."""
    if np.all(t_ns[1:] >= t_ns[:-1]):
        return np.arange(len(t_ns))
    return np.argsort(t_ns, kind="stable")


def _verdicts(lon, lat, t_ns, last, fixes, max_speed_mps: float) -> np.ndarray:
    """The code of each fix in `fixes` judged from the kept fix(es) `last`: KEPT, DUPLICATE_TIME or SPEED."""
    dt_ns = t_ns[fixes] - t_ns[last]
    too_fast = (
        hop_lengths_m(lon[last], lat[last], lon[fixes], lat[fixes]) > max_speed_mps * dt_ns / 1e9
    )
    return np.where(dt_ns == 0, DUPLICATE_TIME, np.where(too_fast, SPEED, KEPT)).astype(np.int8)


def _keep(lon, lat, t_ns, max_speed_mps: float) -> np.ndarray:
    """Codes (KEPT, DUPLICATE_TIME, SPEED) of time-ordered fixes, each judged from the last kept one."""
    n = len(lon)
    codes = np.zeros(n, np.int8)
    if n < 2:
        return codes
    every = np.arange(n)
    from_previous = _verdicts(lon, lat, t_ns, every[:-1], every[1:], max_speed_mps)
    failing = np.flatnonzero(from_previous) + 1  # fixes that fail against their predecessor
    # Most failures are short: judge the next LOOKAHEAD fixes after each from the fix before it,
    # all at once, so Python only reads answers (−1: past the end).
    ahead = np.full((len(failing), LOOKAHEAD), -1, np.int8)
    for k in range(1, LOOKAHEAD + 1):
        inner = np.flatnonzero(failing + k < n)
        fix = failing[inner]
        ahead[inner, k - 1] = _verdicts(lon, lat, t_ns, fix - 1, fix + k, max_speed_mps)
    events, ahead, first_codes = (
        failing.tolist(),
        ahead.tolist(),
        from_previous[failing - 1].tolist(),
    )
    p = 0
    while p < len(events):
        fix, last = events[p], events[p] - 1  # `last` is kept: every fix since the last event was
        codes[fix] = first_codes[p]
        kept = None
        for k, verdict in enumerate(ahead[p], start=1):
            if verdict == KEPT:
                kept = fix + k
                break
            if verdict < 0:
                break
            codes[fix + k] = verdict
        else:
            kept = _next_kept(lon, lat, t_ns, last, fix + LOOKAHEAD + 1, codes, max_speed_mps)
        if kept is None:
            break
        p = bisect.bisect_right(events, kept, lo=p + 1)
    return codes


def _next_kept(lon, lat, t_ns, last: int, start: int, codes, max_speed_mps: float) -> int | None:
    """Judge fixes from `start` on against `last` in growing chunks; return the first kept, or None."""
    size = 16
    while start < len(lon):
        fixes = np.arange(start, min(start + size, len(lon)))
        verdicts = _verdicts(lon, lat, t_ns, last, fixes, max_speed_mps)
        passing = np.flatnonzero(verdicts == KEPT)
        stop = passing[0] if len(passing) else len(fixes)
        codes[fixes[:stop]] = verdicts[:stop]
        if len(passing):
            return int(fixes[stop])
        start, size = start + size, size * 4
    return None


def _new_segments(
    kept: np.ndarray, breaks_so_far: np.ndarray, t_ns, max_gap_s: float
) -> np.ndarray:
    """Flag the kept fixes that start a segment: the first, after a source break or a long gap."""
    new = np.ones(len(kept), bool)
    new[1:] = breaks_so_far[kept[1:]] > breaks_so_far[kept[:-1]]
    if t_ns is not None:
        new[1:] |= np.diff(t_ns) > max_gap_s * 1e9
    return new


def _utc(value: np.datetime64) -> datetime:
    """A datetime64[ns] (UTC) as an aware datetime, to the microsecond."""
    return _EPOCH + timedelta(microseconds=int(value.astype(np.int64)) // 1000)
