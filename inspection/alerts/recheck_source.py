"""The 回头看 re-checks as a due source: blue before the due day, yellow when late, red a week late."""

from datetime import date, timedelta

from sqlalchemy import Select, false, func, literal, select
from sqlalchemy.orm import aliased

from inspection.cases.models import Case
from inspection.grid.models import GridCell
from inspection.rechecks.models import Recheck


def recheck_query(rules: dict, today: date) -> Select:
    """Open re-checks due on or before today + the blue days."""
    group, village, town = aliased(GridCell), aliased(GridCell), aliased(GridCell)
    return (
        select(
            Recheck.id.label("source_id"),
            Recheck.due_on.label("due_on"),
            (literal("回头看：") + Case.title).label("title"),
            Recheck.group_id.label("group_id"),
            Recheck.village_id.label("village_id"),
            Recheck.town_id.label("town_id"),
            func.coalesce(group.code, village.code, town.code, literal("")).label("cell_code"),
            false().label("always_red"),
        )
        .join(Case, Case.id == Recheck.case_id)
        .outerjoin(group, group.id == Recheck.group_id)
        .outerjoin(village, village.id == Recheck.village_id)
        .outerjoin(town, town.id == Recheck.town_id)
        .where(
            Recheck.status == "open",
            Recheck.due_on <= today + timedelta(days=rules["blue"].days),
        )
    )


def recheck_link(recheck_id: int) -> str:
    """The path of a re-check's page (its form for the 网格员)."""
    return f"/rechecks/{recheck_id}"
