"""The town's calendar: today and local times in the TOWN_TIMEZONE setting (Asia/Shanghai).

Call these as `clock.town_today()` (not imported by name) so that one monkeypatch pins the app's
clock in tests. A server on UTC is eight hours behind the town: `date.today()` there would call a
morning's report yesterday's and a deadline late by a day, so nothing else asks for today.
"""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

DEFAULT_TIMEZONE = "Asia/Shanghai"


def utcnow() -> datetime:
    """Naive UTC now, as stored in every `*_at` column."""
    return datetime.now(UTC).replace(tzinfo=None)


def local_day(at: datetime, timezone: str = DEFAULT_TIMEZONE) -> date:
    """The calendar day in a time zone (the town's by default) of a naive UTC timestamp."""
    return at.replace(tzinfo=ZoneInfo("UTC")).astimezone(ZoneInfo(timezone)).date()


def town_timezone() -> str:
    """The town's IANA time zone name: the app's TOWN_TIMEZONE, else Asia/Shanghai."""
    if has_app_context():
        return current_app.config.get("TOWN_TIMEZONE") or DEFAULT_TIMEZONE
    return DEFAULT_TIMEZONE


def town_today() -> date:
    """Today's date in the town's time zone."""
    return local_day(utcnow(), town_timezone())


def local_time(at: datetime | None) -> str:
    """A naive UTC timestamp as town-local 'YYYY-MM-DD HH:MM' ('' for None)."""
    if at is None:
        return ""
    zone = ZoneInfo(town_timezone())
    return at.replace(tzinfo=ZoneInfo("UTC")).astimezone(zone).strftime("%Y-%m-%d %H:%M")
