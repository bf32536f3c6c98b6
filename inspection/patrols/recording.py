"""Patrols recorded on the phone: batches of fixes with client ids (a resent batch is stored once), and the end.

The phone makes the patrol's client id at 开始巡查 and numbers its batches; the first batch that
arrives makes the patrol (a start that waited offline is no different from a batch). Every batch
is checked whole before anything is stored: at most MAX_BATCH_FIXES fixes of four finite numbers
(lon°, lat°, time in ms since 1970 UTC, accuracy m or null), coordinates in range, times not
after now by more than the phone's clock may be off (FUTURE_SLACK_S), and the patrol within
PATROL_MAX_POINTS. A batch for another 网格员's patrol answers 404, like any patrol not one's own.
"""

import math
import re
from datetime import UTC, datetime

import numpy as np
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from inspection import clock
from inspection.accounts.models import User
from inspection.db import begin_write
from inspection.errors import Conflict, DomainError, InvalidInput
from inspection.patrols import packing
from inspection.patrols.models import Patrol, PatrolBatch
from inspection.patrols.tracks import cleaning_rules, rebuild, user_town_id

MAX_BATCH_FIXES = 2000
FUTURE_SLACK_S = 300  # a phone's clock may run a few minutes fast
CLIENT_ID = re.compile(r"[A-Za-z0-9_.:-]{8,64}")


class PatrolNotFound(DomainError):
    """No such patrol of the user's (404): missing, or another 网格员's."""

    status = 404


def not_found() -> PatrolNotFound:
    """The refusal of a patrol that is not the sender's (or does not exist)."""
    return PatrolNotFound(
        "patrol_not_found",
        "没有这次巡查，或它不是您的巡查",
        "No such patrol, or it is not yours",
    )


def check_client_id(value, what: str = "patrol") -> str:
    """A client id as the phone makes it (8–64 letters, digits, -_.:), or InvalidInput."""
    value = value if isinstance(value, str) else ""
    if not CLIENT_ID.fullmatch(value):
        word = "巡查" if what == "patrol" else "批次"
        raise InvalidInput(
            f"bad_{what}_id",
            f"{word}编号无效",
            f"The {what} id is not valid (8–64 letters or digits)",
        )
    return value


def own_patrol(session: Session, user: User, client_id: str) -> Patrol | None:
    """The user's patrol of a client id; None if there is none; PatrolNotFound if another's."""
    patrol = session.scalar(select(Patrol).where(Patrol.client_id == client_id))
    if patrol is not None and patrol.user_id != user.id:
        raise not_found()
    return patrol


def parse_fixes(fixes, now: datetime) -> np.ndarray:
    """Check a batch's fixes ([lon°, lat°, t ms UTC, accuracy m | null] each) and return them as an n × 4 array."""
    if not isinstance(fixes, list) or not fixes:
        raise InvalidInput("batch_empty", "批次中没有定位点", "The batch holds no fixes")
    if len(fixes) > MAX_BATCH_FIXES:
        raise InvalidInput(
            "batch_too_big",
            f"一个批次最多 {MAX_BATCH_FIXES:,} 个定位点，收到 {len(fixes):,} 个",
            f"A batch may hold at most {MAX_BATCH_FIXES:,} fixes, not {len(fixes):,}",
        )
    rows = []
    for fix in fixes:
        if not isinstance(fix, list) or len(fix) != 4 or not all(_number(v) for v in fix[:3]):
            raise _bad_fix()
        if fix[3] is not None and not _number(fix[3]):
            raise _bad_fix()
        rows.append(
            [
                float(fix[0]),
                float(fix[1]),
                float(fix[2]),
                math.nan if fix[3] is None else float(fix[3]),
            ]
        )
    table = np.array(rows, dtype=np.float64)
    lon, lat, t_ms = table[:, 0], table[:, 1], table[:, 2]
    if not ((np.abs(lon) <= 180) & (np.abs(lat) <= 90)).all():
        raise InvalidInput(
            "fix_out_of_range",
            "定位点的经纬度超出范围",
            "A fix's longitude or latitude is out of range",
        )
    latest_ms = (now.timestamp() + FUTURE_SLACK_S) * 1000
    if (t_ms > latest_ms).any() or (t_ms < 0).any():
        raise InvalidInput(
            "fix_in_future",
            "定位点的时间晚于现在，请检查手机时间",
            "A fix is dated in the future; check the phone's clock",
        )
    return table


def _number(value) -> bool:
    """A finite JSON number (not a boolean)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _bad_fix() -> InvalidInput:
    return InvalidInput(
        "bad_fix",
        "定位点格式有误（须为 [经度, 纬度, 时间毫秒, 精度米]）",
        "A fix is malformed (it must be [lon, lat, time ms, accuracy m])",
    )


def add_batch(
    session: Session,
    user: User,
    patrol_client_id: str,
    batch_client_id: str,
    fixes,
    config,
    *,
    now: datetime | None = None,
) -> tuple[Patrol, bool]:
    """Store one batch of the user's patrol (made by its first batch); a resent batch is stored once.

    Returns (patrol, stored): stored False when the batch was there already. The caller commits.
    """
    check_client_id(patrol_client_id)
    now = now or datetime.now(UTC)
    begin_write(session)
    patrol = own_patrol(session, user, patrol_client_id)  # another's patrol: 404 before anything
    check_client_id(batch_client_id, "batch")
    if patrol is not None:
        known = session.scalar(
            select(PatrolBatch.id).where(
                PatrolBatch.patrol_id == patrol.id, PatrolBatch.client_id == batch_client_id
            )
        )
        if known is not None:
            return patrol, False
    table = parse_fixes(fixes, now)
    limit = int(config["PATROL_MAX_POINTS"])
    if (patrol.points if patrol else 0) + len(table) > limit:
        raise InvalidInput(
            "too_many_points",
            f"本次巡查的定位点已达上限 {limit:,} 个，请结束后重新开始",
            f"The patrol has reached the limit of {limit:,} fixes; end it and start a new one",
        )
    if patrol is None:
        patrol = Patrol(
            client_id=patrol_client_id,
            user=user,
            origin="phone",
            status="running",
            day=clock.town_today(),
            town_id=user_town_id(user),
        )
        session.add(patrol)
    times = (table[:, 2] * 1e6).astype(np.int64).astype("datetime64[ns]")
    patrol.batches.append(
        PatrolBatch(
            client_id=batch_client_id,
            fixes=len(table),
            data=packing.pack(table[:, 0], table[:, 1], times, table[:, 3]),
        )
    )
    rebuild(session, patrol, cleaning_rules(config))
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        # The same batch (or the first batch of the patrol) won a race in another request.
        session.rollback()
        raise Conflict(
            "batch_race", "该批次正在保存，请稍后重试", "The batch is being stored; retry"
        ) from None
    return patrol, True


def end_patrol(session: Session, user: User, patrol_client_id: str, config) -> Patrol:
    """End the user's patrol (again is the same); PatrolNotFound if he has no patrol of that id."""
    check_client_id(patrol_client_id)
    begin_write(session)
    patrol = own_patrol(session, user, patrol_client_id)
    if patrol is None:
        raise not_found()
    if patrol.status != "ended":
        patrol.status = "ended"
        rebuild(session, patrol, cleaning_rules(config))
        session.flush()
    return patrol


def progress(patrol: Patrol) -> dict:
    """What the phone shows after a batch: fixes stored and kept, km, time (the server's figures)."""
    return {
        "ok": True,
        "patrol_id": patrol.id,
        "status": patrol.status,
        "points": patrol.points,
        "kept": patrol.kept,
        "length_m": patrol.length_m,
        "duration_s": patrol.duration_s,
    }
