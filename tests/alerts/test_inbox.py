"""The inbox through the test client: one's own alerts, the header's unread count, marking read."""

import re

from sqlalchemy import select

from inspection import db
from inspection.accounts.models import User
from inspection.alerts.compute import compute_alerts
from inspection.alerts.models import Alert
from tests.alerts.conftest import TODAY, seed_alert_town
from tests.conftest import csrf_token, login

UNREAD = re.compile(r'data-unread="(\d+)"')


def alerted(app) -> dict[str, list[int]]:
    """Seed the town, compute TODAY's alerts; the alert ids of each user."""
    seed_alert_town(app)
    with app.app_context():
        s = db.session()
        compute_alerts(s, TODAY)
        s.commit()
        rows = s.execute(select(User.username, Alert.id).join(Alert, Alert.recipient_id == User.id))
        ids: dict[str, list[int]] = {}
        for username, alert_id in rows:
            ids.setdefault(username, []).append(alert_id)
        return ids


def page(client, path="/alerts") -> tuple[str, int]:
    """A page's HTML and the header's unread count."""
    html = client.get(path).get_data(as_text=True)
    return html, int(UNREAD.search(html).group(1))


def test_the_inbox_lists_ones_own_alerts_with_links_and_colours(app, client):
    ids = alerted(app)
    login(client, "zhangzhen")  # the supervisor: red alerts only
    html, unread = page(client)
    assert unread == len(ids["zhangzhen"]) == 2
    assert 'data-tier="red"' in html and 'data-tier="blue"' not in html
    assert "late_8" in html and "superior_late_1" in html and "due_in_2" not in html
    with app.app_context():
        case_id = db.session().scalar(select(Alert.source_id).where(Alert.title == "late_8"))
    assert f'href="/cases/{case_id}"' in html


def test_the_header_counts_unread_on_every_page_and_marking_read_lowers_it(app, client):
    ids = alerted(app)
    login(client, "wgy_a1")
    _, unread = page(client, "/cases")
    assert unread == len(ids["wgy_a1"]) == 4
    token = csrf_token(client, "/alerts")
    response = client.post(f"/alerts/{ids['wgy_a1'][0]}/read", data={"csrf_token": token})
    assert response.status_code == 303
    assert page(client)[1] == 3
    assert client.post("/alerts/read", data={"csrf_token": token}).status_code == 303
    html, unread = page(client)
    assert unread == 0 and 'class="unread"' not in html
    assert "late_3" in html  # read alerts stay listed


def test_another_users_alert_is_not_found_and_stays_unread(app, client):
    ids = alerted(app)
    login(client, "wgy_a1")
    token = csrf_token(client, "/alerts")
    response = client.post(f"/alerts/{ids['xian'][0]}/read", data={"csrf_token": token})
    assert response.status_code == 404
    with app.app_context():
        assert db.session().get(Alert, ids["xian"][0]).read_at is None


def test_a_user_with_nothing_due_sees_an_empty_inbox(app, client):
    alerted(app)
    login(client, "wgy_a2")  # the neighbouring group
    html, unread = page(client)
    assert unread == 0 and "data-alert=" not in html


def test_more_alerts_than_the_threshold_in_a_day_show_as_one_digest(app, client):
    alerted(app)
    app.config["ALERT_DIGEST_OVER"] = 3
    login(client, "wgy_a1")  # 4 alerts today
    html, _ = page(client)
    assert html.count('class="digest"') == 1


def test_the_login_page_shows_no_count(client):
    html = client.get("/auth/login").get_data(as_text=True)
    assert "data-unread" not in html
