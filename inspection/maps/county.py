"""The county map: every town coloured by its overdue cases now, and where /map starts each user."""

from datetime import date

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from geodata import maps
from inspection import clock
from inspection.accounts.models import User
from inspection.cases.access import WIDE_ROLES, case_scope, sees_all, single_town, visible_towns
from inspection.cases.deadlines import overdue_condition
from inspection.cases.models import Case
from inspection.grid.cells import cell_frame
from inspection.grid.county import county_cell
from inspection.grid.models import GridCell
from inspection.map_context import MapContext


def is_county(session: Session) -> bool:
    """True when the grid holds more than one town.

    A one-town database upgraded by migration 0006 has a county cell above its town, yet nothing else
    changes for it: /map stays its town map.
    """
    return not single_town(session)


def county_viewer(user: User) -> bool:
    """True for the county's own staff and admins (a town's staff are not, even in a one-town grid)."""
    return user.role in WIDE_ROLES or any(cell.level == "county" for cell in user.cells)


def start_map(session: Session, user: User) -> tuple[str, str | None] | None:
    """Where /map sends a user who sees whole towns: ("county", None), ("town", code) or None (stay)."""
    if county_viewer(user) and is_county(session):
        return "county", None
    if county_viewer(user) or single_town(session):
        return None  # one town: the town map at /map, as it always was
    towns = visible_towns(session, user)
    return ("town", towns[0].code) if towns else None


def overdue_by_town(session: Session, user: User, today: date) -> dict[int, int]:
    """Per town id: the user's cases open and past their deadline on `today` (deadlines' rule)."""
    rows = session.execute(
        select(Case.town_id, func.count())
        .where(overdue_condition(today), case_scope(user), Case.town_id.is_not(None))
        .group_by(Case.town_id)
    )
    return {town_id: int(n) for town_id, n in rows}


def county_name(session: Session) -> str:
    """The county's name, or 县 (County) when the grid has no county cell."""
    county = county_cell(session)
    return county.name if county is not None else _("County")


def words() -> dict:
    """The county map's words in the UI language."""
    return {
        "count": _("Overdue cases"),
        "colon": _(": "),
        "open_town": _("Open the town's map"),
        "legend": _("Overdue cases now"),
        "layer": _("Towns"),
    }


def county_page(session: Session, user: User, ctx: MapContext, town_url: str) -> dict:
    """The county map page: every town the user sees, coloured by its overdue cases now."""
    today = ctx.today or clock.town_today()
    towns: list[GridCell] = visible_towns(session, user)
    by_id = overdue_by_town(session, user, today)
    counts = {town.code: by_id.get(town.id, 0) for town in towns}
    basemap, warning = ctx.basemap_or_none()
    frame = cell_frame(towns)
    bounds = tuple(frame.total_bounds) if len(frame) else None
    m = maps.new_map(bounds, basemap=basemap, text=ctx.text, static_url=ctx.static_url)
    classes = maps.add_choropleth(m, frame, counts, link=town_url, words=words())
    return {
        "parts": maps.map_parts(m, ctx.static_url),
        "name": county_name(session),
        "towns": [(town, counts[town.code]) for town in towns],
        "classes": [
            (maps.class_label(low, high), maps.CLASS_COLORS[i])
            for i, (low, high) in enumerate(classes)
        ],
        "total": sum(counts.values()),
        "today": today,
        "warning": warning,
    }


def can_open_county(user: User) -> bool:
    """True if the user may open the county map (the county, admins; like /towns)."""
    return sees_all(user)
