"""Due sources: the registry of things with a deadline that alerts are computed for (cases first).

A due source is a name and a function `query(rules, today) -> Select` giving one row per open thing
due by `today + blue days`, with the columns `source_id, due_on, title, group_id, village_id, town_id,
cell_code, always_red` (always_red: overdue means red at once, like a superior's case). A package
above the case layer adds its own with `register(DueSource("tuban", query, link))`, e.g. in its
`init_app`; `alerts` itself needs no edit. `link(source_id)` is the path of the thing's page.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Select, false, func, literal, select
from sqlalchemy.orm import aliased

from inspection.cases.models import Case
from inspection.grid.models import GridCell
from inspection.vocab import STATUS_GROUPS

COLUMNS = (
    "source_id",
    "due_on",
    "title",
    "group_id",
    "village_id",
    "town_id",
    "cell_code",
    "always_red",
)


@dataclass(frozen=True)
class DueSource:
    """A kind of thing with a deadline: its name, its query of due rows, the path of one's page."""

    kind: str
    query: Callable[[dict, date], Select]
    link: Callable[[int], str]


def due_select(source_id, due_on, title, cells: tuple, always_red) -> Select:
    """The COLUMNS of a due source's rows, its group, village and town ids joined for the cell code.

    `cells` are the thing's (group_id, village_id, town_id) columns; the caller adds its FROM and WHERE.
    """
    group, village, town = aliased(GridCell), aliased(GridCell), aliased(GridCell)
    group_id, village_id, town_id = cells
    return (
        select(
            source_id.label("source_id"),
            due_on.label("due_on"),
            title.label("title"),
            group_id.label("group_id"),
            village_id.label("village_id"),
            town_id.label("town_id"),
            func.coalesce(group.code, village.code, town.code, literal("")).label("cell_code"),
            always_red.label("always_red"),
        )
        .outerjoin(group, group.id == group_id)
        .outerjoin(village, village.id == village_id)
        .outerjoin(town, town.id == town_id)
    )


def case_query(rules: dict, today: date) -> Select:
    """Open cases with a deadline on or before today + the blue days (lon/lat not needed)."""
    red_sources = sorted(rules["red"].red_sources)
    always_red = Case.source.in_(red_sources) if red_sources else false()
    cells = (Case.group_id, Case.village_id, Case.town_id)
    return due_select(Case.id, Case.deadline_on, Case.title, cells, always_red).where(
        Case.deadline_on.is_not(None),
        Case.deadline_on <= today + timedelta(days=rules["blue"].days),
        Case.status.in_(sorted(STATUS_GROUPS["open"])),
    )


SOURCES: dict[str, DueSource] = {}


def register(source: DueSource) -> None:
    """Add (or replace) a due source; the next alert pass computes its alerts too."""
    SOURCES[source.kind] = source


def link(kind: str, source_id: int) -> str:
    """The path of a due thing's page ('' for a kind no longer registered)."""
    source = SOURCES.get(kind)
    return source.link(source_id) if source else ""


register(DueSource("case", case_query, lambda case_id: f"/cases/{case_id}"))


def _register_below() -> None:
    # The 图斑 and 回头看 packages sit below this one, so their tasks are registered here.
    from inspection.alerts.recheck_source import recheck_link, recheck_query
    from inspection.alerts.tuban_source import tuban_link, tuban_query

    register(DueSource("tuban", tuban_query, tuban_link))
    register(DueSource("recheck", recheck_query, recheck_link))


_register_below()
