"""The 回头看 re-checks as a due source: blue before the due day, yellow when late, red a week late."""

from datetime import date, timedelta

from sqlalchemy import Select, false, literal

from inspection.alerts.sources import due_select
from inspection.cases.models import Case
from inspection.rechecks.models import Recheck


def recheck_query(rules: dict, today: date) -> Select:
    """Open re-checks due on or before today + the blue days, titled by their case."""
    title = literal("回头看：") + Case.title
    cells = (Recheck.group_id, Recheck.village_id, Recheck.town_id)
    return (
        due_select(Recheck.id, Recheck.due_on, title, cells, false())
        .join(Case, Case.id == Recheck.case_id)
        .where(
            Recheck.status == "open",
            Recheck.due_on <= today + timedelta(days=rules["blue"].days),
        )
    )


def recheck_link(recheck_id: int) -> str:
    """The path of a re-check's page (its form for the 网格员)."""
    return f"/rechecks/{recheck_id}"
