"""Counts of cases per village and status, for the start page, within what the viewer may see."""

from sqlalchemy import func, select, true
from sqlalchemy.orm import Session

from inspection.accounts.models import User
from inspection.cases.access import case_scope
from inspection.cases.models import Case
from inspection.grid.models import GridCell
from inspection.vocab import STATUSES


def _visible_village_ids(user: User) -> set[int]:
    """The villages a grid-bound user works in: his village cells and the villages of his groups."""
    ids = set()
    for cell in user.cells:
        if cell.level == "village":
            ids.add(cell.id)
        elif cell.level == "group" and cell.parent_id is not None:
            ids.add(cell.parent_id)
    return ids


def town_overview(session: Session, user: User | None = None, *, whole_town: bool = True) -> dict:
    """The town cell, and per village (plus 'outside the grid') the number of cases per status.

    With whole_town False only the user's villages are listed, and only the cases he may see are
    counted (a 网格员 his groups', a village head his village's), as on every other page.
    """
    town = session.scalars(select(GridCell).where(GridCell.level == "town")).first()
    villages_query = select(GridCell).where(GridCell.level == "village").order_by(GridCell.code)
    scope = true()
    if not whole_town:
        villages_query = villages_query.where(GridCell.id.in_(_visible_village_ids(user)))
        scope = case_scope(user)
    villages = session.scalars(villages_query).all()
    rows = session.execute(
        select(Case.village_id, Case.status, func.count())
        .where(scope)
        .group_by(Case.village_id, Case.status)
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
        "whole_town": whole_town,
        "villages": table,
        "outside": outside,
        "outside_total": sum(outside.values()),
        "totals": totals,
        "total": sum(totals.values()),
    }
