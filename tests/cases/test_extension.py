"""延期 on SQLite and PostGIS: who may extend, to which days, the history row, stale and double submits."""

from datetime import date

import pytest
from sqlalchemy import select

from inspection.cases.deadlines import started_on
from inspection.cases.extension import extend_deadline, is_extension, may_extend
from inspection.cases.models import StatusChange
from inspection.errors import Conflict, InvalidInput, NotAllowed
from tests.cases.test_workflow import (
    TODAY,
    create_canned_case,
    create_canned_grid,
    create_canned_users,
    steps_of,
)


@pytest.fixture
def town(session):
    """The workflow tests' canned grid and users, committed."""
    grid = create_canned_grid(session)
    users = create_canned_users(session, grid)
    session.commit()
    return grid, users


def test_a_supervisor_extends_an_open_case_and_the_history_says_so(session, town):
    grid, users = town
    case = create_canned_case(session, grid, users, status="assigned")
    session.commit()
    version, started = case.version, started_on(case)

    change = extend_deadline(
        session,
        case,
        users["supervisor"],
        deadline_on=date(2022, 6, 15),
        reason="雨季施工困难",
        expected_version=version,
        today=TODAY,
    )
    session.commit()

    assert case.deadline_on == date(2022, 6, 15) and case.status == "assigned"
    assert is_extension(change) and change.on == TODAY
    assert change.details == {
        "action": "extend_deadline", "deadline_before": "2022-05-31",
        "deadline_on": "2022-06-15", "reason": "雨季施工困难",
    }  # fmt: skip
    assert steps_of(session, case)[-1] == ("assigned", "assigned", "zz", "雨季施工困难")
    assert started_on(case) == started  # an extension starts no new allowed time
    assert case.version == version + 1


@pytest.mark.parametrize("persona", ["responsible", "head", "officer"])
def test_field_staff_may_not_extend(session, town, persona):
    grid, users = town
    case = create_canned_case(session, grid, users, status="in_progress")
    session.commit()

    assert not may_extend(users[persona], case)
    with pytest.raises(NotAllowed):
        extend_deadline(session, case, users[persona], deadline_on=date(2022, 6, 15),
                        reason="x", today=TODAY)  # fmt: skip
    session.rollback()
    assert may_extend(users["admin"], case)


@pytest.mark.parametrize(
    "deadline_on, reason, code",
    [
        (date(2022, 5, 31), "同一天", "extension_not_later"),
        (date(2022, 5, 20), "提前", "extension_not_later"),
        (date(2040, 1, 1), "太远", "extension_too_far"),
        (None, "无日期", "bad_deadline"),
        (date(2022, 6, 15), "  ", "reason_required"),
    ],
)
def test_bad_extensions_are_refused_and_change_nothing(session, town, deadline_on, reason, code):
    grid, users = town
    case = create_canned_case(session, grid, users, status="assigned")
    session.commit()

    with pytest.raises(InvalidInput) as refused:
        extend_deadline(session, case, users["supervisor"], deadline_on=deadline_on,
                        reason=reason, today=TODAY)  # fmt: skip
    session.rollback()

    assert refused.value.code == code
    session.expire_all()
    assert case.deadline_on == date(2022, 5, 31)
    assert not any(is_extension(c) for c in session.scalars(select(StatusChange)))


@pytest.mark.parametrize("status", ["reported", "done", "verified", "void"])
def test_only_open_cases_with_a_deadline_are_extended(session, town, status):
    grid, users = town
    case = create_canned_case(session, grid, users, status=status)
    session.commit()

    with pytest.raises(Conflict) as refused:
        extend_deadline(session, case, users["supervisor"], deadline_on=date(2022, 6, 15),
                        reason="x", today=TODAY)  # fmt: skip
    assert refused.value.code == "not_extendable"


def test_a_double_submit_extends_once(session, town):
    grid, users = town
    case = create_canned_case(session, grid, users, status="assigned")
    session.commit()
    shown = case.version
    extend_deadline(session, case, users["supervisor"], deadline_on=date(2022, 6, 15),
                    reason="第一次", expected_version=shown, today=TODAY)  # fmt: skip
    session.commit()

    with pytest.raises(Conflict) as refused:
        extend_deadline(session, case, users["supervisor"], deadline_on=date(2022, 6, 30),
                        reason="重复提交", expected_version=shown, today=TODAY)  # fmt: skip
    session.rollback()

    assert refused.value.code == "stale"
    assert [s[3] for s in steps_of(session, case)].count("第一次") == 1
    assert case.deadline_on == date(2022, 6, 15)


def test_the_case_page_extends_for_a_supervisor_and_hides_the_form_from_the_field(app):
    import re

    from inspection import clock, db
    from inspection.cases.models import Case
    from tests.cases.test_case_actions import as_user, page, post, seed

    ids = seed(app)
    case_id = ids["case"]
    supervisor = as_user(app, "zhangzhen")
    assert post(supervisor, case_id, "assign").status_code == 303
    with app.app_context():
        old = db.session().get(Case, case_id).deadline_on
    html = page(supervisor, case_id)
    assert f'action="/cases/{case_id}/extend"' in html
    assert f"/cases/{case_id}/extend" not in page(as_user(app, "wgy_a1"), case_id)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    version = re.search(r'name="expected_version" value="(\d+)"', html).group(1)
    later = old.fromordinal(old.toordinal() + 10).isoformat()
    form = {
        "csrf_token": token,
        "expected_version": version,
        "deadline_on": later,
        "reason": "雨天",
    }

    first = supervisor.post(f"/cases/{case_id}/extend", data=form)
    again = supervisor.post(f"/cases/{case_id}/extend", data=form)  # the double tap
    bad = supervisor.post(f"/cases/{case_id}/extend", data={**form, "deadline_on": "2022-13-01"})

    assert first.status_code == 303
    assert again.status_code == 409 and again.headers["X-Action-Error"] == "stale"
    assert bad.status_code == 422
    with app.app_context():
        case = db.session().get(Case, case_id)
        assert case.deadline_on.isoformat() == later
        assert sum(1 for c in case.history if is_extension(c)) == 1
    shown = page(supervisor, case_id)
    assert f"{old.isoformat()} → {later}" in shown
    assert clock.town_today() <= case.deadline_on
