"""The app: login, the start page with the town and its counts, languages, error pages."""

from datetime import date

import shapely

from inspection import db
from inspection.history import record_change
from inspection.models import Case, GridCell, User
from tests.conftest import csrf_token, login


def seed(app) -> None:
    """A town with two villages, a supervisor and a few cases."""
    with app.app_context():
        s = db.session()
        town = GridCell(level="town", code="PG", name="平岗镇")
        town.set_boundary(shapely.box(113.0, 30.0, 113.02, 30.01))
        for i, name in enumerate(["平岗村", "石桥村"]):
            v = GridCell(level="village", code=f"PG0{i + 1}", name=name, parent=town)
            v.set_boundary(shapely.box(113.0 + i * 0.01, 30.0, 113.01 + i * 0.01, 30.01))
            s.add(v)
        user = User(username="zhangzhen", display_name="张镇长", role="supervisor")
        user.set_password("demo1234")
        s.add_all([town, user])
        s.flush()
        village = s.query(GridCell).filter_by(code="PG01").one()
        for status in ["reported", "assigned", "assigned"]:
            case = Case(
                kind="issue",
                category="garbage",
                title="垃圾",
                found_on=date(2022, 5, 1),
                village_id=village.id,
                town_id=town.id,
            )
            case.set_geometry(shapely.Point(113.005, 30.005), None)
            s.add(case)
            record_change(s, case, "reported", user)
            if status != "reported":
                record_change(s, case, status, user)
        s.commit()


def test_pages_need_login(client):
    response = client.get("/")

    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]


def test_wrong_password_is_refused_and_keeps_username(app, client):
    seed(app)

    response = login(client, "zhangzhen", "wrong-password")

    assert response.status_code == 401
    html = response.get_data(as_text=True)
    assert "用户名或密码错误" in html and 'value="zhangzhen"' in html


def test_login_without_csrf_token_is_refused(app, client):
    seed(app)

    response = client.post("/auth/login", data={"username": "zhangzhen", "password": "demo1234"})

    assert response.status_code == 400
    assert client.get("/").status_code == 302


def test_start_page_shows_town_villages_and_counts(app, client):
    seed(app)
    login(client, "zhangzhen")

    html = client.get("/").get_data(as_text=True)

    assert "平岗镇" in html and "平岗村" in html and "石桥村" in html
    assert "待核实" in html and "待整改" in html
    assert '<td class="num">2</td>' in html  # two assigned cases in 平岗村


def test_language_switch_is_remembered(app, client):
    seed(app)
    login(client, "zhangzhen")

    english = client.get("/?lang=en").get_data(as_text=True)
    again = client.get("/").get_data(as_text=True)
    chinese = client.get("/?lang=zh").get_data(as_text=True)

    assert "Cases by village and status" in english and "Reported" in english
    assert "Cases by village and status" in again
    assert "各村案件状态统计" in chinese


def test_logout_needs_post_with_token(app, client):
    seed(app)
    login(client, "zhangzhen")
    token = csrf_token(client, "/")

    client.post("/auth/logout", data={"csrf_token": token})

    assert client.get("/").status_code == 302


def test_unknown_page_is_404_in_chinese(client):
    response = client.get("/no-such-page")

    assert response.status_code == 404
    assert "未找到" in response.get_data(as_text=True)


def test_logout_ends_replayed_old_cookie(app, client):
    seed(app)
    login(client, "zhangzhen")
    old_cookie = client.get_cookie("session").value
    token = csrf_token(client, "/")

    client.post("/auth/logout", data={"csrf_token": token})
    client.set_cookie("session", old_cookie)

    assert client.get("/").status_code == 302


def test_session_cookie_flags(app, client):
    seed(app)

    response = login(client, "zhangzhen")
    cookie = response.headers["Set-Cookie"]

    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_session_cookie_is_secure_over_https(app):
    seed(app)
    client = app.test_client()
    page = client.get("/auth/login", base_url="https://localhost")

    assert "Secure" in page.headers["Set-Cookie"]


def test_idle_session_ends(app, client):
    seed(app)
    login(client, "zhangzhen")
    assert client.get("/").status_code == 200
    with client.session_transaction() as sess:
        sess["seen"] -= app.config["SESSION_IDLE_MINUTES"] * 60 + 1

    assert client.get("/").status_code == 302


def test_failed_logins_slow_down_then_lock_and_are_audited(app, client):
    from sqlalchemy import func, select

    from inspection.models import AuditEntry

    seed(app)
    statuses = [login(client, "zhangzhen", "wrong").status_code for _ in range(4)]
    # The fifth try comes within the wait: refused even with the right password.
    locked = login(client, "zhangzhen", "demo1234")

    assert statuses == [401, 401, 401, 401]
    assert locked.status_code == 429
    assert "登录失败次数过多" in locked.get_data(as_text=True)
    with app.app_context():
        events = dict(
            db.session.execute(
                select(AuditEntry.event, func.count())
                .where(AuditEntry.event.startswith("login"))  # not the seed's change rows
                .group_by(AuditEntry.event)
            ).all()
        )
    assert events == {"login_failed": 4, "login_refused_locked": 1}


def test_successful_login_is_audited_and_clears_failures(app, client):
    from sqlalchemy import select

    from inspection.models import AuditEntry, LoginThrottle

    seed(app)
    login(client, "zhangzhen", "wrong")

    response = login(client, "zhangzhen")

    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(LoginThrottle, "user:zhangzhen") is None
        logins = select(AuditEntry.event).where(AuditEntry.event.startswith("login"))
        assert db.session.scalars(logins.order_by(AuditEntry.id)).all() == [
            "login_failed",
            "login",
        ]


def test_login_next_only_redirects_on_site(app, client):
    seed(app)
    token = csrf_token(client, "/auth/login")

    response = client.post(
        "/auth/login?next=//evil.example/x",
        data={"username": "zhangzhen", "password": "demo1234", "csrf_token": token},
    )

    assert response.headers["Location"] == "/"


def test_concurrent_first_failures_neither_collide_nor_lose_a_count(engine):
    """Eight wrong passwords at once for a new account: no insert collision, all eight counted."""
    import threading

    from sqlalchemy.orm import Session

    from inspection import audit
    from inspection.db import begin_write, make_engine
    from inspection.models import LoginThrottle

    # A connection per thread (the fixture's pool holds fewer), all released at one moment; on
    # SQLite BEGIN IMMEDIATE then queues them, on PostgreSQL they race on the insert.
    engine = make_engine(engine.url.render_as_string(hide_password=False), pool_size=8)
    start, errors = threading.Barrier(8, timeout=30), []

    def fail_once(i: int) -> None:
        with Session(engine) as s:
            try:
                start.wait()
                begin_write(s)
                audit.record_failure(s, "newcomer", f"10.0.0.{i}")
                s.commit()
            except Exception as exc:  # noqa: BLE001 - collected and asserted on below
                errors.append(exc)

    threads = [threading.Thread(target=fail_once, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    try:
        assert errors == []
        with Session(engine) as s:
            assert s.get(LoginThrottle, "user:newcomer").failures == 8
    finally:
        engine.dispose()


def test_start_page_counts_only_the_cases_the_viewer_may_see(app):
    """A 网格员 sees his village with his group's cases; a village head his village; the town all."""
    from tests.test_report_forms import seed_town

    seed_town(app)  # one case, in group A1 of 平岗村
    with app.app_context():
        s = db.session()
        b1 = s.query(GridCell).filter_by(code="PG02-01").one()
        case = Case(kind="issue", category="garbage", title="垃圾", found_on=date(2022, 5, 1))
        case.set_geometry(shapely.Point(113.015, 30.005), None)
        case.village_id, case.group_id = b1.parent_id, b1.id
        s.add(case)
        record_change(s, case, "reported", s.query(User).filter_by(username="admin").one())
        s.commit()

    def page(username: str) -> str:
        client = app.test_client()
        login(client, username)
        return client.get("/?lang=zh").get_data(as_text=True)

    town, a2, head_b = page("zhangzhen"), page("wgy_a2"), page("cz_b")

    assert "平岗村" in town and "石桥村" in town and "2 件案件" in town
    assert "平岗村" in a2 and "石桥村" not in a2 and "网格内共 0 件案件" in a2
    assert "石桥村" in head_b and "平岗村" not in head_b and "网格内共 1 件案件" in head_b
    assert "全镇合计" not in a2
