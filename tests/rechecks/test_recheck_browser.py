"""A 回头看 in Chromium with a mocked GPS: the distance shows, the fix fills the form, 复发 reopens the case."""

from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import select

from inspection import clock, db
from inspection.cases.models import Case
from inspection.rechecks.models import Recheck
from inspection.rechecks.schedule import schedule_rechecks
from tests.browser_support import make_app, phone_at, serving
from tests.rechecks.test_pages import closed_building
from tests.test_route_access import seed_county

pytestmark = pytest.mark.browser
pytest.importorskip("playwright.sync_api")


def test_a_recheck_on_site_reopens_the_case(browser, tmp_path):
    app = make_app(tmp_path)
    seed_county(app)
    case_id = closed_building(app, clock.town_today() - timedelta(days=100))
    with app.app_context():
        (recheck,) = schedule_rechecks(db.session(), clock.town_today(), days=90, window_days=30)
        db.session.commit()
        recheck_id = recheck.id
    photo = tmp_path / "现场.jpg"
    Image.new("RGB", (120, 90), (160, 60, 40)).save(photo, "JPEG")
    with serving(app) as base:
        context, page, errors = phone_at(browser, base, (113.0012, 30.00115), 5)
        page.click("#field-tasks a")
        page.click(f"a[href='/rechecks/{recheck_id}']")
        page.wait_for_selector("#fix-status:has-text('±')")
        distance = page.text_content("#where")
        page.check("input[name=outcome][value=recurred]")
        page.fill("textarea[name=note]", "原址又搭起铁皮棚")
        page.set_input_files("#photos", str(photo))
        page.click("#evidence-form button[type=submit]")
        page.wait_for_selector("#result")
        shown = page.text_content("#result")
        context.close()

    assert errors == []
    assert "距案件位置约" in distance and "方向" in distance
    assert "复发" in shown and "原址又搭起铁皮棚" in shown
    with app.app_context():
        recheck = db.session.scalar(select(Recheck))
        case = db.session.get(Case, case_id)
        assert recheck.status == "recurred" and recheck.fix_accuracy_m == 5
        assert recheck.fix_distance_m == 0.0 and case.status == "reported"
