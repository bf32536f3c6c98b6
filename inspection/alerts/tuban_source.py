"""The 图斑 核查 tasks as a due source: a pending task past its deadline is red at once."""

from datetime import date, timedelta

from sqlalchemy import Select, literal, true

from inspection.alerts.sources import due_select
from inspection.tuban.models import Tuban


def tuban_query(rules: dict, today: date) -> Select:
    """Pending 核查 tasks with a deadline on or before today + the blue days."""
    title = literal("图斑 ") + Tuban.number
    cells = (Tuban.group_id, Tuban.village_id, Tuban.town_id)
    return due_select(Tuban.id, Tuban.due_on, title, cells, true()).where(
        Tuban.outcome == "task",
        Tuban.review != "accepted",  # not yet 销号
        Tuban.due_on.is_not(None),
        Tuban.due_on <= today + timedelta(days=rules["blue"].days),
    )


def tuban_link(tuban_id: int) -> str:
    """The path of a 图斑's page (its 举证 form for the 网格员)."""
    return f"/tuban/{tuban_id}"
