"""Counts of cases per village and status, for the start page."""

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from inspection.models import Case, GridCell
from inspection.vocab import STATUSES


def town_overview(session: Session) -> dict:
    """The town cell, and per village (plus 'outside the grid') the number of cases per status."""
    town = session.scalars(select(GridCell).where(GridCell.level == "town")).first()
    villages = session.scalars(
        select(GridCell).where(GridCell.level == "village").order_by(GridCell.code)
    ).all()
    rows = session.execute(
        select(Case.village_id, Case.status, func.count()).group_by(Case.village_id, Case.status)
    ).all()
    counts: dict = {}
    for village_id, status, n in rows:
        counts.setdefault(village_id, dict.fromkeys(STATUSES, 0))[status] = n
    empty = dict.fromkeys(STATUSES, 0)
    table = [
        {
            "village": v,
            "counts": counts.get(v.id, empty),
            "total": sum(counts.get(v.id, empty).values()),
        }
        for v in villages
    ]
    totals = {s: sum(r["counts"][s] for r in table) for s in STATUSES}
    outside = counts.get(None, empty)
    for s in STATUSES:
        totals[s] += outside[s]
    return {
        "town": town,
        "villages": table,
        "outside": outside,
        "outside_total": sum(outside.values()),
        "totals": totals,
        "total": sum(totals.values()),
    }
