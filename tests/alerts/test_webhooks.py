"""Webhooks: refused URLs, the three formats as a receiver got them, retries, timeouts, digests."""

import json
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from inspection import db
from inspection.alerts.models import DeliveryAttempt, OutboxMessage, Webhook
from inspection.alerts.webhooks import check_url
from inspection.clock import utcnow
from inspection.errors import InvalidInput
from tests.alerts.conftest import TODAY, seed_alert_town
from tests.alerts.receivers import Receiver
from tests.conftest import csrf_token, login


def notify(app, day=TODAY) -> dict:
    """One `flask notify --json` pass; its counts."""
    result = app.test_cli_runner().invoke(args=["notify", "--today", day.isoformat(), "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def add(app, url, fmt="json", *extra) -> None:
    """`flask webhook add`, which must succeed."""
    result = app.test_cli_runner().invoke(args=["webhook", "add", url, "--format", fmt, *extra])
    assert result.exit_code == 0, result.output


def make_due_again(app) -> None:
    """Move every pending message's next try to now (instead of waiting out the backoff)."""
    with app.app_context():
        s = db.session()
        past = utcnow() - timedelta(seconds=1)
        s.execute(
            update(OutboxMessage).where(OutboxMessage.status == "pending").values(next_try_at=past)
        )
        s.commit()


def attempts(app) -> list[tuple[int | None, str | None]]:
    """Every delivery attempt's (status code, error), in order."""
    with app.app_context():
        rows = db.session().execute(
            select(DeliveryAttempt.status_code, DeliveryAttempt.error).order_by(DeliveryAttempt.id)
        )
        return [tuple(r) for r in rows]


@pytest.mark.parametrize(
    ("url", "settings", "code"),
    [
        ("ftp://robot.example.cn/x", {}, "webhook_scheme"),
        ("file:///etc/passwd", {}, "webhook_scheme"),
        ("javascript:alert(1)", {}, "webhook_scheme"),
        (
            "https://xuncha.example.cn/hook",
            {"public_url": "https://xuncha.example.cn"},
            "webhook_self",
        ),
        ("http://localhost:8000/x", {"app_ports": {8000}, "allow_private": True}, "webhook_self"),
        (
            "http://127.0.0.1:5000/x",
            {"public_url": "http://10.0.0.5:5000", "allow_private": True},
            "webhook_self",
        ),
        ("http://192.168.1.20/robot", {}, "webhook_private"),
        ("http://10.1.2.3/robot", {}, "webhook_private"),
        ("http://127.0.0.1:9/robot", {}, "webhook_private"),
        ("http://169.254.169.254/latest/meta-data", {}, "webhook_private"),
        ("http://[::1]:9/robot", {}, "webhook_private"),
        ("http://localhost:9/robot", {}, "webhook_private"),
    ],
)
def test_refused_urls(url, settings, code):
    with pytest.raises(InvalidInput) as refused:
        check_url(url, **settings)
    assert refused.value.code == code
    assert refused.value.message_zh and refused.value.message_en


def test_allowed_urls():
    assert check_url(" https://93.184.216.34/robot?key=1 ") == "https://93.184.216.34/robot?key=1"
    assert check_url("http://127.0.0.1:9/x", allow_private=True, app_ports={8000})


def test_the_cli_refuses_with_a_non_zero_exit_and_lists_what_it_keeps(app):
    runner = app.test_cli_runner()
    app.config["WEBHOOK_ALLOW_PRIVATE"] = False
    refused = runner.invoke(args=["webhook", "add", "http://192.168.1.20/r", "--format", "wecom"])
    assert refused.exit_code == 1 and "内网" in refused.output
    bad_tier = runner.invoke(
        args=["webhook", "add", "https://93.184.216.34/r", "--format", "json", "--tiers", "green"]
    )
    assert bad_tier.exit_code == 1 and "green" in bad_tier.output
    ftp = runner.invoke(args=["webhook", "add", "ftp://93.184.216.34/r", "--format", "json"])
    assert ftp.exit_code == 1 and "http" in ftp.output
    add(app, "https://93.184.216.34/r", "dingtalk", "--scope", "PG01", "--tiers", "red,yellow")
    listed = runner.invoke(args=["webhook", "list"]).output
    assert "dingtalk\tPG01\tyellow,red\thttps://93.184.216.34/r" in listed
    with app.app_context():
        assert db.session().query(Webhook).count() == 1


def test_the_admin_page_refuses_in_chinese_and_keeps_what_was_typed(app, client):
    seed_alert_town(app)
    app.config["WEBHOOK_ALLOW_PRIVATE"] = False
    login(client, "admin")
    token = csrf_token(client, "/admin/webhooks")
    response = client.post(
        "/admin/webhooks",
        data={
            "csrf_token": token,
            "url": "http://10.0.0.8/robot",
            "format": "wecom",
            "tiers": ["red"],
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "内网" in html and 'value="http://10.0.0.8/robot"' in html
    with app.app_context():
        assert db.session().query(Webhook).count() == 0


def test_the_three_formats_as_the_receivers_got_them(app):
    seed_alert_town(app)
    with Receiver() as wecom, Receiver() as dingtalk, Receiver() as plain:
        add(app, wecom.url, "wecom", "--tiers", "red")
        add(app, dingtalk.url, "dingtalk", "--tiers", "blue")
        add(app, plain.url, "json", "--tiers", "yellow", "--scope", "PG01")
        counts = notify(app)
    assert counts == {"alerts": 12, "sent": 4, "failed": 0, "pending": 0}
    assert [b["msgtype"] for b in wecom.bodies] == ["markdown", "markdown"]
    contents = " ".join(b["markdown"]["content"] for b in wecom.bodies)
    assert "红色督办" in contents and "superior_late_1" in contents and "已逾期8天" in contents
    assert "](https://xuncha.example.cn/cases/" in contents
    (ding,) = dingtalk.bodies
    assert (
        ding["markdown"]["title"] == "【蓝色督办】due_in_2"
        and "2天后到期" in ding["markdown"]["text"]
    )
    (body,) = plain.bodies
    assert body["type"] == "alert" and body["count"] == 1 and body["day"] == "2026-06-15"
    (alert,) = body["alerts"]
    assert (alert["tier"], alert["title"], alert["overdue_days"], alert["cell_code"]) == (
        "yellow",
        "late_3",
        3,
        "PG01-01",
    )
    assert alert["url"].startswith("https://xuncha.example.cn/cases/")


def test_a_scope_outside_the_case_gets_nothing(app):
    seed_alert_town(app)
    with Receiver() as other:
        add(app, other.url, "json", "--scope", "PG02")
        notify(app)
    assert other.bodies == []


def test_500_then_200_is_one_failed_attempt_then_sent_once(app):
    seed_alert_town(app)
    with Receiver([500, 200]) as flaky:
        add(app, flaky.url, "json", "--tiers", "blue")
        first = notify(app)
        assert first == {"alerts": 12, "sent": 0, "failed": 1, "pending": 1}
        assert attempts(app) == [(500, "HTTP 500")]
        assert notify(app) == {"alerts": 0, "sent": 0, "failed": 0, "pending": 1}  # not due yet
        make_due_again(app)
        assert notify(app) == {"alerts": 0, "sent": 1, "failed": 0, "pending": 0}
        make_due_again(app)
        assert notify(app)["sent"] == 0
    assert len(flaky.bodies) == 2 and flaky.bodies[0] == flaky.bodies[1]
    assert attempts(app) == [(500, "HTTP 500"), (200, None)]
    with app.app_context():
        (message,) = db.session().scalars(select(OutboxMessage))
        assert (message.status, message.attempts, message.last_status_code) == ("sent", 2, 200)
        assert message.sent_at is not None


def test_the_retry_waits_base_times_two_to_the_n(app):
    seed_alert_town(app)
    app.config["WEBHOOK_RETRY_BASE_S"] = 100
    with Receiver([503, 503]) as down:
        add(app, down.url, "json", "--tiers", "blue")
        notify(app)
        with app.app_context():
            first = db.session().scalar(select(OutboxMessage.next_try_at))
        make_due_again(app)
        notify(app)
        with app.app_context():
            second = db.session().scalar(select(OutboxMessage.next_try_at))
    now = utcnow()
    assert timedelta(seconds=90) < first - now + timedelta(seconds=10) <= timedelta(seconds=110)
    assert timedelta(seconds=190) < second - now + timedelta(seconds=10) <= timedelta(seconds=210)


def test_a_receiver_that_hangs_is_a_failed_attempt_retried_never_a_duplicate(app):
    seed_alert_town(app)
    with Receiver([("hang", 2.5), 200]) as slow:
        add(app, slow.url, "wecom", "--tiers", "blue")
        assert notify(app) == {"alerts": 12, "sent": 0, "failed": 1, "pending": 1}
        ((code, error),) = attempts(app)
        assert code is None and "timed out" in error.lower()
        make_due_again(app)
        assert notify(app)["sent"] == 1
        make_due_again(app)
        assert notify(app)["sent"] == 0
    with app.app_context():
        (message,) = db.session().scalars(select(OutboxMessage))
        assert (message.status, message.attempts) == ("sent", 2)
    assert len(set(slow.message_ids)) == 1  # the same message both times, marked with its id


def test_given_up_after_the_most_attempts(app):
    seed_alert_town(app)
    app.config["WEBHOOK_MAX_ATTEMPTS"] = 2
    with Receiver([500, 500, 500]) as broken:
        add(app, broken.url, "json", "--tiers", "blue")
        notify(app)
        make_due_again(app)
        assert notify(app) == {"alerts": 0, "sent": 0, "failed": 1, "pending": 0}
        make_due_again(app)
        notify(app)
    assert len(broken.bodies) == 2
    with app.app_context():
        assert db.session().scalar(select(OutboxMessage.status)) == "failed"


def test_a_refused_connection_is_a_failed_attempt(app):
    seed_alert_town(app)
    with Receiver() as gone:
        url = gone.url
    add(app, url, "json", "--tiers", "blue")
    assert notify(app)["failed"] == 1
    ((code, error),) = attempts(app)
    assert code is None and "refused" in error.lower()


def test_more_than_the_threshold_arrive_as_one_digest(app):
    seed_alert_town(app)
    app.config["ALERT_DIGEST_OVER"] = 2
    with Receiver() as wecom, Receiver() as plain:
        add(app, wecom.url, "wecom")
        add(app, plain.url, "json")
        assert notify(app)["sent"] == 2
        assert notify(app)["sent"] == 0  # the day's alerts are covered: no second digest
    (digest,) = wecom.bodies
    assert "督办汇总 2026-06-15：共4条" in digest["markdown"]["content"]
    (body,) = plain.bodies
    assert body["type"] == "digest" and body["count"] == 4
    assert [a["tier"] for a in body["alerts"]] == ["red", "red", "yellow", "blue"]


def test_the_admin_page_shows_the_last_deliveries_and_disables(app, client):
    seed_alert_town(app)
    with Receiver([500]) as flaky:
        add(app, flaky.url, "json", "--tiers", "blue")
        notify(app)
    login(client, "admin")
    html = client.get("/admin/webhooks").get_data(as_text=True)
    assert "HTTP 500" in html and flaky.url in html and "<td>500</td>" in html
    token = csrf_token(client, "/admin/webhooks")
    with app.app_context():
        webhook_id = db.session().scalar(select(Webhook.id))
    response = client.post(
        f"/admin/webhooks/{webhook_id}/active", data={"csrf_token": token, "active": "0"}
    )
    assert response.status_code == 303
    with app.app_context():
        assert db.session().get(Webhook, webhook_id).active is False
