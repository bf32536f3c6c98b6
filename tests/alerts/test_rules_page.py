"""The admin page of the alert rules: the numbers and recipients saved, bad figures refused."""

from inspection import db
from inspection.alerts.rules import alert_rules
from tests.alerts.conftest import seed_alert_town
from tests.conftest import csrf_token, login

FORM = {
    "blue_days": "5",
    "yellow_days": "1",
    "red_days": "10",
    "blue_recipients": ["member"],
    "yellow_recipients": ["member", "village_head"],
    "red_recipients": ["member", "supervisor"],
    "red_sources": ["superior", "hotline"],
}


def post(client, **changes):
    token = csrf_token(client, "/admin/alert-rules")
    return client.post("/admin/alert-rules", data={**FORM, **changes, "csrf_token": token})


def test_an_admin_saves_the_numbers_and_recipients(app, client):
    seed_alert_town(app)
    login(client, "admin")
    assert post(client).status_code == 303
    with app.app_context():
        rules = alert_rules(db.session())
    assert (rules["blue"].days, rules["yellow"].days, rules["red"].days) == (5, 1, 10)
    assert rules["blue"].recipients == ("member",)
    assert rules["red"].recipients == ("member", "supervisor")
    assert rules["red"].red_sources == ("superior", "hotline")
    html = client.get("/admin/alert-rules").get_data(as_text=True)
    assert 'name="red_days" value="10"' in html


def test_bad_figures_are_refused_in_chinese_and_nothing_changes(app, client):
    seed_alert_town(app)
    login(client, "admin")
    for changes, words in (
        ({"blue_days": "-1"}, "整数"),
        ({"red_days": "abc"}, "整数"),
        ({"red_days": "0", "yellow_days": "2"}, "不能少于"),
        ({"yellow_recipients": []}, "接收人"),
    ):
        response = post(client, **changes)
        assert response.status_code == 422
        assert words in response.get_data(as_text=True)
    with app.app_context():
        assert alert_rules(db.session())["blue"].days == 3
