"""A year's 卫片图斑 figures for the year report: batches due that year, their checks and 违法 found."""

from datetime import date

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from geodata.area import m2_to_mu
from inspection.tuban.models import Tuban, TubanBatch


def year_tuban_figures(session: Session, year: int, town_ids=None) -> dict:
    """Batches whose deadline falls in `year` (in the towns `town_ids`, None: all): per batch and in total.

    Figures: 图斑, linked to cases, 核查 tasks, closed (销号), 违法 (count, geodesic m² and 亩) and late
    (tasks not closed after their deadline). One grouped query.
    """
    task = Tuban.outcome == "task"
    illegal = task & (Tuban.conclusion == "illegal") & (Tuban.review != "returned")
    query = (
        select(
            TubanBatch.name,
            TubanBatch.deadline_on,
            func.count(Tuban.id),
            func.sum(case((Tuban.outcome == "linked", 1), else_=0)),
            func.sum(case((task, 1), else_=0)),
            func.sum(case((task & (Tuban.review == "accepted"), 1), else_=0)),
            func.sum(case((illegal, 1), else_=0)),
            func.sum(case((illegal, Tuban.area_m2), else_=0.0)),
        )
        .join(Tuban, Tuban.batch_id == TubanBatch.id)
        .where(TubanBatch.deadline_on.between(date(year, 1, 1), date(year, 12, 31)))
        .group_by(TubanBatch.id, TubanBatch.name, TubanBatch.deadline_on)
        .order_by(TubanBatch.deadline_on, TubanBatch.name)
    )
    if town_ids is not None:
        query = query.where(Tuban.town_id.in_(sorted(town_ids)))
    batches = [
        {
            "name": name,
            "deadline_on": deadline_on.isoformat(),
            "polygons": int(polygons),
            "linked": int(linked or 0),
            "tasks": int(tasks or 0),
            "closed": int(closed or 0),
            "illegal": int(illegal_n or 0),
            "illegal_area_m2": float(area or 0.0),
            "illegal_area_mu": float(m2_to_mu(float(area or 0.0))),
        }
        for name, deadline_on, polygons, linked, tasks, closed, illegal_n, area in session.execute(
            query
        )
    ]
    keys = (
        "polygons",
        "linked",
        "tasks",
        "closed",
        "illegal",
        "illegal_area_m2",
        "illegal_area_mu",
    )
    totals = {k: sum(b[k] for b in batches) for k in keys}
    return {"batches": batches, **totals}
