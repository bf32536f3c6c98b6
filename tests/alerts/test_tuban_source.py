"""图斑 核查 tasks through the due-source registry: red as soon as overdue, climbing to the county."""

from datetime import timedelta

import shapely
from sqlalchemy import select

from inspection import db
from inspection.alerts.compute import compute_alerts
from inspection.alerts.models import Alert
from inspection.grid.models import GridCell
from inspection.tuban.models import Tuban, TubanBatch
from tests.alerts.conftest import TODAY, seed_alert_town
from tests.alerts.receivers import Receiver
from tests.alerts.test_compute import CLIMBS, FIELD, stored_alerts


def seed_tuban(app) -> None:
    """Four 图斑 in group PG01-01: a task overdue a day, one due in 2 days, a closed and a linked one."""
    with app.app_context():
        s = db.session()
        group = s.scalar(select(GridCell).where(GridCell.code == "PG01-01"))
        cells = (group.id, group.parent_id, group.parent.parent_id)
        batch = TubanBatch(name="2026年第2批", deadline_on=TODAY, source_name="test.geojson")
        s.add(batch)
        for number, days, outcome, status in (
            ("T1", -1, "task", "open"),
            ("T2", 2, "task", "submitted"),
            ("T3", -5, "task", "accepted"),
            ("T4", -5, "linked", "open"),
        ):
            tuban = Tuban(batch=batch, number=number, outcome=outcome, review=status, attributes={})
            tuban.set_geometry(
                shapely.MultiPolygon([shapely.box(113.001, 30.001, 113.002, 30.002)]), 1e4
            )
            tuban.group_id, tuban.village_id, tuban.town_id = cells
            tuban.due_on = TODAY + timedelta(days=days)
            s.add(tuban)
        s.commit()


def test_an_overdue_tuban_task_is_red_for_everyone_up_to_the_county(app):
    seed_alert_town(app)
    seed_tuban(app)
    with app.app_context():
        compute_alerts(db.session(), TODAY)
        db.session().commit()
        kinds = set(db.session().scalars(select(Alert.source_kind)))
    found = stored_alerts(app)
    assert found[("图斑 T1", "red")] == CLIMBS
    assert found[("图斑 T2", "blue")] == FIELD
    assert not any(title in ("图斑 T3", "图斑 T4") for title, _ in found)
    assert kinds == {"case", "tuban"}


def test_a_tuban_alert_reaches_a_webhook_with_the_link_of_its_page(app):
    seed_alert_town(app)
    seed_tuban(app)
    with Receiver() as wecom:
        result = app.test_cli_runner().invoke(
            args=["webhook", "add", wecom.url, "--format", "wecom", "--tiers", "red"]
        )
        assert result.exit_code == 0, result.output
        result = app.test_cli_runner().invoke(args=["notify", "--today", TODAY.isoformat()])
        assert result.exit_code == 0, result.output
    contents = [b["markdown"]["content"] for b in wecom.bodies]
    (tuban,) = [c for c in contents if "图斑 T1" in c]
    with app.app_context():
        tuban_id = db.session().scalar(select(Tuban.id).where(Tuban.number == "T1"))
    assert "红色督办" in tuban and f"](https://xuncha.example.cn/tuban/{tuban_id})" in tuban
