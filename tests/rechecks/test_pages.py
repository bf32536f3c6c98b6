"""The 回头看 pages and commands: the list, the form on the phone, the daily schedule, the 图斑 way."""

import io
import json
from datetime import date, timedelta

import shapely
from sqlalchemy import select

from inspection import clock, db
from inspection.accounts.models import User
from inspection.cases.history import record_change
from inspection.cases.models import Case
from inspection.cases.records import create_case
from inspection.rechecks.models import Recheck
from inspection.tuban.importer import import_batch
from tests.cases.test_photos import image_bytes
from tests.cases.test_report_forms import town  # noqa: F401  (fixture)
from tests.conftest import csrf_token, login

FOOTPRINT = shapely.box(113.0010, 30.0010, 113.0014, 30.0013)  # in group A1


def closed_building(app, verified_on: date) -> int:
    """An illegal building of A1 demolished and verified on that day; its id."""
    with app.app_context():
        s = db.session()
        member = s.scalar(select(User).where(User.username == "wgy_a1"))
        case, _ = create_case(
            s, "illegal_building", FOOTPRINT, {"title": "河边违建"}, member,
            found_on=verified_on - timedelta(days=30),
        )  # fmt: skip
        for status in ("assigned", "in_progress", "done", "verified"):
            record_change(s, case, status, None, on=verified_on)
        s.commit()
        return case.id


def test_schedule_then_the_member_records_a_recurrence_on_his_phone(app, client, runner, town):  # noqa: F811
    today = clock.town_today()
    case_id = closed_building(app, today - timedelta(days=95))

    out = runner.invoke(args=["rechecks", "schedule", "--json"])
    again = runner.invoke(args=["rechecks", "schedule", "--json"])

    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["cases"] == [case_id]
    assert json.loads(again.output)["created"] == 0
    with app.app_context():
        recheck_id = db.session.scalar(select(Recheck.id))
    login(client, "wgy_a1")
    home = client.get("/").get_data(as_text=True)
    assert "1 个回头看待完成" in home.split('id="field-tasks"')[1]
    listed = client.get("/rechecks/").get_data(as_text=True)
    assert "河边违建" in listed.split('id="my-rechecks"')[1]
    page = f"/rechecks/{recheck_id}"
    form = {
        "csrf_token": csrf_token(client, page),
        "client_id": "rc-1",
        "outcome": "recurred",
        "fix_lon": "113.0012",
        "fix_lat": "30.0011",
        "fix_accuracy": "6",
    }

    missing = client.post(page, data=form)  # no note, no photo
    sent = client.post(
        page,
        data={**form, "note": "原址又搭起铁皮棚",
              "photos": (io.BytesIO(image_bytes(taken=None)), "现场.jpg")},
        content_type="multipart/form-data",
    )  # fmt: skip

    assert missing.status_code == 422 and "复发时请说明" in missing.get_data(as_text=True)
    assert sent.status_code == 303
    shown = client.get(page).get_data(as_text=True)
    assert 'id="result"' in shown and "原址又搭起铁皮棚" in shown
    with app.app_context():
        case = db.session.get(Case, case_id)
        assert (
            case.status == "reported" and case.history[-1].details["recurrence"]["via"] == "recheck"
        )
        assert [p.stage for p in case.photos] == ["before"]


def test_a_recheck_outside_ones_grid_is_not_found(app, client, town):  # noqa: F811
    closed_building(app, clock.town_today() - timedelta(days=100))
    with app.app_context():
        from inspection.rechecks.schedule import schedule_rechecks

        (recheck,) = schedule_rechecks(db.session(), clock.town_today(), days=90, window_days=30)
        db.session.commit()
        recheck_id = recheck.id
    login(client, "wgy_a2")

    assert client.get(f"/rechecks/{recheck_id}").status_code == 404
    assert "河边违建" not in client.get("/rechecks/").get_data(as_text=True)


def test_a_new_tuban_over_a_closed_case_brings_its_recheck_forward(app, town):  # noqa: F811
    case_id = closed_building(app, date(2026, 10, 1))
    feature = {
        "type": "Feature",
        "properties": {"TBBH": "WP-7"},
        "geometry": shapely.geometry.mapping(FOOTPRINT.buffer(0.00002, join_style="mitre")),
    }
    batch = json.dumps({"type": "FeatureCollection", "features": [feature]}).encode()
    with app.app_context():
        s = db.session()
        report = import_batch(
            s, batch, filename="b.geojson", batch_name="2026Q4", deadline_on=date(2026, 12, 20)
        )
        s.commit()
        again = import_batch(
            s, batch, filename="b.geojson", batch_name="2026Q4", deadline_on=date(2026, 12, 20)
        )
        s.commit()
        recheck = s.scalar(select(Recheck))

        assert report.as_json()["rechecks"] == [case_id] and report.linked == 1
        assert (
            again.rechecks == []
            and s.scalar(select(Recheck.id).where(Recheck.id > recheck.id)) is None
        )
        assert (recheck.origin, recheck.due_on, recheck.closed_on) == (
            "tuban",
            date(2026, 12, 20),
            date(2026, 10, 1),
        )
        assert recheck.assignee.username == "wgy_a1"
