"""The town's calendar: on a UTC server, the evening in UTC is already tomorrow in the town."""

from datetime import date, datetime

from inspection import clock
from inspection.cases.forms import _not_future


def test_town_today_follows_the_town_not_the_server(monkeypatch, app):
    monkeypatch.setattr(clock, "utcnow", lambda: datetime(2026, 12, 1, 20, 30))

    outside_app = clock.town_today()
    with app.app_context():
        shanghai = clock.town_today()
        app.config["TOWN_TIMEZONE"] = "Asia/Urumqi"  # UTC+6: still the 2nd
        urumqi = clock.town_today()
        app.config["TOWN_TIMEZONE"] = "Europe/London"
        london = clock.town_today()

    assert outside_app == shanghai == urumqi == date(2026, 12, 2)
    assert london == date(2026, 12, 1)


def test_local_time_is_shown_in_the_town(app):
    with app.app_context():
        assert clock.local_time(datetime(2026, 12, 1, 20, 30)) == "2026-12-02 04:30"
        assert clock.local_time(None) == ""


def test_a_date_of_the_town_today_is_not_in_the_future(monkeypatch, app):
    """At 04:30 in the town (20:30 UTC the day before) a report dated today is accepted."""
    monkeypatch.setattr(clock, "utcnow", lambda: datetime(2026, 12, 1, 20, 30))

    class Field:
        data = date(2026, 12, 2)

    with app.app_context():
        _not_future(None, Field())  # raises ValidationError if taken as the future
