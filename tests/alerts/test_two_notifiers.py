"""Two `flask notify` processes at once on one database: each message reaches the receiver once."""

import json
import os
import subprocess
import sys
from collections import Counter
from datetime import timedelta

import shapely
from sqlalchemy import func, select

from inspection import db
from inspection.accounts.models import User
from inspection.alerts.models import DeliveryAttempt, OutboxMessage
from inspection.cases.records import create_case
from tests.alerts.conftest import TODAY, seed_alert_town
from tests.alerts.receivers import Receiver
from tests.conftest import ROOT

MORE_CASES = 30


def seed_many(app) -> None:
    """The alert town and MORE_CASES more cases overdue 1..30 days in group PG01-01."""
    seed_alert_town(app)
    with app.app_context():
        s = db.session()
        reporter = s.scalar(select(User).where(User.username == "wgy_a1"))
        for n in range(MORE_CASES):
            case, _ = create_case(
                s,
                "issue",
                shapely.Point(113.001, 30.001),
                {"title": f"c{n}", "category": "dust"},
                reporter,
            )
            case.status, case.deadline_on = "assigned", TODAY - timedelta(days=n + 1)
        s.commit()


def start_notifier(app) -> subprocess.Popen:
    """`flask notify --json` in its own process, on the app's database."""
    env = {
        **os.environ,
        "DATABASE_URL": app.config["DATABASE_URL"],
        "SECRET_KEY": "two-notifiers",
        "WEBHOOK_ALLOW_PRIVATE": "1",
        "ALERT_DIGEST_OVER": "1000",
        "WEBHOOK_TIMEOUT_S": "5",
    }
    command = [
        sys.executable,
        "-m",
        "flask",
        "--app",
        "app",
        "notify",
        "--today",
        TODAY.isoformat(),
        "--json",
    ]
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def test_two_notifiers_at_once_send_each_message_once(app):
    seed_many(app)
    with Receiver(
        [("hang", 0.05)] * 200
    ) as receiver:  # each answer takes a moment: the runs overlap
        result = app.test_cli_runner().invoke(
            args=["webhook", "add", receiver.url, "--format", "json"]
        )
        assert result.exit_code == 0, result.output
        notifiers = [start_notifier(app), start_notifier(app)]
        outputs = []
        for notifier in notifiers:
            out, err = notifier.communicate(timeout=120)
            assert notifier.returncode == 0, err[-2000:]
            outputs.append(json.loads(out))
    with app.app_context():
        s = db.session()
        messages = s.scalar(select(func.count(OutboxMessage.id)))
        sent = s.scalar(select(func.count(OutboxMessage.id)).where(OutboxMessage.status == "sent"))
        tries = s.scalar(select(func.count(DeliveryAttempt.id)))
    expected = 4 + MORE_CASES  # one message per case and tier of the day
    assert messages == sent == tries == expected
    assert sum(o["sent"] for o in outputs) == expected
    assert all(o["sent"] > 0 for o in outputs), outputs  # the two really ran at once
    # overdue 1–7 days: yellow to 2 people; 8–30 days: red to 4; each computed once between them
    assert sum(o["alerts"] for o in outputs) == 12 + 7 * 2 + (MORE_CASES - 7) * 4
    counts = Counter(receiver.message_ids)
    assert len(counts) == expected and set(counts.values()) == {1}
    assert len(receiver.bodies) == expected
