"""Patrol figures for a period of town days: per 网格员 (patrols, days, km, hours, cases found) and coverage.

A patrol counts on its `day` (the town day it started). The coverage of a 组 for the period is
the share of its geodesic area within PATROL_COVERAGE_RADIUS_M metres of the kept tracks of the
period's patrols (geodata.coverage); a 村's or a 镇's is the area-weighted mean of its groups'
(the groups tile it), and a 网格员's that of the groups he answers for (his groups, or every group
of the village he heads). "Cases found" are the cases he reported with source `patrol` (巡查发现)
and found in the period, as the year figures count them.
"""

from collections import OrderedDict, defaultdict
from dataclasses import dataclass, field
from datetime import date

import numpy as np
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, selectinload

from geodata.area import geodesic_areas_m2
from geodata.coverage import group_coverage
from inspection.accounts.models import User
from inspection.cases.models import Case
from inspection.errors import InvalidInput
from inspection.grid.models import GridCell
from inspection.patrols import packing
from inspection.patrols.models import Patrol, PatrolSegment


@dataclass
class PeriodStats:
    """The figures of one period: users and groups as the command prints them, plus villages and towns."""

    date_from: date
    date_to: date
    users: list[dict] = field(default_factory=list)
    groups: list[dict] = field(default_factory=list)
    villages: list[dict] = field(default_factory=list)
    towns: list[dict] = field(default_factory=list)

    def as_json(self) -> dict:
        """The object `flask patrol-stats --json` prints."""
        user_keys = ("username", "patrols", "days", "length_m", "duration_s", "cases_found")
        return {
            "users": [{k: u[k] for k in user_keys} for u in self.users],
            "groups": [{k: g[k] for k in ("code", "name", "coverage")} for g in self.groups],
        }


def check_period(date_from: date, date_to: date) -> None:
    """Refuse a period that ends before it starts."""
    if date_to < date_from:
        raise InvalidInput(
            "period_reversed",
            f"结束日期 {date_to} 早于开始日期 {date_from}",
            f"The period ends ({date_to}) before it starts ({date_from})",
        )


def period_patrols(session: Session, date_from: date, date_to: date, user_ids=None) -> list[Patrol]:
    """The patrols whose town day lies in [date_from, date_to], optionally of some users only."""
    query = select(Patrol).where(Patrol.day >= date_from, Patrol.day <= date_to)
    if user_ids is not None:
        query = query.where(Patrol.user_id.in_(sorted(user_ids)))
    return list(session.scalars(query.order_by(Patrol.id)))


def period_stats(
    session: Session,
    date_from: date,
    date_to: date,
    *,
    radius_m: float = 30.0,
    towns: list[GridCell] | None = None,
    with_users: bool = True,
    groups: list[GridCell] | None = None,
) -> PeriodStats:
    """Every 网格员's figures and every group's coverage (0–1) for the period (town days, inclusive).

    `towns` limits the groups, villages and users to those towns (default: the whole grid);
    `with_users=False` leaves the 网格员 rows out (the year report's months need only coverage);
    `groups` are those towns' group cells (`town_groups`) when the caller asks for many periods.
    """
    check_period(date_from, date_to)
    stats = PeriodStats(date_from, date_to)
    patrols = period_patrols(session, date_from, date_to)
    groups = town_groups(session, towns) if groups is None else groups
    coverage = group_shares(session, groups, patrols, radius_m)
    areas = dict(zip([g.id for g in groups], _areas_m2(groups), strict=True))
    stats.groups = [
        {"code": g.code, "name": g.name, "coverage": coverage[g.code], "id": g.id}
        for g in sorted(groups, key=lambda g: g.code)
    ]
    by_parent = defaultdict(list)
    for g in groups:
        by_parent[g.parent_id].append(g)
    villages = sorted({g.parent for g in groups if g.parent is not None}, key=lambda c: c.code)
    stats.villages = [
        {"code": v.code, "name": v.name, "id": v.id,
         "coverage": _weighted(by_parent[v.id], coverage, areas)}
        for v in villages
    ]  # fmt: skip
    town_cells = sorted({v.parent for v in villages if v.parent is not None}, key=lambda c: c.code)
    stats.towns = [
        {"code": t.code, "name": t.name, "id": t.id,
         "coverage": _weighted([g for g in groups if g.parent and g.parent.parent_id == t.id],
                               coverage, areas)}
        for t in town_cells
    ]  # fmt: skip
    if with_users:
        stats.users = _user_rows(session, patrols, date_from, date_to, groups, coverage, areas, towns)
    return stats


# Coverage answers by what they were computed from (the patrols as they stand, the groups, the
# radius): a past month asked again (the year report asks for twelve) costs nothing. Per process.
_CACHE: OrderedDict = OrderedDict()
CACHE_SIZE = 256


def group_shares(session: Session, groups: list[GridCell], patrols: list[Patrol], radius_m: float):
    """Coverage (0–1) by group code of the kept tracks of `patrols` (lon/lat EPSG:4326, metres)."""
    shares = dict.fromkeys((g.code for g in groups), 0.0)
    inside = [p.id for p in patrols if p.kept_inside > 0]  # a track outside the grid covers nothing
    if not groups or not inside:
        return shares
    key = (
        str(session.get_bind().url),
        float(radius_m),
        tuple(sorted((p.id, p.updated_at, p.kept) for p in patrols if p.kept_inside > 0)),
        tuple(sorted((g.id, g.code, g.min_lon, g.min_lat, g.max_lon, g.max_lat) for g in groups)),
    )
    if key in _CACHE:
        _CACHE.move_to_end(key)
        return dict(_CACHE[key])
    shares = _compute_shares(session, groups, inside, radius_m, shares)
    _CACHE[key] = dict(shares)
    while len(_CACHE) > CACHE_SIZE:
        _CACHE.popitem(last=False)
    return shares


def _compute_shares(
    session: Session, groups: list[GridCell], inside: list[int], radius_m: float, shares: dict
):
    """Compute the coverage of the groups by the kept tracks of the patrols `inside`, town by town."""
    by_town = defaultdict(list)
    for g in groups:
        town = g.parent.parent_id if g.parent is not None else None
        by_town[town].append(g)
    for town_groups in by_town.values():  # one raster per town keeps its cells small
        west = min(g.min_lon for g in town_groups)
        south = min(g.min_lat for g in town_groups)
        east = max(g.max_lon for g in town_groups)
        north = max(g.max_lat for g in town_groups)
        lon, lat, segment = _kept_fixes(session, inside, (west, south, east, north), radius_m)
        if not len(lon):
            continue
        shares.update(
            group_coverage(
                [g.code for g in town_groups],
                [g.boundary for g in town_groups],
                lon,
                lat,
                segment,
                radius_m=radius_m,
            )
        )
    return shares


def _kept_fixes(session: Session, patrol_ids: list[int], box, radius_m: float):
    """Kept fixes (lon/lat degrees) and segment numbers of the patrols' segments that reach the box."""
    margin_deg = radius_m / 100_000 * 2  # ≥ radius_m in degrees at any latitude below 60°
    west, south, east, north = box
    rows = session.scalars(
        select(PatrolSegment.data).where(
            PatrolSegment.patrol_id.in_(patrol_ids),
            PatrolSegment.max_lon >= west - margin_deg,
            PatrolSegment.min_lon <= east + margin_deg,
            PatrolSegment.max_lat >= south - margin_deg,
            PatrolSegment.min_lat <= north + margin_deg,
        )
    ).all()
    parts = [packing.unpack(data) for data in rows]
    if not parts:
        return np.empty(0), np.empty(0), np.empty(0, np.int64)
    lon = np.concatenate([p.lon_deg for p in parts])
    lat = np.concatenate([p.lat_deg for p in parts])
    segment = np.repeat(np.arange(len(parts)), [len(p) for p in parts])
    return lon, lat, segment


def town_groups(session: Session, towns: list[GridCell] | None) -> list[GridCell]:
    """The group cells of the grid, or of some towns (with their villages loaded)."""
    groups = session.scalars(
        select(GridCell).where(GridCell.level == "group").options(selectinload(GridCell.parent))
    ).all()
    if towns is None:
        return list(groups)
    ids = {t.id for t in towns}
    return [g for g in groups if g.parent is not None and g.parent.parent_id in ids]


def _areas_m2(cells: list[GridCell]) -> list[float]:
    """Each cell's geodesic area in m² (stored, or measured on GRS80 when not stored)."""
    missing = [c for c in cells if c.area_m2 is None]
    measured = dict(
        zip([c.id for c in missing], geodesic_areas_m2([c.boundary for c in missing]), strict=True)
    )
    return [c.area_m2 if c.area_m2 is not None else float(measured[c.id]) for c in cells]


def _weighted(cells: list[GridCell], coverage: dict, areas: dict) -> float:
    """The area-weighted mean coverage of some groups (0 for none)."""
    total = sum(areas[c.id] for c in cells)
    if not cells or total <= 0:
        return 0.0
    return sum(coverage[c.code] * areas[c.id] for c in cells) / total


def answered_groups(user: User, groups: list[GridCell]) -> list[GridCell]:
    """The groups a 网格员 answers for: his group cells, and every group of a village he heads."""
    return _answering(groups)(user)


def _answering(groups: list[GridCell]):
    """A function of a user giving answered_groups over `groups`, indexed once for many users."""
    position = {g.id: i for i, g in enumerate(groups)}
    by_parent = defaultdict(list)
    for i, g in enumerate(groups):
        by_parent[g.parent_id].append(i)

    def answered(user: User) -> list[GridCell]:
        mine = {c.id for c in user.cells}
        found = {position[i] for i in mine if i in position}
        found.update(j for i in mine for j in by_parent.get(i, ()))
        return [groups[i] for i in sorted(found)]

    return answered


def _user_rows(session, patrols, date_from, date_to, groups, coverage, areas, towns) -> list[dict]:
    """One row per 网格员 (and anyone else who patrolled), by login name."""
    by_user = defaultdict(list)
    for p in patrols:
        by_user[p.user_id].append(p)
    found = dict(
        session.execute(
            select(Case.reporter_id, func.count(Case.id))
            .where(Case.source == "patrol", Case.found_on >= date_from, Case.found_on <= date_to)
            .group_by(Case.reporter_id)
        ).all()
    )
    people = session.scalars(
        select(User)
        .where(or_(and_(User.role == "grid_member", User.active), User.id.in_(list(by_user))))
        .options(selectinload(User.cells))  # one query, not one per person and period
    ).all()
    town_ids = None if towns is None else {t.id for t in towns}
    rows = []
    answered = _answering(groups)
    for user in sorted(people, key=lambda u: u.username):
        own = answered(user)
        mine = by_user.get(user.id, [])
        if town_ids is not None:
            mine = [p for p in mine if p.town_id in town_ids]
            if not own and not mine:
                continue
        durations = [p.duration_s for p in mine if p.duration_s is not None]
        rows.append(
            {
                "username": user.username,
                "name": user.display_name,
                "id": user.id,
                "patrols": len(mine),
                "days": len({p.day for p in mine}),
                "length_m": float(sum(p.length_m for p in mine)),
                "duration_s": float(sum(durations)),
                "cases_found": int(found.get(user.id, 0)),
                "coverage": _weighted(own, coverage, areas) if own else None,
                "groups": [g.code for g in own],
                "village": own[0].parent.name if own and own[0].parent else None,
                "village_code": own[0].parent.code if own and own[0].parent else None,
            }
        )
    return rows
