"""The 图斑 核查 tasks as a due source: a pending task past its deadline is red at once."""

from datetime import date, timedelta

from sqlalchemy import Select, func, literal, select, true
from sqlalchemy.orm import aliased

from inspection.grid.models import GridCell
from inspection.tuban.models import Tuban


def tuban_query(rules: dict, today: date) -> Select:
    """Pending 核查 tasks with a deadline on or before today + the blue days."""
    group, village, town = aliased(GridCell), aliased(GridCell), aliased(GridCell)
    return (
        select(
            Tuban.id.label("source_id"),
            Tuban.due_on.label("due_on"),
            (literal("图斑 ") + Tuban.number).label("title"),
            Tuban.group_id.label("group_id"),
            Tuban.village_id.label("village_id"),
            Tuban.town_id.label("town_id"),
            func.coalesce(group.code, village.code, town.code, literal("")).label("cell_code"),
            true().label("always_red"),
        )
        .outerjoin(group, group.id == Tuban.group_id)
        .outerjoin(village, village.id == Tuban.village_id)
        .outerjoin(town, town.id == Tuban.town_id)
        .where(
            Tuban.outcome == "task",
            Tuban.status == "pending",
            Tuban.due_on.is_not(None),
            Tuban.due_on <= today + timedelta(days=rules["blue"].days),
        )
    )


def tuban_link(tuban_id: int) -> str:
    """The path of a 图斑's page (its 举证 form for the 网格员)."""
    return f"/tuban/{tuban_id}"
