"""The workflow on SQLite and PostGIS: who may do what, officers, evidence, areas, races."""

import itertools
from datetime import date

import pytest
import shapely
from sqlalchemy import select
from sqlalchemy.orm import Session

from inspection.accounts.models import User
from inspection.cases import workflow
from inspection.cases.history import record_change
from inspection.cases.models import Case, Photo, StatusChange
from inspection.errors import Conflict, DomainError, InvalidInput, NotAllowed
from inspection.grid.models import GridCell
from inspection.vocab import STATUSES

TODAY = date(2022, 5, 10)
FOOTPRINT_M2 = 120.0  # an illegal building's footprint, as if measured when it was reported
GROUP_A1_M2 = 10695.69  # a 0.001° square at 30° N on GRS80 (PostGIS ST_Area on geography agrees)
PATH = ("reported", "assigned", "in_progress", "done", "verified")
_photo_numbers = itertools.count(1)


# --- canned data ------------------------------------------------------------------------------


def create_canned_grid(session: Session) -> dict[str, GridCell]:
    """A town with village A (groups A1, A2) and village B (group B1); 0.001° squares per group."""
    town = GridCell(level="town", code="T", name="平岗镇")
    a = GridCell(level="village", code="T01", name="平岗村", parent=town)
    b = GridCell(level="village", code="T02", name="河口村", parent=town)
    a1 = GridCell(level="group", code="T01-01", name="一组", parent=a)
    a2 = GridCell(level="group", code="T01-02", name="二组", parent=a)
    b1 = GridCell(level="group", code="T02-01", name="一组", parent=b)
    boxes = {
        town: (113.000, 113.004),
        a: (113.000, 113.002),
        b: (113.002, 113.004),
        a1: (113.000, 113.001),
        a2: (113.001, 113.002),
        b1: (113.002, 113.003),
    }
    for cell, (west, east) in boxes.items():
        cell.set_boundary(shapely.box(west, 30.000, east, 30.001))
    session.add(town)
    session.flush()
    return {"town": town, "A": a, "B": b, "A1": a1, "A2": a2, "B1": b1}


def _user(username: str, name: str, role: str, cells=(), **fields) -> User:
    # A fixed hash: real hashing costs ~0.1 s a user and no test here logs in.
    return User(
        username=username,
        display_name=name,
        role=role,
        password_hash="-",
        cells=list(cells),
        **fields,
    )


def create_canned_users(session: Session, grid: dict[str, GridCell]) -> dict[str, User]:
    """One user per persona; "responsible" is A1's first grid member, so the default 责任人."""
    valid_to = date(2030, 12, 31)
    users = {
        "responsible": _user("wgy1", "王网格", "grid_member", [grid["A1"]]),
        "member_same_group": _user("wgy1b", "王二", "grid_member", [grid["A1"]]),
        "member_other_group": _user("wgy2", "李网格", "grid_member", [grid["A2"]]),
        "head": _user("cz", "陈书记", "grid_member", [grid["A"]]),
        "head_other": _user("hk", "何主任", "grid_member", [grid["B"]]),
        "officer": _user(
            "zf1", "赵执法", "officer", cert_number="42060022001", cert_expires_on=valid_to
        ),
        "officer2": _user(
            "zf2", "钱执法", "officer", cert_number="42060022002", cert_expires_on=valid_to
        ),
        "officer_expired": _user(
            "zf3", "孙执法", "officer", cert_number="42060022003", cert_expires_on=date(2022, 4, 30)
        ),
        "officer_no_cert": _user("zf4", "周执法", "officer"),
        "supervisor": _user("zz", "张镇长", "supervisor"),
        "admin": _user("admin", "管理员", "admin"),
    }
    for user in users.values():  # one by one, so ids follow this order
        session.add(user)
        session.flush()
    return users


def create_canned_case(
    session: Session,
    grid: dict[str, GridCell],
    users: dict[str, User],
    *,
    kind: str = "issue",
    status: str = "reported",
    group: str = "A1",
    **fields,
) -> Case:
    """A case in a group, moved to a status by bare history rows (no workflow checks)."""
    west = grid[group].boundary.bounds[0]
    if kind == "farmland":
        geom, area_m2 = shapely.box(west + 0.0002, 30.0002, west + 0.0008, 30.0008), 3850.45
    elif kind == "illegal_building":
        geom, area_m2 = shapely.box(west + 0.0002, 30.0002, west + 0.0003, 30.0003), FOOTPRINT_M2
    else:
        geom, area_m2 = shapely.Point(west + 0.0005, 30.0005), None
    fields.setdefault("category", "garbage" if kind == "issue" else None)
    case = Case(kind=kind, title=f"{kind} 测试", found_on=date(2022, 5, 1), **fields)
    case.set_geometry(geom, area_m2)
    case.group_id, case.village_id = grid[group].id, grid[group].parent_id
    case.town_id = grid["town"].id
    session.add(case)
    steps = ("reported", "void") if status == "void" else PATH[: PATH.index(status) + 1]
    for day, step in enumerate(steps, start=1):
        record_change(session, case, step, None, on=date(2022, 5, day))
    case.responsible = users["responsible"] if group == "A1" else None  # as create_case sets it
    if status not in ("reported", "void"):
        case.deadline_on = case.deadline_on or date(2022, 5, 31)
    session.flush()
    return case


def create_canned_photo(session: Session, case: Case, stage: str = "after") -> Photo:
    """A photo row of a case (the file itself is the photo module's business)."""
    number = next(_photo_numbers)
    photo = Photo(
        case=case, stage=stage, sha256=f"{number:064x}", width=800, height=600, size_bytes=9000
    )
    session.add(photo)
    session.flush()
    return photo


@pytest.fixture
def town(session):
    """The canned grid and users, committed."""
    grid = create_canned_grid(session)
    users = create_canned_users(session, grid)
    session.commit()
    return grid, users


def steps_of(session: Session, case: Case) -> list[tuple]:
    """The history of a case as (from, to, actor username, note) tuples, read back from the DB."""
    session.expire_all()
    rows = session.scalars(
        select(StatusChange).where(StatusChange.case_id == case.id).order_by(StatusChange.id)
    )
    return [
        (r.from_status, r.to_status, r.actor.username if r.actor else None, r.note) for r in rows
    ]


# --- who may do what ---------------------------------------------------------------------------

ALL_ACTIONS = {"assign", "void", "start", "complete", "verify", "send_back"}
# Written by hand from the brief, independent of the table in inspection/permissions.py.
HAND_RIGHTS = {
    "responsible": {"start", "complete"},
    "member_same_group": set(),
    "member_other_group": set(),  # cannot see the case at all
    "head": {"assign", "void", "start", "complete"},
    "head_other": set(),  # cannot see the case at all
    "officer": {"start", "complete"},
    "supervisor": ALL_ACTIONS,
    "admin": ALL_ACTIONS,
}
HAND_MOVES = {
    "reported": {"assign": "assigned", "void": "void"},
    "assigned": {"start": "in_progress", "complete": "done"},
    "in_progress": {"complete": "done"},
    "done": {"verify": "verified", "send_back": "in_progress"},
    "verified": {},
    "void": {},
}
# How each persona stands to the case, in the table's words (None: cannot see it).
PERSONA_WHO = {
    "responsible": {"responsible"},
    "member_same_group": set(),
    "member_other_group": None,
    "head": {"village_head"},
    "head_other": None,
    "officer": {"officer"},
    "supervisor": {"supervisor"},
    "admin": {"admin"},
}


def valid_inputs(session: Session, case: Case, users: dict[str, User]) -> dict[str, dict]:
    """Inputs that satisfy every rule of each action, so only rights and status can refuse."""
    officers = [users["officer"].id, users["officer2"].id]
    photo = create_canned_photo(session, case)
    session.commit()
    return {
        "assign": {},
        "void": {"note": "现场核实无此问题"},
        "start": {"officers": officers},
        "complete": {"note": "已清理完毕", "after_photo_ids": [photo.id], "officers": officers},
        "verify": {"note": "复核通过"},
        "send_back": {"reason": "仍有残留"},
    }


def attempt(session, case, user, key: str, inputs: dict) -> str:
    """Try one action and undo it: "ok", "no_right" (NotAllowed) or "wrong_status" (Conflict)."""
    try:
        workflow.perform(session, case, user, key, today=TODAY, **inputs)
        outcome = f"ok:{case.status}"
    except NotAllowed:
        outcome = "no_right"
    except Conflict:
        outcome = "wrong_status"
    session.rollback()
    return outcome


@pytest.mark.parametrize("kind", ["issue", "illegal_building", "farmland"])
@pytest.mark.parametrize("status", STATUSES)
def test_every_persona_may_take_exactly_the_expected_actions(session, town, kind, status):
    grid, users = town
    case = create_canned_case(session, grid, users, kind=kind, status=status)
    inputs = valid_inputs(session, case, users)
    expected, observed, offered, from_table = {}, {}, {}, {}

    for persona, user in users.items():
        if persona not in HAND_RIGHTS:
            continue
        may = HAND_RIGHTS[persona]
        expected[persona] = {
            key: f"ok:{HAND_MOVES[status][key]}"
            if key in may and key in HAND_MOVES[status]
            else ("wrong_status" if key in may else "no_right")
            for key in ALL_ACTIONS
        }
        observed[persona] = {
            key: attempt(session, case, user, key, inputs[key]) for key in ALL_ACTIONS
        }
        offered[persona] = {a.key for a in workflow.allowed_actions(case, user, TODAY)}
        names = PERSONA_WHO[persona] or set()
        from_table[persona] = {
            rule.key
            for (f, _), rule in workflow.TRANSITIONS.items()
            if f == status and names & rule.who
        }

    assert observed == expected
    allowed = {p: {k for k, v in e.items() if v.startswith("ok")} for p, e in expected.items()}
    assert offered == allowed
    assert from_table == allowed


def test_the_same_action_has_the_same_rights_from_every_status():
    by_key = {}
    for rule in workflow.TRANSITIONS.values():
        by_key.setdefault(rule.key, set()).add(rule.who)

    assert all(len(sets) == 1 for sets in by_key.values())
    assert set(by_key) == ALL_ACTIONS


def test_actions_carry_labels_and_inputs_by_kind(session, town):
    grid, users = town
    building = create_canned_case(session, grid, users, kind="illegal_building", status="assigned")
    farmland = create_canned_case(session, grid, users, kind="farmland", status="done")

    start, done = workflow.allowed_actions(building, users["officer"], TODAY)
    (accept, back) = workflow.allowed_actions(farmland, users["supervisor"], TODAY)

    assert (start.label_zh, start.label("en"), start.to_status) == (
        "开始拆除",
        "Start demolition",
        "in_progress",
    )
    assert start.required == ("officers",) and not start.blocked_zh
    assert done.label_zh == "拆除完成"
    assert set(done.needs) >= {"photos", "officers", "demolished_area", "area_reason"}
    assert (accept.label_zh, "geometry" in accept.needs) == ("验收", True)
    assert (back.label_zh, back.required) == ("退回", ("reason",))


def test_demolition_buttons_are_blocked_without_two_certified_officers(session, town):
    grid, users = town
    users["officer2"].cert_expires_on = date(2022, 1, 1)
    building = create_canned_case(session, grid, users, kind="illegal_building", status="assigned")

    actions = workflow.allowed_actions(building, users["supervisor"], TODAY)

    assert [a.blocked_zh for a in actions] == ["持有效执法证的执法队员不足两名"] * 2


def test_an_invisible_case_is_refused_before_anything_else(session, town):
    grid, users = town
    case = create_canned_case(session, grid, users, status="done")

    with pytest.raises(NotAllowed) as refused:
        workflow.verify(session, case, users["head_other"], expected_version=999)

    assert refused.value.code == "not_visible"


# --- two certified officers ----------------------------------------------------------------


@pytest.mark.parametrize(
    "officers, code, message",
    [
        (["officer"], "too_few_officers", "现只有1名"),
        ([], "too_few_officers", "现只有0名"),
        (["officer", "officer"], "duplicate_officer", "赵执法填写了两次"),
        (["officer", "officer_expired"], "certificate_expired", "孙执法的执法证已于2022-04-30过期"),
        (["officer_no_cert", "officer"], "no_certificate", "周执法没有执法证"),
        (["officer", "supervisor"], "not_officer", "张镇长不是在岗执法队员"),
        (["officer", 999999], "unknown_officer", "执法人员不存在"),
    ],
    ids=["one", "none", "duplicate", "expired", "no-certificate", "not-an-officer", "unknown"],
)
@pytest.mark.parametrize("status", ["assigned", "in_progress"])
def test_demolition_refuses_without_two_certified_officers(
    session, town, status, officers, code, message
):
    grid, users = town
    case = create_canned_case(session, grid, users, kind="illegal_building", status=status)
    photo = create_canned_photo(session, case)
    ids = [users[o].id if isinstance(o, str) else o for o in officers]
    session.commit()

    with pytest.raises(InvalidInput) as refused:
        if status == "assigned":
            workflow.start(session, case, users["officer"], officers=ids, today=TODAY)
        else:
            workflow.complete(
                session, case, users["officer"], note="已拆", after_photo_ids=[photo.id],
                officers=ids, today=TODAY,
            )  # fmt: skip

    assert refused.value.code == code
    assert message in refused.value.message_zh
    session.rollback()
    assert session.get(Case, case.id).status == status


def test_demolition_records_both_officers_and_their_certificates(session, town):
    grid, users = town
    case = create_canned_case(session, grid, users, kind="illegal_building", status="assigned")
    officers = [users["officer"], users["officer_expired"]]

    change = workflow.start(  # a certificate is valid on the day it expires
        session, case, users["officer"], officers=[o.id for o in officers], today=date(2022, 4, 30)
    )
    session.commit()

    assert case.status == "in_progress"
    assert change.details["officers"] == [
        {"id": o.id, "name": o.display_name, "cert_number": o.cert_number,
         "cert_expires_on": o.cert_expires_on.isoformat()}
        for o in officers
    ]  # fmt: skip


def test_issues_need_no_officers(session, town):
    grid, users = town
    case = create_canned_case(session, grid, users, status="assigned")

    change = workflow.start(session, case, users["responsible"], today=TODAY)

    assert case.status == "in_progress" and change.details is None


# --- evidence -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "photos, note, code",
    [
        ("none", "已清理", "photos_required"),
        ("before", "已清理", "bad_photos"),
        ("other_case", "已清理", "bad_photos"),
        ("after", "  ", "note_required"),
    ],
)
def test_done_needs_a_note_and_an_after_photo_of_the_case(session, town, photos, note, code):
    grid, users = town
    case = create_canned_case(session, grid, users, status="in_progress")
    other = create_canned_case(session, grid, users, status="in_progress")
    ids = {
        "none": [],
        "before": [create_canned_photo(session, case, "before").id],
        "other_case": [create_canned_photo(session, other).id],
        "after": [create_canned_photo(session, case).id],
    }[photos]

    with pytest.raises(InvalidInput) as refused:
        workflow.complete(session, case, users["responsible"], note=note, after_photo_ids=ids)

    assert refused.value.code == code


# --- areas ------------------------------------------------------------------------------------


def _demolish(session, case, users, **area):
    photo = create_canned_photo(session, case)
    officers = [users["officer"].id, users["officer2"].id]
    return workflow.complete(
        session, case, users["officer"], note="已拆除", after_photo_ids=[photo.id],
        officers=officers, today=TODAY, **area,
    )  # fmt: skip


def test_demolished_area_defaults_to_the_footprint(session, town):
    grid, users = town
    case = create_canned_case(session, grid, users, kind="illegal_building", status="in_progress")

    change = _demolish(session, case, users)
    session.commit()

    assert session.get(Case, case.id).demolished_area_m2 == FOOTPRINT_M2
    assert change.details["demolished_area_m2"] == FOOTPRINT_M2
    assert change.details["area_reason"] is None


def test_a_different_demolished_area_is_kept_with_its_reason(session, town):
    grid, users = town
    case = create_canned_case(session, grid, users, kind="illegal_building", status="in_progress")

    change = _demolish(
        session, case, users, demolished_area_m2=95.5, area_reason="东侧偏房已补办手续保留"
    )
    session.commit()

    assert session.get(Case, case.id).demolished_area_m2 == 95.5
    assert change.details["footprint_area_m2"] == FOOTPRINT_M2
    assert change.details["area_reason"] == "东侧偏房已补办手续保留"


@pytest.mark.parametrize(
    "area, reason, code",
    [
        (95.5, "", "area_reason_required"),
        (95.5, "   ", "area_reason_required"),
        (0, "拆了", "bad_demolished_area"),
        (float("nan"), "拆了", "bad_demolished_area"),
        ("abc", "拆了", "bad_demolished_area"),
    ],
)
def test_bad_demolished_areas_are_refused(session, town, area, reason, code):
    grid, users = town
    case = create_canned_case(session, grid, users, kind="illegal_building", status="in_progress")
    session.commit()

    with pytest.raises(InvalidInput) as refused:
        _demolish(session, case, users, demolished_area_m2=area, area_reason=reason)

    assert refused.value.code == code
    session.rollback()
    stored = session.get(Case, case.id)
    assert (stored.status, stored.demolished_area_m2) == ("in_progress", None)


def test_accepting_a_redrawn_parcel_changes_its_area_and_keeps_the_old_one(session, town):
    grid, users = town
    case = create_canned_case(session, grid, users, kind="farmland", status="done")
    old_area_m2 = case.area_m2
    redrawn = shapely.box(113.000, 30.000, 113.001, 30.001)

    change = workflow.verify(session, case, users["supervisor"], accepted_geometry=redrawn)
    session.commit()
    session.expire_all()
    stored = session.get(Case, case.id)

    assert stored.status == "verified"
    assert stored.area_m2 == pytest.approx(GROUP_A1_M2, abs=0.5)
    assert shapely.equals(stored.geom, redrawn)
    assert change.details["old_area_m2"] == old_area_m2
    assert change.details["old_geometry"]["type"] == "Polygon"
    assert change.details["new_area_m2"] == stored.area_m2


def test_only_farmland_is_redrawn(session, town):
    grid, users = town
    case = create_canned_case(session, grid, users, status="done")

    with pytest.raises(InvalidInput, match="复耕地块"):
        workflow.verify(
            session, case, users["supervisor"], accepted_geometry=shapely.box(0, 0, 1, 1)
        )


# --- two people at once (BAD_INPUT row 28) ------------------------------------------------------


def test_a_page_showing_an_old_version_is_refused(session, town):
    grid, users = town
    case = create_canned_case(session, grid, users, status="done")
    shown = case.version
    workflow.verify(session, case, users["supervisor"], note="第一人", expected_version=shown)
    session.commit()

    with pytest.raises(Conflict) as refused:
        workflow.send_back(session, case, users["admin"], reason="第二人", expected_version=shown)

    assert refused.value.code == "stale" and "刷新" in refused.value.message_zh
    assert [s[1] for s in steps_of(session, case)][-1] == "verified"


@pytest.mark.parametrize("reads_ended", [True, False], ids=["reads-ended", "reads-open"])
def test_a_stale_write_loses_and_history_stays_consistent(engine, reads_ended):
    with Session(engine) as setup:
        grid = create_canned_grid(setup)
        users = create_canned_users(setup, grid)
        case_id = create_canned_case(setup, grid, users, status="done").id
        setup.commit()
    with (
        Session(engine, expire_on_commit=False) as first,
        Session(engine, expire_on_commit=False) as second,
    ):
        # Both open the case page before either saves (their read may still be in progress).
        a = first.get(Case, case_id)
        b = second.get(Case, case_id)
        boss_a = first.scalars(select(User).where(User.username == "zz")).one()
        boss_b = second.scalars(select(User).where(User.username == "admin")).one()
        if reads_ended:
            first.commit()
            second.commit()
        workflow.verify(first, a, boss_a, note="复核通过", expected_version=a.version)
        first.commit()

        with pytest.raises(Conflict) as refused:
            workflow.send_back(second, b, boss_b, reason="复核不通过", expected_version=b.version)

        assert refused.value.code == "stale"
    with Session(engine) as check:
        case = check.get(Case, case_id)
        assert case.status == "verified"
        assert [(s.from_status, s.to_status) for s in case.history][-1] == ("done", "verified")
        assert len(case.history) == 5


# --- history for every path ---------------------------------------------------------------------


def test_history_of_a_void_report(session, town):
    grid, users = town
    case = create_canned_case(session, grid, users)

    workflow.void(session, case, users["head"], note="现场无垃圾", today=TODAY)
    session.commit()

    assert steps_of(session, case) == [
        (None, "reported", None, ""),
        ("reported", "void", "cz", "现场无垃圾"),
    ]


def test_history_of_a_demolition_from_report_to_verification(session, town):
    grid, users = town
    case = create_canned_case(session, grid, users, kind="illegal_building")
    officers = [users["officer"].id, users["officer2"].id]

    workflow.assign(session, case, users["supervisor"], note="限期拆除", today=TODAY)
    workflow.start(session, case, users["responsible"], officers=officers, today=TODAY)
    _demolish(session, case, users)
    workflow.verify(session, case, users["supervisor"], note="已复核", today=TODAY)
    session.commit()

    assert steps_of(session, case) == [
        (None, "reported", None, ""),
        ("reported", "assigned", "zz", "限期拆除"),
        ("assigned", "in_progress", "wgy1", ""),
        ("in_progress", "done", "zf1", "已拆除"),
        ("done", "verified", "zz", "已复核"),
    ]
    assign_row, start_row, done_row = case.history[1:4]
    assert assign_row.details["responsible"] == {"id": users["responsible"].id, "name": "王网格"}
    assert assign_row.details["deadline_on"] == "2022-06-09"  # 30 days, the default
    assert [o["cert_number"] for o in start_row.details["officers"]] == [
        "42060022001",
        "42060022002",
    ]
    assert done_row.details["demolished_area_m2"] == FOOTPRINT_M2
    assert (case.done_on, case.verified_on) == (TODAY, TODAY)
    assert all(row.on == TODAY for row in case.history[1:])


def test_history_of_a_failed_check(session, town):
    grid, users = town
    case = create_canned_case(session, grid, users, status="done")
    first_photo = create_canned_photo(session, case)
    first_photo.status_change_id = case.history[-1].id  # the evidence of the first "done"
    session.commit()

    workflow.send_back(session, case, users["supervisor"], reason="垃圾未清运", today=TODAY)
    session.commit()
    assert case.done_on is None
    with pytest.raises(InvalidInput, match="已用于之前"):
        workflow.complete(
            session, case, users["responsible"], note="再次清理", after_photo_ids=[first_photo.id]
        )
    session.rollback()
    case = session.get(Case, case.id)
    second_photo = create_canned_photo(session, case)
    change = workflow.complete(
        session, case, users["responsible"], note="已全部清运", after_photo_ids=[second_photo.id],
        today=TODAY,
    )  # fmt: skip
    workflow.verify(session, case, users["admin"], today=TODAY)
    session.commit()

    assert steps_of(session, case) == [
        (None, "reported", None, ""),
        ("reported", "assigned", None, ""),
        ("assigned", "in_progress", None, ""),
        ("in_progress", "done", None, ""),
        ("done", "in_progress", "zz", "垃圾未清运"),
        ("in_progress", "done", "wgy1", "已全部清运"),
        ("done", "verified", "admin", ""),
    ]
    assert session.get(Photo, second_photo.id).status_change_id == change.id
    assert change.details == {"photos": [second_photo.id]}


# --- assignment -------------------------------------------------------------------------------


def test_assign_refuses_a_responsible_person_who_cannot_see_the_case(session, town):
    grid, users = town
    case = create_canned_case(session, grid, users)

    with pytest.raises(InvalidInput, match="李网格不能查看"):
        workflow.assign(
            session, case, users["supervisor"], responsible=users["member_other_group"].id
        )


def test_assign_needs_someone_when_the_group_has_no_grid_member(session, town):
    grid, users = town
    case = create_canned_case(session, grid, users, group="B1")

    with pytest.raises(InvalidInput) as refused:
        workflow.assign(session, case, users["supervisor"], today=TODAY)
    workflow.assign(
        session, case, users["supervisor"], responsible=users["head_other"], today=TODAY
    )

    assert refused.value.code == "responsible_required"
    assert case.responsible.username == "hk" and case.status == "assigned"


def test_work_recorded_later_carries_the_day_it_happened(session, town):
    """A demolition on the 6th, recorded on the 10th: certificates and the year count the 6th."""
    grid, users = town
    building = create_canned_case(
        session, grid, users, kind="illegal_building", status="in_progress"
    )
    users["officer2"].cert_expires_on = date(2022, 5, 7)  # valid on the 6th, not on the 10th
    photo = create_canned_photo(session, building)
    session.commit()
    inputs = {
        "note": "已拆除",
        "after_photo_ids": [photo.id],
        "officers": [users["officer"].id, users["officer2"].id],
        "today": TODAY,
    }

    with pytest.raises(DomainError):
        workflow.complete(session, building, users["supervisor"], **inputs)
    session.rollback()
    change = workflow.complete(
        session, building, users["supervisor"], acted_on=date(2022, 5, 6), **inputs
    )

    assert (change.on, building.done_on, building.status) == (
        date(2022, 5, 6),
        date(2022, 5, 6),
        "done",
    )
    assert [o["cert_number"] for o in change.details["officers"]] == ["42060022001", "42060022002"]


@pytest.mark.parametrize(
    ("acted_on", "code"),
    [(date(2022, 5, 11), "acted_on_future"), (date(2022, 5, 2), "acted_on_before_last_step")],
)
def test_the_day_it_happened_lies_between_the_last_step_and_today(session, town, acted_on, code):
    grid, users = town
    case = create_canned_case(session, grid, users, status="in_progress")  # last step on the 3rd

    with pytest.raises(InvalidInput) as refused:
        workflow.complete(
            session,
            case,
            users["supervisor"],
            note="完成",
            after_photo_ids=[create_canned_photo(session, case).id],
            acted_on=acted_on,
            today=TODAY,
        )

    assert refused.value.code == code and case.status == "in_progress"
