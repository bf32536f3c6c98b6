"""The day's alerts: tiers and recipients on hand-made cases, rules as data, once per day."""

import json

from sqlalchemy import select

from inspection import db
from inspection.accounts.models import User
from inspection.alerts.compute import compute_alerts
from inspection.alerts.models import Alert, AlertRule
from inspection.alerts.rules import alert_rules
from inspection.cases.models import Case
from tests.alerts.conftest import TODAY, seed_alert_town

FIELD = {"wgy_a1", "cz_a"}  # the 网格员 of group PG01-01 and the head of village PG01
CLIMBS = FIELD | {"zhangzhen", "xian"}  # red also reaches the town supervisor and the county
EXPECTED = {
    ("due_in_2", "blue"): FIELD,
    ("late_3", "yellow"): FIELD,
    ("late_8", "red"): CLIMBS,
    ("superior_late_1", "red"): CLIMBS,
}


def stored_alerts(app) -> dict[tuple[str, str], set[str]]:
    """(title, tier) → the usernames alerted, as stored."""
    with app.app_context():
        rows = db.session().execute(
            select(Alert.title, Alert.tier, User.username).join(User, User.id == Alert.recipient_id)
        )
        found: dict[tuple[str, str], set[str]] = {}
        for title, tier, username in rows:
            found.setdefault((title, tier), set()).add(username)
        return found


def test_default_rules_are_seeded_by_the_migration(app):
    with app.app_context():
        rows = {r.tier: r for r in db.session().scalars(select(AlertRule))}
        rules = alert_rules(db.session())
    assert sorted(rows) == ["blue", "red", "yellow"]
    assert (rules["blue"].days, rules["yellow"].days, rules["red"].days) == (3, 0, 7)
    assert rules["red"].red_sources == ("superior",)
    assert set(rules["red"].recipients) == {"member", "village_head", "supervisor", "county"}


def test_tiers_and_recipients_of_hand_made_cases(app):
    seed_alert_town(app)
    with app.app_context():
        created = compute_alerts(db.session(), TODAY)
        db.session().commit()
    found = stored_alerts(app)
    assert found == EXPECTED  # closed, void and no-deadline cases (and the seed's) get nothing
    assert created == sum(len(v) for v in EXPECTED.values())


def test_each_alert_once_per_case_tier_recipient_and_day(app):
    seed_alert_town(app)
    with app.app_context():
        first = compute_alerts(db.session(), TODAY)
        db.session().commit()
        again = compute_alerts(db.session(), TODAY)
        db.session().commit()
        count = db.session().query(Alert).count()
    assert (again, count) == (0, first)


def test_rules_are_data_the_next_pass_follows(app):
    ids = seed_alert_town(app)
    with app.app_context():
        s = db.session()
        red = s.get(AlertRule, "red")
        red.days, red.recipients, red.red_sources = 2, ["member", "county"], []
        s.commit()
        compute_alerts(s, TODAY)
        s.commit()
    found = stored_alerts(app)
    assert found[("late_3", "red")] == {"wgy_a1", "xian"}  # overdue 3 > 2 days now
    assert found[("superior_late_1", "yellow")] == FIELD  # no longer red by its source
    assert ids["late_3"]


def test_a_user_no_longer_tied_stops_getting_alerts(app):
    seed_alert_town(app)
    with app.app_context():
        s = db.session()
        s.scalar(select(User).where(User.username == "cz_a")).cells = []
        s.commit()
        compute_alerts(s, TODAY)
        s.commit()
    assert all("cz_a" not in users for users in stored_alerts(app).values())


def test_notify_twice_on_one_day_adds_no_alert(app):
    seed_alert_town(app)
    runner = app.test_cli_runner()
    first = runner.invoke(args=["notify", "--today", TODAY.isoformat(), "--json"])
    second = runner.invoke(args=["notify", "--today", TODAY.isoformat(), "--json"])
    assert first.exit_code == 0, first.output
    assert json.loads(first.output) == {"alerts": 12, "sent": 0, "failed": 0, "pending": 0}
    assert json.loads(second.output) == {"alerts": 0, "sent": 0, "failed": 0, "pending": 0}
    next_day = runner.invoke(args=["notify", "--today", "2026-06-16", "--json"])
    assert json.loads(next_day.output)["alerts"] > 0  # a new day, new alerts


def test_a_bad_day_is_a_clear_message(app):
    result = app.test_cli_runner().invoke(args=["notify", "--today", "2026-13-01"])
    assert result.exit_code == 1
    assert "YYYY-MM-DD" in result.output


def test_closing_a_case_ends_its_alerts_from_the_next_day(app):
    ids = seed_alert_town(app)
    with app.app_context():
        s = db.session()
        s.get(Case, ids["late_8"]).status = "done"
        s.commit()
        compute_alerts(s, TODAY)
        s.commit()
    assert ("late_8", "red") not in stored_alerts(app)
