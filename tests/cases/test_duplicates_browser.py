"""The report form in Chromium names a case already reported on the same ground, with a link to it."""

import pytest
from sqlalchemy import select

from inspection import db
from inspection.accounts.models import User
from inspection.cases.records import create_case
from tests.cases.test_report_browser import (  # noqa: F401  (the fixtures `page` and `served`)
    fill_issue,
    member_and_group,
    open_form,
    page,
    served,
)

pytestmark = pytest.mark.browser


def test_the_form_lists_the_case_on_the_same_ground(page, served):  # noqa: F811
    app, _base = served
    username, group = member_and_group(app)
    with app.app_context():
        member = db.session.scalar(select(User).where(User.username == username))
        point = group.boundary.representative_point()
        case, _ = create_case(
            db.session(), "issue", point, {"title": "桥头垃圾堆", "category": "garbage"}, member
        )
        db.session.commit()
        case_id = case.id

    open_form(page, "issue")
    fill_issue(page, group)
    page.wait_for_selector("#similar:not([hidden])")

    assert "桥头垃圾堆" in page.text_content("#similar")
    assert page.get_attribute("#similar a", "href") == f"/cases/{case_id}"
