"""Move a case: correct its place, place it again in the grid, and say so in the audit log.

A wrongly placed open case is moved, not voided and reported again, so its history and photos
stay with it. Supervisors move cases within their town; a move into another town is a transfer,
which only the county and admins make. The audit trail records the new geometry, area and cells
of the flush; one more entry, `case.move`, names the cells before and after and the reason.
"""

from sqlalchemy.orm import Session

from geodata.area import geodesic_area_m2
from inspection import journal
from inspection.accounts.models import User
from inspection.cases.access import can_see, town_ids
from inspection.cases.models import Case
from inspection.cases.records import GEOMETRY_TYPES, default_responsible, save_case, stale_case
from inspection.db import begin_write
from inspection.errors import InvalidInput, NotAllowed
from inspection.grid.models import GridCell
from inspection.grid.placement import place
from inspection.vocab import STATUS_GROUPS

MOVE_ROLES = frozenset({"supervisor", "county", "admin"})
REASON_MAX = 500


def may_move(user: User | None, case: Case) -> bool:
    """True if the user may move the case: a supervisor, the county or an admin who sees it, while it is open."""
    return (
        user is not None
        and user.is_active
        and user.role in MOVE_ROLES
        and case.status in STATUS_GROUPS["open"]
        and can_see(user, case)
    )


def _code(session: Session, cell_id: int | None) -> str | None:
    cell = session.get(GridCell, cell_id) if cell_id is not None else None
    return cell.code if cell is not None else None


def _cells(session: Session, case: Case) -> dict:
    return {
        "town": _code(session, case.town_id),
        "village": _code(session, case.village_id),
        "group": _code(session, case.group_id),
    }


def _new_area_m2(case: Case, geom) -> float | None:
    """The area of the moved case (m²): a polygon is measured on GRS80, a point keeps the stated one."""
    if geom.geom_type != "Point":
        return geodesic_area_m2(geom)
    return case.area_m2 if case.kind == "illegal_building" else None


def _check_target(session: Session, user: User, case: Case, placement) -> None:
    if placement.outside:
        raise InvalidInput(
            "outside_grid",
            "新位置不在任何网格（组）内，请检查位置",
            "The new location lies outside every grid group",
        )
    if placement.town_id == case.town_id:
        return
    towns = town_ids(user)
    if towns is not None and placement.town_id not in towns:
        town = session.get(GridCell, placement.town_id)
        name = town.name if town is not None else "?"
        raise NotAllowed(
            "move_other_town",
            f"新位置位于{name}，不在本镇范围内；跨镇移交请由县级用户或管理员办理",
            f"The new location lies in {name}, outside your town; "
            "a transfer to another town is made by the county or an admin",
        )


def move_case(
    session: Session, case: Case, user: User, geom, *, reason: str, expected_version
) -> Case:
    """Give an open case a new geometry (lon/lat, EPSG:4326) and its cells; audited. The caller commits.

    The area is measured again (m², geodesic on GRS80) for a polygon. A case whose 组 changes gets
    the new group's 网格员 as responsible unless its responsible person is tied to the new group
    (or the new group has none).
    """
    begin_write(session)
    if not may_move(user, case):
        raise NotAllowed(
            "not_movable",
            "只有镇领导、县级用户和管理员可以更正未办结案件的位置",
            "Only supervisors, the county and admins may move a case, and only while it is open",
        )
    if str(expected_version or "").strip() != str(case.version):
        raise stale_case()
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(
            "reason_required", "请填写更正位置的原因", "Give the reason for the move"
        )
    if len(reason) > REASON_MAX:
        raise InvalidInput(
            "reason_too_long",
            f"原因最多 {REASON_MAX} 字",
            f"The reason may hold at most {REASON_MAX} characters",
        )
    if geom.geom_type not in GEOMETRY_TYPES[case.kind]:
        raise InvalidInput(
            "bad_geometry_type",
            "复耕地块必须是面（多边形）" if case.kind == "farmland" else "位置必须是点或面",
            "A farmland parcel must be a polygon"
            if case.kind == "farmland"
            else "The location must be a point or a polygon",
        )
    placement = place(session, geom)
    _check_target(session, user, case, placement)
    before = _cells(session, case)
    case.set_geometry(geom, _new_area_m2(case, geom))
    old_group = case.group_id
    case.town_id, case.village_id, case.group_id = (
        placement.town_id,
        placement.village_id,
        placement.group_id,
    )
    if case.group_id != old_group:
        responsible = case.responsible
        if responsible is None or all(c.id != case.group_id for c in responsible.cells):
            case.responsible = default_responsible(session, case.group_id) or responsible
    journal.log(
        session,
        "case.move",
        user=user,
        target=f"case:{case.id}",
        details={"from": before, "to": _cells(session, case), "reason": reason},
    )
    save_case(session)
    return case
