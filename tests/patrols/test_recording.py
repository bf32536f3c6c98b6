"""The phone's batches: a resent batch stored once, another's patrol 404, bad batches refused whole, the end."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from pyproj import Geod
from sqlalchemy import func, select

from inspection import db
from inspection.patrols.models import Patrol, PatrolBatch
from tests.conftest import login
from tests.patrols.support import batch, post_json, walk

PATROL = "3f6c2a9e-1b7d-4c1e-9a55-0d2e8f7b6a10"
GEOD = Geod(ellps="GRS80")
NOW = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)


def token(client) -> str:
    """The CSRF token of the phone's patrol page."""
    html = client.get("/patrols/record").get_data(as_text=True)
    return re.search(r'data-csrf="([^"]+)"', html).group(1)


@pytest.fixture
def phone(town_app):
    """A client logged in as wgy_a1 on the patrol page, and its token."""
    client = town_app.test_client()
    login(client, "wgy_a1")
    return client, token(client)


def rows(app, model=Patrol) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_batches_make_one_patrol_and_a_resent_batch_is_stored_once(town_app, phone):
    client, csrf = phone
    fixes = walk(20, start=NOW)
    url = f"/patrols/record/{PATROL}/batches"

    first = post_json(client, url, batch(fixes[:10], "b-0000001"), csrf)
    resent = post_json(client, url, batch(fixes[:10], "b-0000001"), csrf)  # its answer was lost
    second = post_json(client, url, batch(fixes[9:], "b-0000002"), csrf)  # one fix again: same time
    ended = post_json(client, f"/patrols/record/{PATROL}/end", {}, csrf)
    again = post_json(client, f"/patrols/record/{PATROL}/end", {}, csrf)

    assert first.status_code == resent.status_code == second.status_code == 200
    assert first.json["stored"] is True and resent.json["stored"] is False
    assert ended.json["status"] == "ended" and again.json == ended.json
    assert rows(town_app) == 1 and rows(town_app, PatrolBatch) == 2
    lon = [f[0] for f in fixes]
    lat = [f[1] for f in fixes]
    assert ended.json["kept"] == 20 and ended.json["points"] == 21
    assert ended.json["length_m"] == pytest.approx(
        sum(GEOD.inv(lon[:-1], lat[:-1], lon[1:], lat[1:])[2]), abs=1e-6
    )
    with town_app.app_context():
        patrol = db.session.scalar(select(Patrol))
        assert patrol.dropped_duplicate_time == 1 and patrol.origin == "phone"
        assert patrol.user.username == "wgy_a1" and patrol.town.code == "PG"


def test_a_batch_for_another_users_patrol_is_404_and_stores_nothing(town_app, phone):
    client, csrf = phone
    post_json(client, f"/patrols/record/{PATROL}/batches", batch(walk(3, start=NOW)), csrf)
    other = town_app.test_client()
    login(other, "wgy_a2")

    answer = post_json(
        other,
        f"/patrols/record/{PATROL}/batches",
        batch(walk(3, start=NOW), "b-0000009"),
        token(other),
    )
    end = post_json(other, f"/patrols/record/{PATROL}/end", {}, token(other))

    assert answer.status_code == 404 and answer.json["code"] == "patrol_not_found"
    assert end.status_code == 404
    assert rows(town_app, PatrolBatch) == 1
    with town_app.app_context():
        assert db.session.scalar(select(Patrol.status)) == "running"


FUTURE_MS = int((datetime.now(UTC) + timedelta(hours=2)).timestamp() * 1000)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"batch_id": "b-0000001", "fixes": []}, "batch_empty"),
        ({"batch_id": "b-0000001", "fixes": "nope"}, "batch_empty"),
        ({"batch_id": "short", "fixes": [[113.001, 30.001, 1714955400000, 5]]}, "bad_batch_id"),
        ({"fixes": [[113.001, 30.001, 1714955400000, 5]]}, "bad_batch_id"),
        ({"batch_id": "b-0000001", "fixes": [[113.001, 30.001, 1714955400000]]}, "bad_fix"),
        ({"batch_id": "b-0000001", "fixes": [[113.001, "30", 1714955400000, 5]]}, "bad_fix"),
        ({"batch_id": "b-0000001", "fixes": [[113.001, True, 1714955400000, 5]]}, "bad_fix"),
        ({"batch_id": "b-0000001", "fixes": [[213.0, 95.0, 1714955400000, 5]]}, "fix_out_of_range"),
        ({"batch_id": "b-0000001", "fixes": [[113.001, 30.001, FUTURE_MS, 5]]}, "fix_in_future"),
        ({"batch_id": "b-0000001", "fixes": [[113.001, 30.001, 1714955400000, 5]] * 2001},
         "batch_too_big"),
    ],
    ids=["empty", "not-a-list", "bad-id", "no-id", "three-numbers", "text", "boolean", "range",
         "future", "too-big"],
)  # fmt: skip
def test_a_bad_batch_is_refused_whole(town_app, phone, body, code):
    client, csrf = phone
    good = batch(walk(2, start=NOW), "b-0000000")["fixes"]
    if isinstance(body.get("fixes"), list) and body["fixes"] and code != "batch_too_big":
        body = {**body, "fixes": good + body["fixes"]}  # good fixes first: none of them is kept

    answer = post_json(client, f"/patrols/record/{PATROL}/batches", body, csrf)

    assert answer.status_code == 422 and answer.json["code"] == code, answer.json
    assert answer.json["message"]
    assert rows(town_app) == rows(town_app, PatrolBatch) == 0


def test_nan_in_a_batch_is_refused(town_app, phone):
    client, csrf = phone
    body = '{"batch_id": "b-0000001", "fixes": [[NaN, 30.001, 1714955400000, 5]]}'

    answer = client.post(
        f"/patrols/record/{PATROL}/batches",
        data=body,
        content_type="application/json",
        headers={"X-CSRFToken": csrf},
    )

    assert answer.status_code == 422 and rows(town_app) == 0


def test_the_point_cap_holds_across_batches(town_app, phone):
    client, csrf = phone
    town_app.config["PATROL_MAX_POINTS"] = 15
    url = f"/patrols/record/{PATROL}/batches"
    fixes = walk(20, start=NOW)

    post_json(client, url, batch(fixes[:10], "b-0000001"), csrf)
    over = post_json(client, url, batch(fixes[10:], "b-0000002"), csrf)

    assert over.status_code == 422 and "15" in over.json["message"]
    assert rows(town_app, PatrolBatch) == 1


def test_a_stale_csrf_token_gets_json(town_app, phone):
    client, _csrf = phone

    answer = post_json(client, f"/patrols/record/{PATROL}/batches", batch(walk(2, start=NOW)), "x")

    assert answer.status_code == 400 and answer.json["code"] == "csrf"


def test_ending_a_patrol_that_never_sent_a_fix_is_404(town_app, phone):
    client, csrf = phone

    answer = post_json(client, f"/patrols/record/{PATROL}/end", {}, csrf)

    assert answer.status_code == 404 and rows(town_app) == 0
