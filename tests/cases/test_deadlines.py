"""Time limits: defaults and admin figures, deadlines at assignment, overdue and lights."""

from datetime import date

import pytest

from inspection.cases import deadlines, workflow
from inspection.cases.models import Case, StatusChange
from inspection.db import Setting
from inspection.errors import InvalidInput, NotAllowed
from tests.cases.test_workflow import (
    TODAY,
    create_canned_case,
    create_canned_grid,
    create_canned_users,
)


@pytest.fixture
def town(session):
    """The canned grid and users, committed."""
    grid = create_canned_grid(session)
    users = create_canned_users(session, grid)
    session.commit()
    return grid, users


# --- the traffic light (no database) ------------------------------------------------------------


def case_in_memory(status="assigned", deadline_on=date(2022, 3, 11), assigned_on=date(2022, 3, 1)):
    """An unsaved case assigned on a day with a deadline (10 days' time by default)."""
    history = [StatusChange(to_status="assigned", on=assigned_on)] if assigned_on else []
    return Case(
        kind="issue", status=status, found_on=date(2022, 2, 20), deadline_on=deadline_on,
        history=history,
    )  # fmt: skip


@pytest.mark.parametrize(
    "today, light",
    [
        (date(2022, 3, 1), "green"),
        (date(2022, 3, 8), "green"),  # 70 % of the time used
        (date(2022, 3, 9), "yellow"),  # 80 %
        (date(2022, 3, 11), "yellow"),  # the deadline itself: 100 %, not yet late
        (date(2022, 3, 12), "red"),
        (date(2023, 1, 1), "red"),
    ],
)
def test_light_follows_the_share_of_time_used(today, light):
    case = case_in_memory()

    assert deadlines.deadline_light(case, today) == light
    assert deadlines.is_overdue(case, today) == (light == "red")


@pytest.mark.parametrize("status", ["done", "verified", "void"])
def test_fixed_or_closed_cases_have_no_light_and_are_never_overdue(status):
    case = case_in_memory(status=status)

    assert deadlines.deadline_light(case, date(2022, 4, 1)) is None
    assert not deadlines.is_overdue(case, date(2022, 4, 1))


def test_no_deadline_no_light():
    assert deadlines.deadline_light(case_in_memory(deadline_on=None), date(2022, 3, 5)) is None


def test_an_unassigned_case_counts_from_the_day_it_was_found():
    case = case_in_memory(status="reported", deadline_on=date(2022, 3, 2), assigned_on=None)

    assert deadlines.deadline_light(case, date(2022, 2, 27)) == "green"  # 7 of 10 days
    assert deadlines.deadline_light(case, date(2022, 2, 28)) == "yellow"  # 8 of 10 days


def test_a_deadline_on_the_day_of_assignment_is_yellow_then_red():
    case = case_in_memory(deadline_on=date(2022, 3, 1))

    assert deadlines.deadline_light(case, date(2022, 3, 1)) == "yellow"
    assert deadlines.deadline_light(case, date(2022, 3, 2)) == "red"


def test_the_last_assignment_starts_the_clock():
    case = case_in_memory(deadline_on=date(2022, 3, 21))
    case.history.append(StatusChange(to_status="assigned", on=date(2022, 3, 11)))

    assert deadlines.started_on(case) == date(2022, 3, 11)
    assert deadlines.deadline_light(case, date(2022, 3, 18)) == "green"


# --- default days as settings -------------------------------------------------------------------


def test_every_default_has_help_and_covers_kinds_and_other():
    keys = [limit.key for limit in deadlines.TIME_LIMITS]

    assert len(keys) == len(set(keys))
    assert {"illegal_building", "farmland", "other", "garbage"} <= set(keys)
    assert all(
        limit.help_zh and limit.help_en and limit.days > 0 for limit in deadlines.TIME_LIMITS
    )


def test_admin_changes_a_time_limit_and_assignment_uses_it(session, town):
    grid, users = town
    case = create_canned_case(session, grid, users)

    limits = deadlines.set_deadline_days(session, users["admin"], {"garbage": 3})
    session.commit()
    workflow.assign(session, case, users["supervisor"], today=TODAY)

    assert limits["garbage"] == 3 and limits["sewage"] == deadlines.DEFAULT_DAYS["sewage"]
    assert session.get(Setting, "deadline_days").value == {"garbage": 3}
    assert case.deadline_on == date(2022, 5, 13)
    assert case.history[-1].details["deadline_origin"] == "default"
    assert case.history[-1].details["deadline_days"] == 3


@pytest.mark.parametrize("role", ["supervisor", "officer", "head"])
def test_only_an_admin_changes_time_limits(session, town, role):
    _, users = town

    with pytest.raises(NotAllowed):
        deadlines.set_deadline_days(session, users[role], {"garbage": 3})


@pytest.mark.parametrize(
    "mapping, code",
    [
        ({"gardening": 3}, "bad_deadline_key"),
        ({"garbage": 0}, "bad_deadline_days"),
        ({"garbage": -1}, "bad_deadline_days"),
        ({"garbage": "7"}, "bad_deadline_days"),
        ({"garbage": 2.5}, "bad_deadline_days"),
        ({"garbage": True}, "bad_deadline_days"),
        ({"garbage": 4000}, "bad_deadline_days"),
    ],
)
def test_bad_time_limits_are_refused(session, town, mapping, code):
    _, users = town

    with pytest.raises(InvalidInput) as refused:
        deadlines.set_deadline_days(session, users["admin"], mapping)

    assert refused.value.code == code
    assert session.get(Setting, "deadline_days") is None


def test_a_damaged_stored_value_falls_back_to_the_defaults(session, town):
    session.add(Setting(key="deadline_days", value={"garbage": "seven", "dust": 2, "x": 1}))
    session.commit()

    limits = deadlines.deadline_days(session)

    assert limits["garbage"] == deadlines.DEFAULT_DAYS["garbage"]
    assert limits["dust"] == 2 and "x" not in limits


# --- deadlines at assignment --------------------------------------------------------------------


def test_a_superior_case_keeps_its_document_and_deadline(session, town):
    grid, users = town
    case = create_canned_case(
        session, grid, users, source="superior", doc_number="平环〔2022〕12号", batch="第3批",
        deadline_on=date(2022, 5, 20),
    )  # fmt: skip

    workflow.assign(session, case, users["head"], today=TODAY)
    session.commit()

    assert (case.deadline_on, case.doc_number, case.batch) == (
        date(2022, 5, 20),
        "平环〔2022〕12号",
        "第3批",
    )
    assert case.history[-1].details["deadline_origin"] == "superior"


def test_a_superior_deadline_may_come_forward_but_not_move_later(session, town):
    grid, users = town
    case = create_canned_case(
        session, grid, users, source="superior", deadline_on=date(2022, 5, 20)
    )

    with pytest.raises(InvalidInput) as later:
        workflow.assign(
            session, case, users["supervisor"], deadline_on=date(2022, 6, 1), today=TODAY
        )
    assert later.value.code == "superior_deadline_later" and case.status == "reported"
    workflow.assign(session, case, users["supervisor"], deadline_on=date(2022, 5, 15), today=TODAY)

    assert case.deadline_on == date(2022, 5, 15)
    assert case.history[-1].details["deadline_origin"] == "given"


def test_the_superior_deadline_posted_back_unchanged_keeps_its_origin(session, town):
    """The assign form shows the superior's date: sending it back is keeping it, not giving one."""
    grid, users = town
    case = create_canned_case(
        session, grid, users, source="superior", deadline_on=date(2022, 5, 20)
    )

    workflow.assign(session, case, users["supervisor"], deadline_on=date(2022, 5, 20), today=TODAY)

    assert case.deadline_on == date(2022, 5, 20)
    assert case.history[-1].details["deadline_origin"] == "superior"


@pytest.mark.parametrize("deadline_on", [date(2022, 5, 9), "2022-06-01"])
def test_a_deadline_in_the_past_or_not_a_date_is_refused(session, town, deadline_on):
    grid, users = town
    case = create_canned_case(session, grid, users)

    with pytest.raises(InvalidInput):
        workflow.assign(session, case, users["supervisor"], deadline_on=deadline_on, today=TODAY)


# --- overdue lists ------------------------------------------------------------------------------


@pytest.fixture
def cases(session, town):
    """Cases around TODAY: some overdue, some not, in two villages and of three kinds."""
    grid, users = town
    made = {
        "late_issue_a1": create_canned_case(session, grid, users, status="assigned"),
        "due_issue_a1": create_canned_case(session, grid, users, status="in_progress"),
        "late_building_a2": create_canned_case(
            session, grid, users, kind="illegal_building", status="in_progress", group="A2"
        ),
        "late_superior_b1": create_canned_case(
            session, grid, users, group="B1", source="superior", deadline_on=date(2022, 5, 5)
        ),
        "done_farmland_a1": create_canned_case(
            session, grid, users, kind="farmland", status="done"
        ),
        "void_issue_a1": create_canned_case(session, grid, users, status="void"),
    }
    deadlines_on = {
        "late_issue_a1": date(2022, 5, 9),
        "due_issue_a1": date(2022, 5, 10),
        "late_building_a2": date(2022, 4, 1),
        "done_farmland_a1": date(2022, 4, 1),
        "void_issue_a1": date(2022, 4, 1),
    }
    for name, day in deadlines_on.items():
        made[name].deadline_on = day
    made["late_building_a2"].responsible = users["member_other_group"]
    session.commit()
    return grid, users, {case.id: name for name, case in made.items()}


def names(found, ids):
    """The fixture names of the cases found, in order."""
    return [ids[case.id] for case in found]


def test_overdue_cases_are_the_open_ones_past_their_deadline(session, cases):
    _, _, ids = cases

    found = deadlines.overdue_cases(session, today=TODAY)

    assert names(found, ids) == ["late_building_a2", "late_superior_b1", "late_issue_a1"]


@pytest.mark.parametrize(
    "filters, expected",
    [
        ({"village": "A"}, ["late_building_a2", "late_issue_a1"]),
        ({"village": "B"}, ["late_superior_b1"]),
        ({"kind": "illegal_building"}, ["late_building_a2"]),
        ({"kind": "farmland"}, []),
        ({"responsible": "responsible"}, ["late_issue_a1"]),
        ({"viewer": "member_other_group"}, ["late_building_a2"]),
        ({"viewer": "head"}, ["late_building_a2", "late_issue_a1"]),
        ({"village": "A", "kind": "issue"}, ["late_issue_a1"]),
    ],
)
def test_overdue_cases_filter_by_village_kind_person_and_viewer(session, cases, filters, expected):
    grid, users, ids = cases
    arguments = {
        "village_id": grid[filters["village"]].id if "village" in filters else None,
        "kind": filters.get("kind"),
        "responsible_id": users[filters["responsible"]].id if "responsible" in filters else None,
        "viewer": users[filters["viewer"]] if "viewer" in filters else None,
    }

    found = deadlines.overdue_cases(session, today=TODAY, **arguments)

    assert names(found, ids) == expected


def test_nothing_is_overdue_before_any_deadline(session, cases):
    assert deadlines.overdue_cases(session, today=date(2022, 3, 1)) == []
