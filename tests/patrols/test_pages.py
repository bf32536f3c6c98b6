"""The patrol pages: upload (the command's reader), the patrol page, privacy by kind of user, linked cases, purge."""

import io
import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from inspection import clock, db
from inspection.cases.models import Case
from inspection.journal import AuditEntry
from inspection.patrols.models import Patrol, PatrolBatch, PatrolCase, PatrolSegment
from tests.cases.test_report_forms import post_report
from tests.conftest import csrf_token, login
from tests.patrols.support import gpx, walk


def upload(client, data: bytes, name="walk.gpx", **fields):
    """Post the upload form with a file."""
    token = csrf_token(client, "/patrols/upload")
    return client.post(
        "/patrols/upload",
        data={"csrf_token": token, "track": (io.BytesIO(data), name), **fields},
        content_type="multipart/form-data",
    )


def patrols(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Patrol.id)))


@pytest.fixture
def owner(town_app):
    client = town_app.test_client()
    login(client, "wgy_a1")
    return client


def test_upload_makes_the_patrol_and_its_page_shows_it(town_app, owner):
    answer = upload(owner, gpx(walk(11), accuracy={3: 75}))

    assert answer.status_code == 303
    page = owner.get(answer.headers["Location"])
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "0.11 km" in html and "2024-05-06 08:30" in html and "2024-05-06 08:31" in html
    assert re.search(r'data-reason="accuracy">[^<]*50[^<]* 1<', html)
    assert 'data-reason="speed">' in html and "L.polyline" in html
    points = re.search(r'class="points">([^<]*)<', html).group(1)
    assert "10" in points and "11" in points


def test_the_same_file_uploaded_twice_is_one_patrol_and_says_so(town_app, owner):
    data = gpx(walk(11))
    first = upload(owner, data)

    second = upload(owner, data)

    assert second.headers["Location"] == first.headers["Location"]
    html = owner.get(second.headers["Location"]).get_data(as_text=True)
    assert "已导入过" in html and patrols(town_app) == 1


@pytest.mark.parametrize(
    ("data", "name", "says"),
    [
        (b"<gpx><trk", "broken.gpx", "格式"),
        (b'<?xml version="1.0"?><!DOCTYPE gpx [<!ENTITY x SYSTEM "file:///etc/passwd">]><gpx/>',
         "xxe.gpx", "DOCTYPE"),
        (b"not a track at all", "walk.gpx", ""),
    ],
    ids=["malformed", "external-entity", "not-a-track"],
)  # fmt: skip
def test_a_bad_upload_says_why_and_stores_nothing(town_app, owner, data, name, says):
    answer = upload(owner, data, name)

    html = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert 'id="upload-error"' in html and says in html
    assert patrols(town_app) == 0


def test_an_upload_without_a_file_is_refused(town_app, owner):
    token = csrf_token(owner, "/patrols/upload")

    answer = owner.post("/patrols/upload", data={"csrf_token": token})

    assert answer.status_code == 422 and patrols(town_app) == 0


def test_a_grid_member_cannot_upload_for_someone_else(town_app, owner):
    with town_app.app_context():
        from inspection.accounts.models import User

        other = db.session.scalar(select(User.id).where(User.username == "wgy_a2"))

    answer = upload(owner, gpx(walk(4)), user_id=str(other))

    assert answer.status_code == 303
    with town_app.app_context():
        assert (
            db.session.scalar(select(Patrol)).user.username == "wgy_a1"
        )  # his own, not the other's


# Who sees wgy_a1's patrol (PG01-01 of village PG01): he, his village head, the town's supervisor, admins.
SEES = {"wgy_a1": 200, "cz_a": 200, "zhangzhen": 200, "admin": 200,
        "wgy_a2": 404, "cz_b": 404, "liuwei": 404}  # fmt: skip


@pytest.mark.parametrize("username", list(SEES))
def test_a_track_is_seen_only_by_its_people(town_app, owner, username):
    location = upload(owner, gpx(walk(6))).headers["Location"]
    patrol_id = int(location.rsplit("/", 1)[1])
    viewer = town_app.test_client()
    login(viewer, username)

    page = viewer.get(f"/patrols/{patrol_id}")
    track = viewer.get(f"/patrols/{patrol_id}/track.geojson")
    listed = f'/patrols/{patrol_id}"' in viewer.get("/patrols").get_data(as_text=True)

    assert page.status_code == track.status_code == SEES[username]
    assert listed == (SEES[username] == 200)
    if SEES[username] == 200:
        features = track.json["features"]
        assert len(features) == 1 and features[0]["geometry"]["type"] == "LineString"


def test_a_case_reported_on_patrol_is_linked_and_found_on_patrol(town_app, owner):
    patrol_id = str(uuid.uuid4())
    csrf = re.search(r'data-csrf="([^"]+)"', owner.get("/patrols/record").get_data(as_text=True))
    start = clock.utcnow() - timedelta(minutes=5)
    fixes = [[113.001, 30.001 + i * 1e-4, int((start + timedelta(seconds=10 * i)).timestamp() * 1000)
              + 0, 5] for i in range(5)]  # fmt: skip
    owner.post(f"/patrols/record/{patrol_id}/batches",
               json={"batch_id": "b-0000001", "fixes": fixes},
               headers={"X-CSRFToken": csrf.group(1)})  # fmt: skip

    linked = post_report(
        owner, title="河边垃圾", geometry="113.0015,30.0015", patrol_client_id=patrol_id
    )
    alone = post_report(owner, title="另一处", geometry="113.0016,30.0016")

    assert linked.status_code == alone.status_code == 303
    with town_app.app_context():
        s = db.session()
        patrol = s.scalar(select(Patrol))
        assert s.scalar(select(func.count()).select_from(PatrolCase)) == 1
        case = s.get(Case, s.scalar(select(PatrolCase.case_id)))
        assert case.title == "河边垃圾" and case.source == "patrol"
    html = owner.get(f"/patrols/{patrol.id}").get_data(as_text=True)
    assert "河边垃圾" in html and "另一处" not in html


def test_a_report_naming_another_users_patrol_is_not_linked(town_app, owner):
    other = town_app.test_client()
    login(other, "wgy_a2")
    patrol_id = str(uuid.uuid4())
    csrf = re.search(r'data-csrf="([^"]+)"', other.get("/patrols/record").get_data(as_text=True))
    fixes = [[113.006, 30.001, int((clock.utcnow() - timedelta(minutes=1)).timestamp() * 1000), 5]]
    other.post(f"/patrols/record/{patrol_id}/batches", json={"batch_id": "b-0000001", "fixes": fixes},
               headers={"X-CSRFToken": csrf.group(1)})  # fmt: skip

    post_report(owner, title="河边垃圾", geometry="113.0015,30.0015", patrol_client_id=patrol_id)

    with town_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(PatrolCase)) == 0


def test_an_imported_patrol_links_the_cases_reported_while_it_ran(town_app, owner):
    post_report(owner, title="巡查中发现", geometry="113.0015,30.0015")
    end = datetime.now(UTC)  # the file's last fix: after the report, before the upload
    fixes = walk(61, start=end - timedelta(minutes=30), every_s=30)

    location = upload(owner, gpx(fixes)).headers["Location"]

    html = owner.get(location).get_data(as_text=True)
    assert "巡查中发现" in html


def test_purge_deletes_patrols_past_retention_and_keeps_the_cases(town_app, tmp_path):
    runner = town_app.test_cli_runner()
    today = clock.town_today()
    for name, days_ago in (("old.gpx", 800), ("new.gpx", 700)):
        path = tmp_path / name
        path.write_bytes(
            gpx([(lon, lat, None) for lon, lat, _ in walk(4, lon0=113.001 + days_ago * 1e-6)])
        )
        day = (today - timedelta(days=days_ago)).isoformat()
        runner.invoke(args=["import-patrol", str(path), "--user", "wgy_a1", "--date", day])
    with town_app.app_context():
        s = db.session()
        old = s.scalar(select(Patrol).where(Patrol.day < today - timedelta(days=730)))
        s.add(PatrolCase(case_id=town_app.config["SEED"]["case"], patrol_client_id=old.client_id))
        s.commit()

    dry = runner.invoke(args=["purge-patrols", "--dry-run"])
    done = runner.invoke(args=["purge-patrols"])

    assert "1" in dry.stdout and patrols(town_app) == 1
    assert done.exit_code == 0 and "1" in done.stdout
    with town_app.app_context():
        s = db.session()
        assert s.scalar(select(func.count(Patrol.id))) == 1
        assert s.scalar(select(func.count()).select_from(PatrolBatch)) == 1
        assert s.scalar(select(func.count()).select_from(PatrolSegment)) == 1
        assert s.scalar(select(func.count()).select_from(PatrolCase)) == 0
        assert s.get(Case, town_app.config["SEED"]["case"]) is not None
        entry = s.scalar(select(AuditEntry).where(AuditEntry.event == "patrol.purge"))
        assert entry.details["patrols"] == 1
