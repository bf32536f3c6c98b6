"""Admin pages: who may open them, users, sessions ended by disabling and passwords, grid, limits."""

import re
from datetime import date

import pytest
import shapely
from sqlalchemy import select

from app import create_app
from inspection import db, migrate
from inspection.accounts.models import User
from inspection.cases.deadlines import DEFAULT_DAYS, MAX_DAYS, deadline_days
from inspection.grid.models import GridCell
from inspection.journal import AuditEntry
from tests.conftest import csrf_token, login

PASSWORD = "demo1234"
ROLES = ("grid_member", "officer", "supervisor", "admin")
LOGIN_OF = {"grid_member": "wgy", "officer": "liuwei", "supervisor": "zhangzhen", "admin": "admin"}
ADMIN_PAGES = (
    "/admin/users",
    "/admin/users/new",
    "/admin/users/{admin_id}",
    "/admin/grid",
    "/admin/grid/PG01",
    "/admin/deadlines",
)


@pytest.fixture
def admin_app(db_url, tmp_path):
    """An app on a fresh database of each backend: a town, two villages with a group each, staff."""
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
        s = db.session()
        town = GridCell(level="town", code="PG", name="平岗镇")
        town.set_boundary(shapely.box(113.0, 30.0, 113.02, 30.01))
        cells = [town]
        for i, name in enumerate(["平岗村", "石桥村"]):
            village = GridCell(level="village", code=f"PG0{i + 1}", name=name, parent=town)
            village.set_boundary(shapely.box(113.0 + i * 0.01, 30.0, 113.01 + i * 0.01, 30.01))
            group = GridCell(level="group", code=f"PG0{i + 1}01", name="一组", parent=village)
            group.set_boundary(village.boundary)
            cells += [village, group]
        s.add_all(cells)
        template = User()
        template.set_password(PASSWORD)  # one slow hash for every seeded user
        for role, username in LOGIN_OF.items():
            s.add(
                User(
                    username=username,
                    display_name=f"{role}-name",
                    role=role,
                    password_hash=template.password_hash,
                    cert_number="42060022001" if role == "officer" else None,
                    cert_expires_on=date(2099, 12, 31) if role == "officer" else None,
                    cells=[cells[2]] if role == "grid_member" else [],
                )
            )
        s.commit()
        app.config["ADMIN_ID"] = s.scalar(select(User.id).where(User.username == "admin"))
    yield app
    app.extensions["db_engine"].dispose()


def as_user(app, username, password=PASSWORD):
    """A test client logged in as the user."""
    client = app.test_client()
    assert login(client, username, password).status_code in (302, 303)
    return client


def user_row(app, username) -> User | None:
    """The stored user (with cells loaded), or None."""
    with app.app_context():
        s = db.session()
        user = s.scalar(select(User).where(User.username == username))
        if user is not None:
            list(user.cells)
        return user


def audit_events(app, event) -> list[AuditEntry]:
    """The audit entries of one event, oldest first."""
    with app.app_context():
        return list(
            db.session.scalars(
                select(AuditEntry).where(AuditEntry.event == event).order_by(AuditEntry.id)
            )
        )


def cell_id(app, code) -> int:
    """The id of a cell by code."""
    with app.app_context():
        return db.session.scalar(select(GridCell.id).where(GridCell.code == code))


def new_user_form(client, **fields) -> dict:
    """The new-user form's fields with the page's CSRF token, overridden by `fields`."""
    data = {
        "csrf_token": csrf_token(client, "/admin/users/new"),
        "username": "wangfang",
        "display_name": "王芳",
        "phone": "13800000001",
        "role": "grid_member",
        "active": "y",
        "password": "secret-pass-1",
    }
    data.update(fields)
    return {k: v for k, v in data.items() if v is not None}


def edit_form(client, user_id, **fields) -> dict:
    """A user's edit form as the page shows it (values kept), overridden by `fields`."""
    html = client.get(f"/admin/users/{user_id}").get_data(as_text=True)
    data = {"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)}
    for name in ("display_name", "phone", "cert_number", "cert_expires_on"):
        match = re.search(rf'name="{name}"[^>]*value="([^"]*)"', html)
        data[name] = match.group(1) if match else ""
    data["role"] = re.search(r'<option selected value="(\w+)">', html).group(1)
    data["cell_ids"] = re.findall(r'<option selected value="(\d+)">', html)
    if re.search(r'name="active"[^>]*checked', html) or re.search(
        r'checked[^>]*name="active"', html
    ):
        data["active"] = "y"
    data.update(fields)
    return {k: v for k, v in data.items() if v is not None}


@pytest.mark.parametrize("role", [None, *ROLES])
def test_only_admins_open_the_admin_pages(admin_app, role):
    client = admin_app.test_client() if role is None else as_user(admin_app, LOGIN_OF[role])
    expected = {None: 302, "admin": 200}.get(role, 403)

    for page in ADMIN_PAGES:
        response = client.get(page.format(admin_id=admin_app.config["ADMIN_ID"]))

        assert response.status_code == expected, (role, page)
        if expected == 302:
            assert "/auth/login" in response.headers["Location"]
        if expected == 403:
            assert "只有管理员" in response.get_data(as_text=True)


@pytest.mark.parametrize("role", [None, *ROLES])
def test_anyone_logged_in_opens_the_password_page(admin_app, role):
    client = admin_app.test_client() if role is None else as_user(admin_app, LOGIN_OF[role])

    response = client.get("/account/password")

    assert response.status_code == (302 if role is None else 200)


@pytest.mark.parametrize("role", ROLES)
def test_admin_link_shows_for_admins_only(admin_app, role):
    html = as_user(admin_app, LOGIN_OF[role]).get("/").get_data(as_text=True)

    assert ('href="/admin/users"' in html) == (role == "admin")
    assert 'href="/account/password"' in html


def test_non_admin_post_is_refused_and_changes_nothing(admin_app):
    client = as_user(admin_app, "zhangzhen")
    token = csrf_token(client, "/")

    response = client.post(
        "/admin/deadlines", data={"csrf_token": token, **dict.fromkeys(DEFAULT_DAYS, "5")}
    )

    assert response.status_code == 403
    with admin_app.app_context():
        assert deadline_days(db.session()) == DEFAULT_DAYS


def test_create_user_then_log_in_as_him(admin_app):
    client = as_user(admin_app, "admin")
    group = cell_id(admin_app, "PG0101")

    response = client.post("/admin/users/new", data=new_user_form(client, cell_ids=[str(group)]))

    assert response.status_code == 303
    user = user_row(admin_app, "wangfang")
    assert user.display_name == "王芳" and user.role == "grid_member"
    assert [c.code for c in user.cells] == ["PG0101"]
    listing = client.get("/admin/users").get_data(as_text=True)
    assert "wangfang" in listing and "王芳" in listing and "一组 (PG0101)" in listing
    assert as_user(admin_app, "wangfang", "secret-pass-1").get("/").status_code == 200
    (entry,) = audit_events(admin_app, "user_created")
    assert entry.username == "admin" and entry.target == f"user:{user.id}"
    assert entry.details["username"] == "wangfang" and entry.details["cells"] == ["PG0101"]


def test_officer_without_certificate_is_refused_and_input_kept(admin_app):
    client = as_user(admin_app, "admin")

    response = client.post(
        "/admin/users/new", data=new_user_form(client, username="zhaoqiang", role="officer")
    )

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "执法队员须填写执法证号和有效期" in html
    assert 'value="zhaoqiang"' in html and 'value="王芳"' in html and 'value="13800000001"' in html
    assert user_row(admin_app, "zhaoqiang") is None


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"cert_number": "42060022009"}, "执法证号和有效期须同时填写或同时留空"),
        ({"cert_expires_on": "2030-01-01"}, "执法证号和有效期须同时填写或同时留空"),
        ({"cert_number": "X1", "cert_expires_on": "2030-02-30"}, "不是有效的日期"),
        ({"cert_number": "X1", "cert_expires_on": "9999-01-01"}, "执法证有效期须在"),
        ({"password": "short"}, "密码须为8至128位"),
        ({"username": "has space"}, "登录名须为2至64位"),
        ({"display_name": ""}, "请填写姓名"),
        ({"phone": "call me"}, "电话号码只能含数字"),
        ({"role": "king"}, "未知的角色：king"),
        ({"cell_ids": ["999999"]}, "所选网格不存在"),
        ({"cell_ids": ["abc"]}, "选择无效"),
    ],
)
def test_bad_user_input_is_refused_with_a_message(admin_app, fields, message):
    client = as_user(admin_app, "admin")

    response = client.post("/admin/users/new", data=new_user_form(client, **fields))

    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert user_row(admin_app, fields.get("username", "wangfang")) is None


def test_officer_with_certificate_is_created_and_an_expired_one_is_marked(admin_app):
    client = as_user(admin_app, "admin")

    response = client.post(
        "/admin/users/new",
        data=new_user_form(
            client,
            username="zhaoqiang",
            role="officer",
            cert_number="42060022007",
            cert_expires_on="2020-06-30",
        ),
    )

    assert response.status_code == 303
    listing = client.get("/admin/users").get_data(as_text=True)
    row = re.search(r'<tr data-user="zhaoqiang".*?</tr>', listing, re.S).group(0)
    assert "42060022007" in row and "2020-06-30" in row and "已过期" in row
    valid = re.search(r'<tr data-user="liuwei".*?</tr>', listing, re.S).group(0)
    assert "2099-12-31" in valid and "已过期" not in valid


@pytest.mark.parametrize("login_name", ["wgy", "WGY"])
def test_duplicate_login_is_a_form_error(admin_app, login_name):
    client = as_user(admin_app, "admin")

    response = client.post("/admin/users/new", data=new_user_form(client, username=login_name))

    assert response.status_code == 422
    assert f"登录名“{login_name}”已被使用" in response.get_data(as_text=True)
    with admin_app.app_context():
        assert len(db.session.scalars(select(User)).all()) == len(LOGIN_OF)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"role": "supervisor"}, "不能取消自己的管理员角色"),
        ({"active": None}, "不能停用自己的账号"),
    ],
)
def test_admin_cannot_demote_or_disable_himself(admin_app, fields, message):
    client = as_user(admin_app, "admin")
    admin_id = admin_app.config["ADMIN_ID"]

    response = client.post(f"/admin/users/{admin_id}", data=edit_form(client, admin_id, **fields))

    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    admin = user_row(admin_app, "admin")
    assert admin.role == "admin" and admin.active
    assert client.get("/admin/users").status_code == 200


def test_edit_changes_role_certificate_and_cells(admin_app):
    client = as_user(admin_app, "admin")
    member = user_row(admin_app, "wgy")
    village = cell_id(admin_app, "PG02")

    response = client.post(
        f"/admin/users/{member.id}",
        data=edit_form(
            client,
            member.id,
            role="officer",
            cert_number="42060022005",
            cert_expires_on="2030-12-31",
            cell_ids=[str(village)],
            display_name="吴刚",
        ),
    )

    assert response.status_code == 303
    member = user_row(admin_app, "wgy")
    assert (member.role, member.display_name, member.cert_number) == (
        "officer",
        "吴刚",
        "42060022005",
    )
    assert member.cert_expires_on == date(2030, 12, 31)
    assert [c.code for c in member.cells] == ["PG02"]
    (entry,) = audit_events(admin_app, "user_updated")
    assert set(entry.details["changed"]) == {"display_name", "role", "certificate", "cells"}
    assert entry.details["before"]["role"] == "grid_member"
    assert entry.details["after"]["cells"] == ["PG02"]


def test_disabling_a_user_ends_his_live_session(admin_app):
    victim = as_user(admin_app, "wgy")
    assert victim.get("/").status_code == 200
    client = as_user(admin_app, "admin")
    member = user_row(admin_app, "wgy")

    response = client.post(
        f"/admin/users/{member.id}", data=edit_form(client, member.id, active=None)
    )

    assert response.status_code == 303
    after = victim.get("/")
    assert after.status_code == 302 and "/auth/login" in after.headers["Location"]
    assert login(admin_app.test_client(), "wgy").status_code == 401
    assert len(audit_events(admin_app, "user_disabled")) == 1
    listing = client.get("/admin/users").get_data(as_text=True)
    assert re.search(r'<tr data-user="wgy" class="off">', listing)


def test_enabling_again_does_not_revive_the_old_session(admin_app):
    victim = as_user(admin_app, "wgy")
    client = as_user(admin_app, "admin")
    member = user_row(admin_app, "wgy")
    client.post(f"/admin/users/{member.id}", data=edit_form(client, member.id, active=None))

    client.post(f"/admin/users/{member.id}", data=edit_form(client, member.id, active="y"))

    assert user_row(admin_app, "wgy").active
    assert victim.get("/").status_code == 302
    assert as_user(admin_app, "wgy").get("/").status_code == 200
    assert len(audit_events(admin_app, "user_enabled")) == 1


def test_admin_password_reset_ends_his_sessions_and_the_new_one_works(admin_app):
    victim = as_user(admin_app, "wgy")
    client = as_user(admin_app, "admin")
    member = user_row(admin_app, "wgy")

    response = client.post(
        f"/admin/users/{member.id}", data=edit_form(client, member.id, password="brand-new-pw")
    )

    assert response.status_code == 303
    assert victim.get("/").status_code == 302
    assert login(admin_app.test_client(), "wgy").status_code == 401
    assert as_user(admin_app, "wgy", "brand-new-pw").get("/").status_code == 200
    assert len(audit_events(admin_app, "password_reset")) == 1
    (entry,) = audit_events(admin_app, "user_updated")
    assert "brand-new-pw" not in str(entry.details)


def test_admin_resetting_his_own_password_stays_logged_in(admin_app):
    other = as_user(admin_app, "admin")
    client = as_user(admin_app, "admin")
    admin_id = admin_app.config["ADMIN_ID"]

    response = client.post(
        f"/admin/users/{admin_id}", data=edit_form(client, admin_id, password="brand-new-pw")
    )

    assert response.status_code == 303
    assert client.get("/admin/users").status_code == 200
    assert other.get("/admin/users").status_code == 302


def change_password(client, old, new, again=None):
    """Post the password form with its CSRF token."""
    return client.post(
        "/account/password",
        data={
            "csrf_token": csrf_token(client, "/account/password"),
            "old_password": old,
            "new_password": new,
            "new_password2": new if again is None else again,
        },
    )


def test_password_change_ends_other_sessions_but_not_this_one(admin_app):
    phone = as_user(admin_app, "liuwei")
    desk = as_user(admin_app, "liuwei")

    response = change_password(desk, PASSWORD, "new-secret-9")

    assert response.status_code == 303
    page = desk.get("/")
    assert page.status_code == 200 and "其他会话已结束" in page.get_data(as_text=True)
    assert phone.get("/").status_code == 302
    assert login(admin_app.test_client(), "liuwei").status_code == 401
    assert as_user(admin_app, "liuwei", "new-secret-9").get("/").status_code == 200
    (entry,) = audit_events(admin_app, "password_changed")
    assert entry.username == "liuwei" and entry.target.startswith("user:")


@pytest.mark.parametrize(
    ("old", "new", "again", "message"),
    [
        ("wrong-password", "new-secret-9", None, "原密码不正确"),
        (PASSWORD, "short", None, "密码须为8至128位"),
        (PASSWORD, "new-secret-9", "new-secret-8", "两次输入的新密码不一致"),
        (PASSWORD, PASSWORD, None, "新密码不能与原密码相同"),
        ("", "new-secret-9", None, "请输入当前密码"),
    ],
)
def test_bad_password_change_is_refused(admin_app, old, new, again, message):
    client = as_user(admin_app, "liuwei")

    response = change_password(client, old, new, again)

    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert client.get("/").status_code == 200
    assert as_user(admin_app, "liuwei").get("/").status_code == 200
    assert audit_events(admin_app, "password_changed") == []


def test_grid_page_shows_the_tree_with_people(admin_app):
    client = as_user(admin_app, "admin")

    html = client.get("/admin/grid").get_data(as_text=True)

    town = html.index('data-cell="PG"')
    village = html.index('data-cell="PG01"')
    group = html.index('data-cell="PG0101"')
    assert town < village < group < html.index('data-cell="PG02"')
    assert "grid_member-name" in html[group:]
    assert "import-grid" in html


def test_grid_cell_edit_renames_and_sets_people(admin_app):
    client = as_user(admin_app, "admin")
    token = csrf_token(client, "/admin/grid/PG0201")
    officer = user_row(admin_app, "liuwei")
    member = user_row(admin_app, "wgy")

    response = client.post(
        "/admin/grid/PG0201",
        data={
            "csrf_token": token,
            "name": "石桥一组",
            "member_ids": [str(officer.id), str(member.id)],
        },
    )

    assert response.status_code == 303
    with admin_app.app_context():
        cell = db.session.scalar(select(GridCell).where(GridCell.code == "PG0201"))
        assert cell.name == "石桥一组"
        assert sorted(u.username for u in cell.members) == ["liuwei", "wgy"]
    assert sorted(c.code for c in user_row(admin_app, "wgy").cells) == ["PG0101", "PG0201"]
    (entry,) = audit_events(admin_app, "grid_cell_updated")
    assert entry.target == "grid:PG0201"
    assert entry.details["before"] == {"name": "一组", "members": []}
    assert entry.details["after"]["members"] == ["liuwei", "wgy"]


@pytest.mark.parametrize(
    ("fields", "status", "message"),
    [
        ({"name": ""}, 422, "请填写网格名称"),
        ({"name": "x" * 101}, 422, "100"),
        ({"name": "一组", "member_ids": ["424242"]}, 422, "所选人员不存在"),
    ],
)
def test_bad_grid_cell_input_is_refused(admin_app, fields, status, message):
    client = as_user(admin_app, "admin")
    token = csrf_token(client, "/admin/grid/PG0101")

    response = client.post("/admin/grid/PG0101", data={"csrf_token": token, **fields})

    assert response.status_code == status
    assert message in response.get_data(as_text=True)
    assert audit_events(admin_app, "grid_cell_updated") == []


def test_unknown_cell_and_user_are_404(admin_app):
    client = as_user(admin_app, "admin")

    assert client.get("/admin/grid/NOPE").status_code == 404
    assert client.get("/admin/users/999999").status_code == 404


def deadlines_form(client, **days) -> dict:
    """The time-limit form as shown, with some days changed."""
    html = client.get("/admin/deadlines").get_data(as_text=True)
    data = {"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)}
    for key in DEFAULT_DAYS:
        data[key] = re.search(rf'name="{key}"[^>]*value="([^"]*)"', html).group(1)
    data.update(days)
    return data


def test_deadlines_page_shows_each_limit_with_its_help(admin_app):
    html = as_user(admin_app, "admin").get("/admin/deadlines").get_data(as_text=True)

    assert "垃圾乱堆乱放：一周内清理" in html and "复耕地块：三个月内复耕" in html
    assert re.search(r'name="garbage"[^>]*value="7"', html)


def test_deadlines_edit_saves_and_audits(admin_app):
    client = as_user(admin_app, "admin")

    response = client.post("/admin/deadlines", data=deadlines_form(client, garbage="5"))

    assert response.status_code == 303
    with admin_app.app_context():
        assert deadline_days(db.session())["garbage"] == 5
    (entry,) = audit_events(admin_app, "deadlines_updated")
    assert entry.details == {"changed": {"garbage": [7, 5]}}
    assert re.search(
        r'name="garbage"[^>]*value="5"', client.get("/admin/deadlines").get_data(as_text=True)
    )


@pytest.mark.parametrize("value", ["0", "-3", "2.5", "abc", "", str(MAX_DAYS + 1), "9" * 40])
def test_bad_deadline_values_are_refused(admin_app, value):
    client = as_user(admin_app, "admin")

    response = client.post(
        "/admin/deadlines", data=deadlines_form(client, garbage="5", sewage=value)
    )

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "1" in html and ("不是有效的整数" in html or f"1至{MAX_DAYS}" in html)
    assert re.search(r'name="garbage"[^>]*value="5"', html)  # the rest is kept
    with admin_app.app_context():
        assert deadline_days(db.session()) == DEFAULT_DAYS
    assert audit_events(admin_app, "deadlines_updated") == []


@pytest.mark.parametrize(
    ("path", "fields", "kept"),
    [
        (
            "/admin/users/new",
            {"username": "zhaoqiang", "display_name": "赵强"},
            ['value="zhaoqiang"', 'value="赵强"'],
        ),
        ("/admin/grid/PG0101", {"name": "新名称"}, ['value="新名称"']),
        ("/admin/deadlines", {"garbage": "11"}, ['value="11"']),
        ("/account/password", {"old_password": PASSWORD}, []),
    ],
)
def test_missing_csrf_token_is_refused_without_losing_input(admin_app, path, fields, kept):
    client = as_user(admin_app, "admin")

    response = client.post(path, data=fields)

    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "安全令牌" in html
    for text in kept:
        assert text in html
    assert 'name="csrf_token"' in html
    assert user_row(admin_app, "zhaoqiang") is None
    with admin_app.app_context():
        assert deadline_days(db.session()) == DEFAULT_DAYS
        assert db.session.scalar(select(GridCell.name).where(GridCell.code == "PG0101")) == "一组"


def test_missing_csrf_token_from_a_non_admin_shows_no_form(admin_app):
    client = as_user(admin_app, "zhangzhen")

    response = client.post("/admin/users/new", data={"username": "x"})

    assert response.status_code == 403
    assert 'name="username"' not in response.get_data(as_text=True)
    anonymous = admin_app.test_client().post("/admin/users/new", data={"username": "x"})
    assert anonymous.status_code == 302


def test_pages_in_english(admin_app):
    client = as_user(admin_app, "admin")

    html = client.get("/admin/users?lang=en").get_data(as_text=True)

    assert "New user" in html and "Enforcement officer" in html
    response = client.post(
        "/admin/users/new", data=new_user_form(client, username="zhaoqiang", role="officer")
    )
    assert "An enforcement officer needs a certificate number" in response.get_data(as_text=True)
