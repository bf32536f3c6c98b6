"""举证 in Chromium with a mocked GPS: the fix fills the form, distance and direction show, evidence is stored."""

import pytest
import shapely
from PIL import Image
from sqlalchemy import select

from inspection import db
from inspection.tuban.importer import import_batch
from inspection.tuban.models import Tuban
from tests.browser_support import make_app, phone_at, serving
from tests.test_route_access import seed_county

pytestmark = pytest.mark.browser
pytest.importorskip("playwright.sync_api")

SQUARE = shapely.box(113.0012, 30.0012, 113.0018, 30.0018)  # in group PG01-01 of 平岗镇


def seeded_task(app) -> int:
    """A county batch with one 图斑 in PG01-01: wgy_a1's 核查 task."""
    import json
    from datetime import date

    seed_county(app)
    feature = {
        "type": "Feature",
        "properties": {"TBBH": "JC-9"},
        "geometry": shapely.geometry.mapping(SQUARE),
    }
    data = json.dumps({"type": "FeatureCollection", "features": [feature]}).encode()
    with app.app_context():
        import_batch(
            db.session(),
            data,
            filename="jc.geojson",
            batch_name="Q4",
            deadline_on=date(2026, 12, 31),
        )
        db.session.commit()
        return db.session.scalar(select(Tuban.id))


def task_page(browser, base: str, task_id: int, where, accuracy: float):
    """wgy_a1 logged in on the task's page in a phone at `where` (lon, lat): (context, page, errors)."""
    context, page, errors = phone_at(browser, base, where, accuracy)
    page.goto(f"/tuban/{task_id}")
    page.wait_for_function("document.querySelector('input[name=fix_accuracy]').value !== ''")
    return context, page, errors


@pytest.mark.parametrize(
    ("where", "accuracy", "stored"),
    [((113.0015, 30.0015), 8, "submitted"), ((113.0040, 30.0015), 8, "open")],
    ids=["on-site", "250-m-away"],
)
def test_evidence_with_the_phone_position(browser, tmp_path, where, accuracy, stored):
    app = make_app(tmp_path)
    task_id = seeded_task(app)
    photo = tmp_path / "现场.jpg"
    Image.new("RGB", (120, 90), (40, 160, 60)).save(photo, "JPEG")
    with serving(app) as base:
        context, page, errors = task_page(browser, base, task_id, where, accuracy)
        status = page.text_content("#fix-status")
        distance = page.text_content("#where")
        page.check("input[name=conclusion][value=false_change]")
        page.set_input_files("#photos", str(photo))
        page.click("#evidence-form button[type=submit]")
        page.wait_for_selector("#evidence, #evidence-error")  # stored, or the reason
        shown = page.text_content("main")
        context.close()

    assert errors == []
    assert f"±{accuracy}" in status
    assert "距图斑约" in distance and "方向" in distance
    with app.app_context():
        tuban = db.session.get(Tuban, task_id)
        assert tuban.review == stored
        if stored == "submitted":
            assert tuban.fix_accuracy_m == accuracy and tuban.fix_distance_m == 0.0
            assert len(tuban.photos) == 1 and "待审核" in shown
        else:
            assert "距图斑" in shown and "米以内" in shown  # the reason, on the page


def test_evidence_without_signal_is_kept_on_the_phone_and_sent_when_it_returns(browser, tmp_path):
    app = make_app(tmp_path)
    task_id = seeded_task(app)
    photo = tmp_path / "现场.jpg"
    Image.new("RGB", (120, 90), (40, 160, 60)).save(photo, "JPEG")
    with serving(app) as base:
        context, page, errors = task_page(browser, base, task_id, (113.0015, 30.0015), 6)
        page.check("input[name=conclusion][value=false_change]")
        page.set_input_files("#photos", str(photo))

        context.set_offline(True)
        page.click("#evidence-form button[type=submit]")
        page.wait_for_selector("#field-outbox-note", state="visible")
        page.wait_for_selector("#outbox li")
        with app.app_context():
            kept = db.session.get(Tuban, task_id).review
        context.set_offline(False)
        page.locator("#outbox-send").dispatch_event("click")
        page.wait_for_selector("#outbox-sent a", state="attached")  # the list hides when empty
        context.close()

    assert errors == [] and kept == "open"
    with app.app_context():
        tuban = db.session.get(Tuban, task_id)
        assert tuban.review == "submitted" and len(tuban.photos) == 1
        assert tuban.fix_accuracy_m == 6
