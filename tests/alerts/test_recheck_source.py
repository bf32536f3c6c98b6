"""回头看 re-checks through the due-source registry: blue before, yellow late, red a week late."""

from datetime import timedelta

from sqlalchemy import select

from inspection import db
from inspection.alerts.compute import compute_alerts
from inspection.alerts.models import Alert
from inspection.cases.models import Case
from inspection.rechecks.models import Recheck
from tests.alerts.conftest import TODAY, seed_alert_town
from tests.alerts.test_compute import CLIMBS, FIELD, stored_alerts


def test_rechecks_climb_by_how_late_they_are(app):
    ids = seed_alert_town(app)
    with app.app_context():
        s = db.session()
        case = s.get(Case, ids["closed_late_10"])
        for n, (days, status) in enumerate(
            ((2, "open"), (-3, "open"), (-8, "open"), (-9, "clear"))
        ):
            s.add(
                Recheck(
                    case=case,
                    closed_on=TODAY - timedelta(days=200 + n),
                    due_on=TODAY + timedelta(days=days),
                    status=status,
                    town_id=case.town_id,
                    village_id=case.village_id,
                    group_id=case.group_id,
                )
            )
        s.commit()
        compute_alerts(s, TODAY)
        s.commit()
        kinds = set(s.scalars(select(Alert.source_kind)))
        late = s.scalars(select(Alert.source_id).where(Alert.source_kind == "recheck")).all()

    found = stored_alerts(app)
    title = "回头看：closed_late_10"
    assert found[(title, "blue")] == FIELD
    assert found[(title, "yellow")] == FIELD
    assert found[(title, "red")] == CLIMBS
    assert kinds == {"case", "recheck"} and len(set(late)) == 3  # not the one done
