"""Rebuild a patrol from its stored batches: clean by the rules, cut into segments, measure, place.

Every batch that arrives (or the one batch of an imported file) triggers a rebuild of the whole
patrol, so its figures and segments always answer to the fixes it holds; a 4-hour patrol at a
fix a second is 14,400 fixes, cleaned in milliseconds (geodata.track_clean).
"""

from collections import Counter
from datetime import date

import numpy as np
import shapely
from sqlalchemy.orm import Session

from geodata.track_clean import CleanTrack, clean_fixes, hop_lengths_m
from inspection import clock
from inspection.accounts.models import User
from inspection.grid.models import GridCell
from inspection.grid.placement import grid_index
from inspection.patrols import packing
from inspection.patrols.models import Patrol, PatrolSegment


def cleaning_rules(config) -> dict:
    """The cleaning rules of the app's settings, as geodata.track_clean takes them."""
    return {
        "max_accuracy_m": float(config["PATROL_MAX_ACCURACY_M"]),
        "max_speed_kmh": float(config["PATROL_MAX_SPEED_KMH"]),
        "max_gap_s": float(config["PATROL_MAX_GAP_S"]),
    }


def patrol_fixes(patrol: Patrol) -> packing.FixArrays:
    """Every fix the patrol's batches hold, in the order they were stored."""
    return packing.concat([packing.unpack(batch.data) for batch in patrol.batches])


def user_town_id(user: User) -> int | None:
    """The town of the user's first cell (a group's, a village's or his town itself), if any."""
    for cell in sorted(user.cells, key=lambda c: c.code):
        node: GridCell | None = cell
        while node is not None and node.level != "town":
            node = node.parent
        if node is not None:
            return node.id
    return None


def rebuild(
    session: Session, patrol: Patrol, rules: dict, *, day: date | None = None
) -> CleanTrack:
    """Clean the patrol's fixes by `rules` and store its figures and segments (lon/lat EPSG:4326, metres).

    `day` is the town day a patrol without times counts on (kept when None).
    """
    fixes = patrol_fixes(patrol)
    clean = clean_fixes(
        fixes.lon_deg, fixes.lat_deg, fixes.time, fixes.accuracy_m, fixes.segment_break, **rules
    )
    patrol.points, patrol.kept, patrol.segments = clean.points, clean.kept, clean.segments
    patrol.dropped_accuracy = clean.dropped["accuracy"]
    patrol.dropped_speed = clean.dropped["speed"]
    patrol.dropped_duplicate_time = clean.dropped["duplicate_time"]
    patrol.length_m, patrol.duration_s = clean.length_m, clean.duration_s
    patrol.has_times = clean.duration_s is not None or not clean.points
    patrol.started_at = _naive(clean.started_at)
    patrol.ended_at = _naive(clean.ended_at)
    if patrol.started_at is not None:
        patrol.day = clock.local_day(patrol.started_at, clock.town_timezone())
    elif day is not None or patrol.day is None:
        patrol.day = day or clock.town_today()
    _place(session, patrol, clean)
    patrol.tracks = _segments(clean)
    box = (
        (clean.lon_deg.min(), clean.lat_deg.min(), clean.lon_deg.max(), clean.lat_deg.max())
        if clean.kept
        else (None,) * 4
    )
    patrol.min_lon, patrol.min_lat, patrol.max_lon, patrol.max_lat = (
        None if v is None else float(v) for v in box
    )
    return clean


def _naive(at):
    """An aware UTC datetime as the naive UTC the tables store (None stays None)."""
    return None if at is None else at.replace(tzinfo=None)


def _place(session: Session, patrol: Patrol, clean: CleanTrack) -> None:
    """Count the kept fixes inside the grid's groups and settle the patrol's town."""
    index, id_of = grid_index(session)
    if not id_of or not clean.kept:
        patrol.kept_inside = 0
        patrol.town_id = patrol.town_id or user_town_id(patrol.user)
        return
    rows = index.assign_xy(clean.lon_deg, clean.lat_deg)
    patrol.kept_inside = int((rows >= 0).sum())
    town = user_town_id(patrol.user)
    if town is None and patrol.kept_inside:
        towns = index.lineage(rows[rows >= 0])["town_code"].dropna()
        if len(towns):
            town = id_of.get(Counter(towns).most_common(1)[0][0])
    patrol.town_id = town


def _segments(clean: CleanTrack) -> list[PatrolSegment]:
    """One row per segment of the cleaned track: its line, kept fixes and figures."""
    if not clean.kept:
        return []
    cuts = np.flatnonzero(np.diff(clean.segment)) + 1
    rows = []
    for seq, part in enumerate(np.split(np.arange(clean.kept), cuts)):
        lon, lat, time = clean.lon_deg[part], clean.lat_deg[part], clean.time[part]
        hops_m = hop_lengths_m(lon[:-1], lat[:-1], lon[1:], lat[1:])
        geom = (
            shapely.linestrings(np.column_stack([lon, lat]))
            if len(part) > 1
            else shapely.points(lon[0], lat[0])
        )
        timed = not np.isnat(time[0])
        segment = PatrolSegment(
            seq=seq,
            fixes=len(part),
            started_at=_utc_naive(time[0]) if timed else None,
            ended_at=_utc_naive(time[-1]) if timed else None,
            length_m=float(hops_m.sum()),
            geom=geom,
            data=packing.pack(lon, lat, time, clean.accuracy_m[part]),
        )
        segment._set_bbox(geom)
        rows.append(segment)
    return rows


def _utc_naive(value: np.datetime64):
    """A datetime64 (UTC) as a naive UTC datetime, to the microsecond."""
    return value.astype("datetime64[us]").item()
