"""Retention: patrols older than PATROL_RETENTION_DAYS (default 730, two years) are deleted whole.

A purge deletes the patrol with its batches, segments and case links; the cases themselves stay
(their source 巡查发现 stays too). The audit log keeps one line per purge with the count and the
cut-off day, never the tracks.
"""

from datetime import date, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from inspection import journal
from inspection.db import begin_write
from inspection.patrols.models import Patrol, PatrolBatch, PatrolCase, PatrolSegment


def cutoff_day(today: date, retention_days: int) -> date:
    """The first town day still kept: patrols on earlier days are purged."""
    return today - timedelta(days=int(retention_days))


def expired(session: Session, today: date, retention_days: int) -> int:
    """How many patrols a purge would delete today."""
    first_kept = cutoff_day(today, retention_days)
    return session.scalar(select(func.count(Patrol.id)).where(Patrol.day < first_kept)) or 0


def purge_patrols(session: Session, today: date, retention_days: int) -> int:
    """Delete every patrol whose day lies before the cut-off, with its rows; the caller commits."""
    begin_write(session)
    first_kept = cutoff_day(today, retention_days)
    old = select(Patrol.id).where(Patrol.day < first_kept)
    ids = list(session.scalars(old))
    if not ids:
        return 0
    client_ids = select(Patrol.client_id).where(Patrol.id.in_(ids))
    session.execute(delete(PatrolCase).where(PatrolCase.patrol_client_id.in_(client_ids)))
    session.execute(delete(PatrolSegment).where(PatrolSegment.patrol_id.in_(ids)))
    session.execute(delete(PatrolBatch).where(PatrolBatch.patrol_id.in_(ids)))
    session.execute(delete(Patrol).where(Patrol.id.in_(ids)))
    journal.log(
        session,
        "patrol.purge",
        username="system",
        details={
            "patrols": len(ids),
            "before": first_kept.isoformat(),
            "retention_days": retention_days,
        },
    )
    return len(ids)
