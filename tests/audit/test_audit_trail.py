"""The audit trail: every change to a case, user or grid leaves a row; refusals are logged; /audit."""

import io
import json
import re

import pytest
import shapely
from sqlalchemy import select

from app import create_app
from inspection import db, migrate
from inspection.accounts.models import User
from inspection.accounts.tokens import create_token, revoke_token
from inspection.audit import trail
from inspection.audit.reader import detail_lines
from inspection.cases.models import Case
from inspection.cases.records import create_case
from inspection.grid.models import GridCell
from inspection.journal import AuditEntry
from tests.cases.test_report_forms import IN_A1, jpeg_bytes, post_report, seed_town
from tests.conftest import csrf_token, login

CHANGE_EVENTS = ("case.", "user.", "grid.")


@pytest.fixture
def audit_app(db_url, tmp_path):
    """An app on a fresh database of each backend with the seeded town (tests/test_report_forms)."""
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test",
            "DATABASE_URL": db_url,
            "PHOTO_DIR": str(tmp_path / "photos"),
        }
    )
    with app.app_context():
        migrate.upgrade(app.extensions["db_engine"])
    app.config["ids"] = seed_town(app)
    yield app
    app.extensions["db_engine"].dispose()


@pytest.fixture
def client(audit_app):
    """A test client of the audited app."""
    return audit_app.test_client()


def rows(app, **where) -> list[AuditEntry]:
    """The audit rows matching column values, oldest first."""
    with app.app_context():
        query = select(AuditEntry).filter_by(**where).order_by(AuditEntry.id)
        return list(db.session.scalars(query))


def last_id(app) -> int:
    """The id of the newest audit row (0 if none)."""
    with app.app_context():
        return db.session.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc())) or 0


def change_rows_after(app, start: int) -> list[AuditEntry]:
    """The change rows (case/user/grid) written after the row `start`."""
    return [r for r in rows(app) if r.id > start and r.event.startswith(CHANGE_EVENTS)]


def test_seeding_outside_a_request_is_logged_as_system(audit_app):
    case_id = audit_app.config["ids"]["case"]

    [created] = rows(audit_app, event="case.create")

    assert created.target == f"case:{case_id}"
    assert created.username == "system" and created.user_id is None
    assert created.details["values"]["title"] == "河边垃圾"
    assert created.details["values"]["geometry"] == "Point"
    assert {r.event for r in rows(audit_app)} >= {"grid.create", "user.create", "case.photo"}


def test_report_form_logs_the_case_and_its_photo_by_the_reporter(audit_app, client):
    login(client, "wgy_a1")
    start = last_id(audit_app)

    response = post_report(
        client,
        title="路边垃圾",
        geometry=IN_A1,
        files={"photos": (io.BytesIO(jpeg_bytes()), "a.jpg")},
    )

    assert response.status_code == 303
    case_id = int(response.headers["Location"].rsplit("/", 1)[1])
    new = change_rows_after(audit_app, start)
    assert [r.event for r in new] == ["case.create", "case.photo"]
    assert {r.target for r in new} == {f"case:{case_id}"}
    assert {r.username for r in new} == {"wgy_a1"}
    assert new[0].address == "127.0.0.1"
    values = new[0].details["values"]
    assert values["title"] == "路边垃圾" and values["status"] == "reported"
    assert new[1].details["values"]["stage"] == "before"
    assert trail.current_actor().username == "system"  # the request's actor ended with it


def test_workflow_action_logs_the_status_change_by_the_actor(audit_app, client):
    case_id = audit_app.config["ids"]["case"]
    login(client, "zhangzhen")
    start = last_id(audit_app)
    html = client.get(f"/cases/{case_id}").get_data(as_text=True)
    token = csrf_token(client, f"/cases/{case_id}")
    version = re.search(r'name="expected_version" value="(\d+)"', html).group(1)

    response = client.post(
        f"/cases/{case_id}/actions/void",
        data={"note": "重复上报", "csrf_token": token, "expected_version": version},
    )

    assert response.status_code == 303
    [row] = change_rows_after(audit_app, start)
    assert (row.event, row.target, row.username) == ("case.status", f"case:{case_id}", "zhangzhen")
    assert row.details["changes"]["status"] == ["reported", "void"]
    assert "version" not in row.details["changes"]
    assert "status: reported → void" in detail_lines(row.details)


def test_edit_logs_old_and_new_values_and_geometry_as_a_summary(audit_app):
    case_id = audit_app.config["ids"]["case"]
    with audit_app.app_context():
        s = db.session()
        editor = s.scalars(select(User).where(User.username == "cz_a")).one()
        editor_id = editor.id
        start = last_id(audit_app)
        case = s.get(Case, case_id)
        with trail.acting(editor):
            case.title = "河边垃圾（已核实）"
            square = shapely.box(113.001, 30.001, 113.002, 30.002)
            case.set_geometry(square, 9999.0)
            s.commit()

    [row] = change_rows_after(audit_app, start)
    assert (row.event, row.username, row.user_id) == ("case.update", "cz_a", editor_id)
    changes = row.details["changes"]
    assert changes["title"] == ["河边垃圾", "河边垃圾（已核实）"]
    assert changes["geometry"] == "changed, Point → Polygon, area — → 9999.0 m²"
    assert not {"point_lon", "min_lon", "area_m2", "updated_at"} & set(changes)
    assert "113.001" not in json.dumps(row.details)


def test_user_change_logs_fields_and_a_password_change_without_the_hash(audit_app):
    with audit_app.app_context():
        s = db.session()
        admin = s.scalars(select(User).where(User.username == "admin")).one()
        user = s.scalars(select(User).where(User.username == "wgy_a2")).one()
        cell = s.scalars(select(GridCell).where(GridCell.code == "PG01-01")).one()
        old_hash, _ = user.password_hash, list(user.cells)  # loaded: one flush below
        start = last_id(audit_app)
        with trail.acting(admin, address="10.0.0.9"):
            user.phone = "13900000000"
            user.active = False
            user.cells = [cell]
            user.set_password("a new secret 1")
            user.session_version += 1
            s.commit()
        user_id = user.id

    [row] = [r for r in change_rows_after(audit_app, start) if r.event.startswith("user.")]
    assert (row.event, row.target, row.username, row.address) == (
        "user.update",
        f"user:{user_id}",
        "admin",
        "10.0.0.9",
    )
    changes = row.details["changes"]
    assert changes["phone"] == ["13800000001", "13900000000"]
    assert changes["active"] == [True, False]
    assert changes["cells"] == [["PG01-02"], ["PG01-01"]]
    assert changes["password"] == "changed"
    assert "session_version" not in changes
    text = json.dumps([r.details for r in rows(audit_app)])
    assert old_hash not in text and "scrypt" not in text and "pbkdf2" not in text


def test_grid_cell_create_update_and_delete_are_logged(audit_app):
    with audit_app.app_context():
        s = db.session()
        start = last_id(audit_app)
        with trail.acting(None, name="cli"):
            parent = s.scalars(select(GridCell).where(GridCell.code == "PG02")).one()
            cell = GridCell(level="group", code="PG02-02", name="四组", area_m2=1000.0)
            cell.set_boundary(shapely.box(113.015, 30.0, 113.02, 30.005))
            s.add(cell)
            cell.parent = parent
            s.commit()
            cell.name = "四组（新）"
            cell.set_boundary(shapely.box(113.015, 30.0, 113.02, 30.006))
            cell.area_m2 = 1200.0
            s.commit()
            s.delete(cell)
            s.commit()

    created, updated, deleted = change_rows_after(audit_app, start)
    assert [r.event for r in (created, updated, deleted)] == [
        "grid.create",
        "grid.update",
        "grid.delete",
    ]
    assert {r.target for r in (created, updated, deleted)} == {"grid:PG02-02"}
    assert {r.username for r in (created, updated, deleted)} == {"cli"}
    assert created.details["values"]["geometry"] == "MultiPolygon, 1000.0 m²"
    assert updated.details["changes"]["name"] == ["四组", "四组（新）"]
    assert updated.details["changes"]["geometry"] == "changed, area 1000.0 → 1200.0 m²"
    assert deleted.details["values"]["code"] == "PG02-02"


def test_deleting_a_photo_then_the_case_logs_each_once(audit_app):
    case_id = audit_app.config["ids"]["case"]
    with audit_app.app_context():
        s = db.session()
        start = last_id(audit_app)
        case = s.get(Case, case_id)
        case.photos.remove(case.photos[0])  # delete-orphan: the photo row goes
        s.commit()
        s.expire_all()  # the case's attributes expire: the delete must not need them after
        s.delete(s.get(Case, case_id))
        s.commit()

    photo, case = change_rows_after(audit_app, start)
    assert (photo.event, photo.target) == ("case.photo_delete", f"case:{case_id}")
    assert photo.details["values"]["stage"] == "before"
    assert (case.event, case.target) == ("case.delete", f"case:{case_id}")
    assert case.details["values"]["title"] == "河边垃圾"


def test_a_rolled_back_change_leaves_no_audit_row(audit_app):
    case_id = audit_app.config["ids"]["case"]
    with audit_app.app_context():
        s = db.session()
        start = last_id(audit_app)
        case = s.get(Case, case_id)
        case.title = "不会保存"
        s.flush()  # the audit row is written in the flush …
        assert last_id(audit_app) == start  # … but no one else sees it before commit
        s.rollback()  # … and it goes with the change

    assert change_rows_after(audit_app, start) == []
    with audit_app.app_context():
        assert db.session.get(Case, case_id).title == "河边垃圾"


def test_case_outside_the_users_grid_is_logged_as_refused(audit_app, client):
    case_id = audit_app.config["ids"]["case"]
    login(client, "wgy_a2")

    assert client.get(f"/cases/{case_id}").status_code == 404
    assert client.get("/cases/999999").status_code == 404  # no such case: a plain 404
    assert client.get("/no/such/page").status_code == 404

    [row] = rows(audit_app, event="access_refused")
    assert (row.username, row.target) == ("wgy_a2", f"case:{case_id}")
    assert row.details == {"method": "GET", "path": f"/cases/{case_id}", "status": 404}


def test_forbidden_action_is_logged_as_refused_and_changes_nothing(audit_app, client):
    case_id = audit_app.config["ids"]["case"]
    login(client, "wgy_a1")
    start = last_id(audit_app)
    token = csrf_token(client, f"/cases/{case_id}")

    response = client.post(
        f"/cases/{case_id}/actions/void", data={"note": "不是我的事", "csrf_token": token}
    )

    assert response.status_code == 403
    [row] = [r for r in rows(audit_app) if r.id > start]
    assert (row.event, row.username, row.target) == ("access_refused", "wgy_a1", f"case:{case_id}")
    assert row.details["status"] == 403


@pytest.mark.parametrize(
    ("username", "status"),
    [("admin", 200), ("zhangzhen", 200), ("wgy_a1", 403), ("cz_a", 403), ("liuwei", 403)],
)
def test_audit_page_is_for_admins_and_supervisors(audit_app, client, username, status):
    login(client, username)

    response = client.get("/audit")

    assert response.status_code == status
    if status == 403:
        assert rows(audit_app, event="access_refused")[-1].details["path"] == "/audit"


def test_audit_page_is_newest_first_and_filters(audit_app, client):
    case_id = audit_app.config["ids"]["case"]
    login(client, "wgy_a2")
    client.get(f"/cases/{case_id}")  # refused: an access_refused row for case:N
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/cases")})
    login(client, "zhangzhen")

    def events(**args) -> list[str]:
        html = client.get("/audit", query_string=args).get_data(as_text=True)
        return [line.split('"')[1] for line in html.split("data-event=")[1:]]

    everything = events()
    assert everything[0] == "login"  # zhangzhen's own login is the newest
    assert "grid.create" in everything and "case.create" in everything
    assert set(events(target=f"case:{case_id}")) == {"access_refused", "case.create", "case.photo"}
    assert set(events(user="wgy_a2")) == {"login", "logout", "access_refused"}
    assert set(events(action="case")) == {"case.create", "case.photo"}
    assert events(action="access_refused") == ["access_refused"]
    assert events(target="case:424242") == []
    html = client.get("/audit", query_string={"target": f"case:{case_id}"}).get_data(as_text=True)
    assert "title: 河边垃圾" in html and f'href="/cases/{case_id}"' in html
    assert "village_id: 平岗村 (#" in html and "reporter_id: 用户0 (#" in html  # ids named


def test_audit_page_pages(audit_app, client):
    with audit_app.app_context():
        s = db.session()
        s.add_all(AuditEntry(event="login_failed", username=f"guess{i}") for i in range(60))
        s.commit()
    login(client, "admin")

    first = client.get("/audit?action=login_failed").get_data(as_text=True)
    second = client.get("/audit?action=login_failed&page=2").get_data(as_text=True)

    assert first.count('data-event="login_failed"') == 50 and "page=2" in first
    assert second.count('data-event="login_failed"') == 10 and "page=1" in second
    assert "guess59" in first and "guess0<" in second


def test_cli_changes_are_logged_as_the_system(audit_app):
    result = audit_app.test_cli_runner().invoke(
        args=["create-user", "newbie", "--role", "officer", "--password", "longenough1"]
    )

    assert result.exit_code == 0, result.output
    [row] = rows(audit_app, event="user.create")[-1:]
    assert row.username == "system" and row.details["values"]["username"] == "newbie"
    assert "password" not in json.dumps(row.details)


def test_map_of_a_cell_outside_the_users_grid_is_logged_as_refused(audit_app, client):
    login(client, "wgy_a2")  # group PG01-02

    assert client.get("/map/group/PG01-01").status_code == 404
    assert client.get("/map/group/NOPE").status_code == 404  # no such cell: a plain 404

    [row] = rows(audit_app, event="access_refused")
    assert (row.username, row.target) == ("wgy_a2", "grid:PG01-01")
    assert row.details == {"method": "GET", "path": "/map/group/PG01-01", "status": 404}


def test_api_feature_outside_the_users_grid_is_logged_as_refused(audit_app, client):
    case_id = audit_app.config["ids"]["case"]  # in group PG01-01
    with audit_app.app_context():
        cell_id = db.session.scalar(select(GridCell.id).where(GridCell.code == "PG01-01"))
    login(client, "wgy_a2")

    answers = [
        client.get(f"/api/collections/issues/items/{case_id}"),
        client.get(f"/api/collections/grid/items/{cell_id}"),
        client.get("/api/collections/issues/items/999999"),  # none of these is hidden: no row
        client.get(f"/api/collections/farmland/items/{case_id}"),
        client.get("/api/collections/issues/items/abc"),
    ]

    assert [a.status_code for a in answers] == [404] * 5
    assert answers[0].json == {"code": "NotFound", "description": f"no feature {case_id} in issues"}
    refused = rows(audit_app, event="access_refused")
    assert [(r.username, r.target, r.details["status"]) for r in refused] == [
        ("wgy_a2", f"case:{case_id}", 404),
        ("wgy_a2", "grid:PG01-01", 404),
    ]


def test_refused_api_tokens_are_logged_without_the_token(audit_app, client):
    with audit_app.app_context():
        s = db.session()
        zhangzhen = s.scalar(select(User).where(User.username == "zhangzhen"))
        row, token = create_token(s, zhangzhen, "old QGIS")
        s.commit()
        revoke_token(s, row.id)
        s.commit()
        token_id = row.id

    for header in (f"Bearer {token}", "Bearer nonsense", "Basic emhhbmd6aGVuOmRlbW8xMjM0"):
        answer = client.get("/api/collections", headers={"Authorization": header})
        assert answer.status_code == 401

    refused = rows(audit_app, event="api_token_refused")
    assert [(r.target, r.details, r.address, r.user_id) for r in refused] == [
        (
            f"api_token:{token_id}",
            {"reason": "revoked", "path": "/api/collections"},
            "127.0.0.1",
            None,
        ),
        (None, {"reason": "unknown", "path": "/api/collections"}, "127.0.0.1", None),
        (None, {"reason": "malformed", "path": "/api/collections"}, "127.0.0.1", None),
    ]
    assert token not in json.dumps([r.details for r in refused])


@pytest.fixture
def county_app(db_url, tmp_path):
    """An app on a fresh database of each backend with the seeded county of two towns."""
    from tests.test_route_access import seed_county

    app = create_app(
        {"TESTING": True, "SECRET_KEY": "test", "DATABASE_URL": db_url, "PHOTO_DIR": str(tmp_path)}
    )
    with app.app_context():
        migrate.upgrade(app.extensions["db_engine"])
    app.config["ids"] = seed_county(app)
    yield app
    app.extensions["db_engine"].dispose()


def test_a_town_supervisor_reads_only_his_towns_lines_in_a_county(county_app):
    audit_app, client = county_app, county_app.test_client()
    with audit_app.app_context():
        s = db.session()
        reporter = s.scalar(select(User).where(User.username == "zhang_sq"))
        case, _ = create_case(
            s, "issue", shapely.Point(113.03, 30.005), {"title": "石桥镇的垃圾", "category": "garbage"},
            reporter,
        )  # fmt: skip
        s.commit()
        sq_case = case.id
    pg_case = audit_app.config["ids"]["case"]

    def targets(username: str) -> set[str]:
        login(client, username)
        html = client.get("/audit").get_data(as_text=True)
        client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/")})
        return set(re.findall(r'data-target="([^"]*)"', html))

    pg_lines, sq_lines, county_lines = targets("zhangzhen"), targets("zhang_sq"), targets("xian")
    assert f"case:{pg_case}" in pg_lines and f"case:{sq_case}" not in pg_lines
    assert f"case:{sq_case}" in sq_lines and f"case:{pg_case}" not in sq_lines
    assert not any(t.startswith("grid:") for t in pg_lines | sq_lines)  # the grid is the county's
    assert {f"case:{pg_case}", f"case:{sq_case}", "grid:SQ"} <= county_lines
    with audit_app.app_context():
        sq_town = db.session.scalar(select(GridCell.id).where(GridCell.code == "SQ"))
    assert {r.town_id for r in rows(audit_app, target=f"case:{sq_case}")} == {sq_town}
