"""Patrols on the village and group maps: the tracks the viewer may see, by recency, and the groups' coverage.

The period is `patrol_from` / `patrol_to` in the map's URL (town days, YYYY-MM-DD; default this
month to today). Tracks are those of `patrol_scope` (privacy), the newest MAX_TRACKS, simplified
for display by SIMPLIFY_DEG (≈ 1 m); the coverage shades the village's groups (or the group) by
stats.group_shares over every track of the period (a share of area, not a track).
"""

from datetime import date

import folium
import shapely
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from geodata.maps.tracks import add_coverage, add_track, recency_colour
from inspection import clock
from inspection.accounts.models import User
from inspection.errors import InvalidInput
from inspection.grid.cells import cell_frame
from inspection.patrols.access import patrol_scope
from inspection.patrols.models import Patrol, PatrolSegment
from inspection.patrols.stats import check_period, group_shares, period_patrols

MAX_TRACKS = 100
SIMPLIFY_DEG = 1e-5


def period_from(args, today: date) -> tuple[date, date]:
    """The period of ?patrol_from=&patrol_to= (default: the first of this month to today)."""
    try:
        start = date.fromisoformat(args.get("patrol_from") or today.replace(day=1).isoformat())
        end = date.fromisoformat(args.get("patrol_to") or today.isoformat())
    except ValueError as exc:
        raise InvalidInput(
            "bad_period",
            "巡查时段的日期格式应为 YYYY-MM-DD",
            "Patrol period dates must be YYYY-MM-DD",
        ) from exc
    check_period(start, end)
    return start, end


def add_patrol_layers(m: folium.Map, session: Session, user: User, cell, args) -> dict | None:
    """Add the tracks and coverage layers to a village's or a group's map; say the period (None elsewhere)."""
    if cell is None or cell.level not in ("village", "group"):
        return None
    radius_m = float(current_app.config["PATROL_COVERAGE_RADIUS_M"])
    today = clock.town_today()
    start, end = period_from(args, today)
    groups = list(cell.children) if cell.level == "village" else [cell]
    groups = [g for g in groups if g.level == "group"]
    patrols = period_patrols(session, start, end)
    shares = group_shares(session, groups, patrols, radius_m)
    if groups:
        frame = cell_frame(groups)
        frame["coverage"] = [shares[g.code] for g in groups]
        add_coverage(m, frame, name=_("Patrol coverage"), label=_("{name}: coverage {percent}"))
    visible = session.scalars(
        select(Patrol)
        .where(
            patrol_scope(user),
            Patrol.day >= start,
            Patrol.day <= end,
            Patrol.max_lon >= cell.min_lon,
            Patrol.min_lon <= cell.max_lon,
            Patrol.max_lat >= cell.min_lat,
            Patrol.min_lat <= cell.max_lat,
        )
        .order_by(Patrol.day.desc(), Patrol.id.desc())
        .limit(MAX_TRACKS)
    ).all()
    for patrol in reversed(visible):  # the newest drawn last, on top
        lines = [
            shapely.get_coordinates(shapely.simplify(geom, SIMPLIFY_DEG))
            for geom in session.scalars(
                select(PatrolSegment.geom).where(PatrolSegment.patrol_id == patrol.id)
            )
        ]
        tooltip = (
            f"{patrol.user.display_name} {patrol.day.isoformat()} {patrol.length_m / 1000:.2f} km"
        )
        add_track(
            m, lines, colour=recency_colour((today - patrol.day).days), weight=3, tooltip=tooltip
        )
    return {"from": start, "to": end, "tracks": len(visible), "coverage": shares}
