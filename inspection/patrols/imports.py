"""Import a track file (GPX, KML, KMZ, GeoJSON) as one ended patrol of a user; the same file twice is one patrol."""

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from geodata.entry import file_label, load_source
from geodata.errors import FileFormatError
from geodata.tracks import read_track
from inspection import clock
from inspection.accounts.models import User
from inspection.db import begin_write
from inspection.errors import InvalidInput
from inspection.patrols import links, packing
from inspection.patrols.models import Patrol, PatrolBatch
from inspection.patrols.tracks import cleaning_rules, rebuild

FILE_BATCH = "file"  # the client id of an imported file's one batch


@dataclass(frozen=True)
class Imported:
    """The patrol a file made (or had made before: created False)."""

    patrol: Patrol
    created: bool


def import_patrol(
    session: Session,
    source,
    user: User,
    config,
    *,
    filename: str | None = None,
    day: date | None = None,
    now: datetime | None = None,
) -> Imported:
    """Read a track file through the guarded reader and store it as an ended patrol of `user`.

    `source` is a path, bytes or a binary file (`filename` names bytes); `day` is the town day a
    file without times counts on (default today). Raises FileFormatError or InvalidInput and then
    writes nothing; the caller commits.
    """
    label = file_label(source, filename)
    max_bytes = int(config["PATROL_MAX_FILE_BYTES"])
    _, data = load_source(source, label, max_bytes)
    digest = hashlib.sha256(data).hexdigest()
    existing = session.scalar(select(Patrol).where(Patrol.client_id == digest))
    if existing is not None:
        return Imported(existing, False)
    track = read_track(
        data,
        filename=label,
        max_bytes=max_bytes,
        max_points=int(config["PATROL_MAX_POINTS"]),
        now=now or datetime.now(UTC),
    )
    if day is not None and day > clock.town_today():
        raise InvalidInput(
            "day_in_future", "巡查日期不能晚于今天", "The patrol's day lies in the future"
        )
    begin_write(session)  # the file is read: now the writer's lock, and a second look for the file
    existing = session.scalar(select(Patrol).where(Patrol.client_id == digest))
    if existing is not None:
        return Imported(existing, False)
    patrol = Patrol(
        client_id=digest,
        user=user,
        origin="file",
        file_name=label[:255],
        file_format=track.fmt,
        status="ended",
        day=day or clock.town_today(),
    )
    patrol.batches.append(
        PatrolBatch(
            client_id=FILE_BATCH,
            fixes=len(track),
            data=packing.pack(
                track.lon_deg, track.lat_deg, track.time, track.accuracy_m, track.segment_break
            ),
        )
    )
    clean = rebuild(session, patrol, cleaning_rules(config), day=day)
    if not clean.kept:
        raise FileFormatError(
            "track_nothing_kept",
            f"轨迹的 {clean.points:,} 个点全部被剔除（精度差 {patrol.dropped_accuracy:,}，"
            f"速度过快 {patrol.dropped_speed:,}，时间重复 {patrol.dropped_duplicate_time:,}）："
            f"{label}",
            f"All {clean.points:,} points of {label} were dropped (accuracy "
            f"{patrol.dropped_accuracy:,}, speed {patrol.dropped_speed:,}, duplicate time "
            f"{patrol.dropped_duplicate_time:,}).",
        )
    session.add(patrol)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:  # the same file, imported at this moment by another request
        session.expunge(patrol)
        existing = session.scalar(select(Patrol).where(Patrol.client_id == digest))
        if existing is None:
            raise
        return Imported(existing, False)
    links.link_cases_by_time(session, patrol)
    return Imported(patrol, True)


def summary(patrol: Patrol) -> dict:
    """The JSON object `flask import-patrol --json` prints (times ISO 8601 in the town's offset)."""
    return {
        "patrol_id": patrol.id,
        "points": patrol.points,
        "kept": patrol.kept,
        "dropped": patrol.dropped,
        "segments": patrol.segments,
        "length_m": patrol.length_m,
        "duration_s": patrol.duration_s,
        "started_at": iso_local(patrol.started_at),
        "ended_at": iso_local(patrol.ended_at),
    }


def iso_local(at: datetime | None) -> str | None:
    """A naive UTC timestamp as ISO 8601 in the town's time zone, with its offset (None stays None)."""
    if at is None:
        return None
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(clock.town_timezone())
    return at.replace(tzinfo=UTC).astimezone(zone).isoformat()
