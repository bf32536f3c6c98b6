"""The alerts tests' town: the seeded town and county staff, and hand-made cases due around a day."""

from datetime import date, timedelta

import pytest
import shapely
from sqlalchemy import select

from inspection import db
from inspection.accounts.models import User
from inspection.cases.models import Case
from inspection.cases.records import create_case
from tests.cases.test_report_forms import seed_town
from tests.conftest import migrated_app

TODAY = date(2026, 6, 15)
# title: (days from TODAY to the deadline or None, status, source)
CASES = {
    "due_in_2": (2, "assigned", "patrol"),
    "late_3": (-3, "in_progress", "patrol"),
    "late_8": (-8, "assigned", "public"),
    "superior_late_1": (-1, "assigned", "superior"),
    "closed_late_10": (-10, "verified", "patrol"),
    "void_late_10": (-10, "void", "patrol"),
    "no_deadline": (None, "assigned", "patrol"),
}


@pytest.fixture
def app(tmp_path, db_url):
    """An app on a fresh database of each backend (webhooks to loopback receivers allowed)."""
    app = migrated_app(
        tmp_path,
        DATABASE_URL=db_url,
        WEBHOOK_ALLOW_PRIVATE=True,
        WEBHOOK_TIMEOUT_S=1,
        WEBHOOK_RETRY_BASE_S=60,
        PUBLIC_URL="https://xuncha.example.cn",
    )
    yield app
    app.extensions["db_engine"].dispose()


def seed_alert_town(app) -> dict[str, int]:
    """The seeded town (tests/cases), a county user `xian`, and CASES in group PG01-01; ids by title."""
    seed_town(app)
    with app.app_context():
        s = db.session()
        admin = s.scalar(select(User).where(User.username == "admin"))
        s.add(
            User(
                username="xian",
                display_name="县局",
                role="county",
                password_hash=admin.password_hash,
            )
        )
        s.add(
            User(
                username="xian_off",
                display_name="停用",
                role="county",
                password_hash=admin.password_hash,
                active=False,
            )
        )
        reporter = s.scalar(select(User).where(User.username == "wgy_a1"))
        ids = {}
        for title, (days, status, source) in CASES.items():
            case, _ = create_case(
                s,
                "issue",
                shapely.Point(113.0025, 30.005),
                {"title": title, "category": "garbage"},
                reporter,
            )
            case.status, case.source = status, source
            case.deadline_on = None if days is None else TODAY + timedelta(days=days)
            ids[title] = case.id
        s.commit()
        assert s.scalar(select(Case.deadline_on).where(Case.title == "河边垃圾")) is None
        return ids
