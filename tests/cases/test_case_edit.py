"""Correcting a report: who may, until when, with the version shown, and what is kept."""

import io
import re

import pytest
from sqlalchemy import select

from inspection import db
from inspection.cases.models import Case
from inspection.journal import AuditEntry
from tests.cases.test_report_forms import jpeg_bytes, seed_town
from tests.conftest import login


@pytest.fixture
def town(app):
    """The report-form town: one issue (河边垃圾, garbage) in group A1 with a photo."""
    return seed_town(app)


def as_user(app, username):
    """A test client logged in as the user."""
    client = app.test_client()
    login(client, username)
    return client


def edit_page(client, case_id):
    """The edit page's HTML, its CSRF token and the version it shows."""
    response = client.get(f"/cases/{case_id}/edit")
    html = response.get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html)
    version = re.search(r'name="expected_version" value="(\d+)"', html)
    return response, token and token.group(1), version and version.group(1)


def submit(client, case_id, version=None, files=None, **fields):
    """Post the edit form with the page's token and version, and the issue's usual fields."""
    _, token, shown = edit_page(client, case_id)
    data = {
        "csrf_token": token,
        "expected_version": shown if version is None else version,
        "title": "河边垃圾",
        "source": "patrol",
        "category": "garbage",
        "found_on": "",
        **fields,
        **(files or {}),
    }
    return client.post(f"/cases/{case_id}/edit", data=data, content_type="multipart/form-data")


def load(app, case_id) -> Case:
    """The case as stored, with its photos."""
    with app.app_context():
        case = db.session.get(Case, case_id)
        _ = case.photos
        return case


def test_the_groups_grid_member_corrects_the_report_and_the_audit_log_says_what(app, town):
    case_id = town["case"]
    member = as_user(app, "wgy_a2")  # not his group: he may not even see it
    assert edit_page(member, case_id)[0].status_code == 404
    member = as_user(app, "wgy_a1")
    response, _, _ = edit_page(member, case_id)
    assert response.status_code == 200 and "河边垃圾" in response.get_data(as_text=True)

    saved = submit(
        member,
        case_id,
        category="sewage",
        description="排污口在桥下",
        files={"photos": (io.BytesIO(jpeg_bytes(color=(20, 90, 200))), "more.jpg")},
    )

    assert saved.status_code == 303 and saved.headers["Location"].endswith(f"/cases/{case_id}")
    case = load(app, case_id)
    assert (case.category, case.description, len(case.photos)) == ("sewage", "排污口在桥下", 2)
    assert {p.stage for p in case.photos} == {"before"}
    with app.app_context():
        rows = db.session.scalars(
            select(AuditEntry).where(AuditEntry.target == f"case:{case_id}")
        ).all()
    update = next(r for r in rows if r.event == "case.update")
    assert update.username == "wgy_a1"
    assert update.details["changes"]["category"] == ["garbage", "sewage"]


@pytest.mark.parametrize(
    ("username", "status"),
    [("liuwei", 403), ("wgy_a2", 404), ("cz_b", 404), ("cz_a", 200), ("zhangzhen", 200)],
)
def test_who_may_open_the_edit_page(app, town, username, status):
    assert edit_page(as_user(app, username), town["case"])[0].status_code == status


def test_anonymous_users_are_sent_to_login(app, town):
    response = app.test_client().get(f"/cases/{town['case']}/edit")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_a_stale_form_changes_nothing(app, town):
    case_id = town["case"]
    member = as_user(app, "wgy_a1")
    before = load(app, case_id)

    response = submit(member, case_id, version=str(before.version - 1), description="改过")

    assert response.status_code == 409
    assert "该案件已被他人修改" in response.get_data(as_text=True)
    after = load(app, case_id)
    assert (after.description, after.version) == (before.description, before.version)


def test_a_bad_value_comes_back_with_what_was_typed(app, town):
    case_id = town["case"]
    member = as_user(app, "wgy_a1")

    response = submit(member, case_id, category="", description="我写的说明")

    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "我写的说明" in html
    assert load(app, case_id).description != "我写的说明"


def test_once_work_has_started_the_details_are_closed(app, town):
    case_id = town["case"]
    with app.app_context():
        case = db.session.get(Case, case_id)
        case.status = "in_progress"
        db.session.commit()
    member = as_user(app, "wgy_a1")

    assert edit_page(member, case_id)[0].status_code == 403
    assert submit(member, case_id, description="晚了").status_code in (400, 403)
    assert load(app, case_id).description != "晚了"


def test_the_case_page_links_to_the_edit_page_only_for_those_who_may_edit(app, town):
    case_id = town["case"]
    link = f'href="/cases/{case_id}/edit"'

    member = as_user(app, "wgy_a1").get(f"/cases/{case_id}").get_data(as_text=True)
    officer = as_user(app, "liuwei").get(f"/cases/{case_id}").get_data(as_text=True)

    assert link in member and link not in officer
