"""Possible duplicates of a report: cases of the same kind on the same ground, open or closed lately.

"The same ground" is geodata.nearby.same_ground: within 50 m (geodesic) when either is a point,
sharing area when both are polygons. Cases closed (done, verified) within a year count too; void
ones never. Only cases the reporter may see are named.
"""

import math
from datetime import date, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from geodata.nearby import distance_to_m, same_ground
from inspection.accounts.models import User
from inspection.cases.access import case_scope
from inspection.cases.history import OPEN_STATUSES
from inspection.cases.models import Case

RADIUS_M = 50.0
RECENT_DAYS = 365
MAX_SHOWN = 5
_M_PER_DEG_LAT = 111_320.0


def similar_cases(session: Session, user: User, kind: str, geom, today: date) -> list[Case]:
    """Cases of `kind` on the same ground as `geom` (lon/lat EPSG:4326), nearest first, at most 5."""
    west, south, east, north = geom.bounds
    margin_lat = RADIUS_M / _M_PER_DEG_LAT
    margin_lon = margin_lat / max(math.cos(math.radians((south + north) / 2)), 0.01)
    since = today - timedelta(days=RECENT_DAYS)
    closed_on = func.coalesce(Case.verified_on, Case.done_on)
    candidates = session.scalars(
        select(Case)
        .where(
            Case.kind == kind,
            or_(
                Case.status.in_(sorted(OPEN_STATUSES)),
                and_(Case.status.in_(("done", "verified")), closed_on >= since),
            ),
            Case.max_lon >= west - margin_lon,
            Case.min_lon <= east + margin_lon,
            Case.max_lat >= south - margin_lat,
            Case.min_lat <= north + margin_lat,
            case_scope(user),
        )
        .order_by(Case.id)
        .limit(200)
    ).all()
    same = [
        c
        for c, yes in zip(
            candidates,
            same_ground(geom, [c.geom for c in candidates], radius_m=RADIUS_M),
            strict=True,
        )
        if yes
    ]
    point = geom.representative_point()
    same.sort(key=lambda c: (distance_to_m(point.x, point.y, c.geom), c.id))
    return same[:MAX_SHOWN]
