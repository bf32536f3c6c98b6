"""The app: login, the start page with the town and its counts, languages, error pages."""

from datetime import date

import shapely

from app import create_app
from inspection import db
from inspection.accounts import throttle
from inspection.accounts.models import LoginThrottle, User
from inspection.cases.history import record_change
from inspection.cases.models import Case
from inspection.grid.models import GridCell
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
    assert '<td class="num" data-label="待整改">2</td>' in html  # two assigned cases in 平岗村


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


def test_session_cookie_secure_setting_marks_every_session_cookie(tmp_path):
    from inspection import migrate
    from inspection.settings import from_environment

    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'secure.sqlite3'}",
            "SESSION_COOKIE_SECURE": True,
        }
    )
    with app.app_context():
        migrate.upgrade(app.extensions["db_engine"])
    page = app.test_client().get("/auth/login")  # plain http, as seen behind a proxy
    app.extensions["db_engine"].dispose()

    assert "Secure" in page.headers["Set-Cookie"]
    assert from_environment("SESSION_COOKIE_SECURE", "on") is True
    assert from_environment("SESSION_COOKIE_SECURE", "0") is False


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


def test_failed_logins_slow_down_then_lock_and_are_audited(app, client, monkeypatch):
    """Waits from the 4th failure, 15 minutes at the 10th; each lock is audited as it starts."""
    from datetime import datetime, timedelta

    from sqlalchemy import func, select

    from inspection.journal import AuditEntry

    seed(app)
    now = [datetime(2026, 12, 1, 8, 0)]
    monkeypatch.setattr(throttle, "utcnow", lambda: now[0])  # the throttle's clock, moved by hand
    statuses = [login(client, "zhangzhen", "wrong").status_code for _ in range(4)]
    # The fifth try comes within the 2 s wait: refused even with the right password.
    locked = login(client, "zhangzhen", "demo1234")
    for _ in range(6):  # failures 5 to 10, each after the wait of the one before (64 s at most)
        now[0] += timedelta(minutes=2)
        statuses.append(login(client, "zhangzhen", "wrong").status_code)
    tenth = now[0]
    now[0] = tenth + timedelta(minutes=14, seconds=59)
    still_locked = login(client, "zhangzhen", "demo1234")
    now[0] = tenth + timedelta(minutes=15)
    after_lock = login(client, "zhangzhen", "demo1234")

    assert statuses == [401] * 10
    assert locked.status_code == 429
    assert "登录失败次数过多" in locked.get_data(as_text=True)
    assert still_locked.status_code == 429
    assert "请 1 秒后再试" in still_locked.get_data(as_text=True)
    assert after_lock.status_code == 302
    with app.app_context():
        events = dict(
            db.session.execute(
                select(AuditEntry.event, func.count())
                .where(AuditEntry.event.startswith("login"))  # not the seed's change rows
                .group_by(AuditEntry.event)
            ).all()
        )
        locks = db.session.scalars(
            select(AuditEntry).where(AuditEntry.event == "login_locked").order_by(AuditEntry.id)
        ).all()
        # Failures 4 to 10 each start a lock of the account and of the address.
        assert events == {
            "login_failed": 10,
            "login_locked": 14,
            "login_refused_locked": 2,
            "login": 1,
        }
        assert [(e.target, e.details) for e in locks[:2]] == [
            ("user:zhangzhen", {"until": "2026-12-01T08:00:02Z", "failures": 4}),
            ("addr:127.0.0.1", {"until": "2026-12-01T08:00:02Z", "failures": 4}),
        ]
        until = (tenth + throttle.LOCK_MAX).isoformat() + "Z"
        assert [(e.target, e.username, e.address, e.details) for e in locks[-2:]] == [
            ("user:zhangzhen", "zhangzhen", "127.0.0.1", {"until": until, "failures": 10}),
            ("addr:127.0.0.1", "zhangzhen", "127.0.0.1", {"until": until, "failures": 10}),
        ]


def test_address_failures_decay_after_a_quiet_period(session):
    """Typos of many users behind one address lock it for a while, not for good."""
    from datetime import datetime, timedelta



    start = datetime(2026, 12, 1, 8, 0)
    for address in ("10.1.1.1", "10.1.1.2"):  # two offices with the same bad morning
        for i in range(30):  # a typo a minute, each by another user
            throttle.record_failure(session, f"user{i}", address, now=start + timedelta(minutes=i))
    session.commit()
    last = start + timedelta(minutes=29)
    lock_end = last + throttle.LOCK_MAX
    quiet_end = lock_end + throttle.QUIET

    assert throttle.locked_until(session, "someone", "10.1.1.1", last) == lock_end
    assert throttle.locked_until(session, "someone", "10.1.1.1", lock_end) is None
    # Not quiet long enough after the lock: one more typo locks the address again ...
    [early] = throttle.record_failure(
        session, "early", "10.1.1.1", now=quiet_end - timedelta(minutes=1)
    )
    # ... after the quiet period it is the first of a new count, and locks nothing.
    assert throttle.record_failure(session, "someone", "10.1.1.2", now=quiet_end) == []
    session.commit()

    assert (early.key, early.failures) == ("addr:10.1.1.1", 31)
    assert session.get(LoginThrottle, "addr:10.1.1.2").failures == 1
    assert throttle.locked_until(session, "someone", "10.1.1.2", quiet_end) is None


def test_unknown_name_answers_like_a_wrong_password(app, client):
    """Same status, page and audit row; the unknown name is checked against the dummy hash."""
    import re

    from sqlalchemy import select

    from inspection.accounts import auth
    from inspection.journal import AuditEntry

    seed(app)
    with app.app_context():
        retired = User(username="retired", display_name="退休", role="officer", active=False)
        retired.set_password("demo1234")
        db.session.add(retired)
        db.session.commit()
    auth._dummy_hash()  # made once per process, before we count its uses
    used_before = auth._dummy_hash.cache_info().hits

    def page(response, username: str) -> tuple[int, str]:
        html = response.get_data(as_text=True).replace(f'value="{username}"', 'value="NAME"')
        html = re.sub(r'(nonce|name="csrf_token" value)="[^"]+"', "", html)
        return response.status_code, html

    unknown = page(login(client, "nobody", "wrong"), "nobody")
    used_after = auth._dummy_hash.cache_info().hits
    wrong = page(login(client, "zhangzhen", "wrong"), "zhangzhen")
    inactive = page(login(client, "retired", "demo1234"), "retired")

    assert unknown[0] == 401 and "用户名或密码错误" in unknown[1]
    assert unknown == wrong == inactive
    assert used_after == used_before + 1
    assert auth._dummy_hash.cache_info().hits == used_after  # known names use their own hash
    with app.app_context():
        query = select(AuditEntry.event, AuditEntry.username).where(
            AuditEntry.event.startswith("login")
        )
        assert db.session.execute(query.order_by(AuditEntry.id)).all() == [
            ("login_failed", "nobody"),
            ("login_failed", "zhangzhen"),
            ("login_failed", "retired"),
        ]


def test_parallel_guesses_stop_at_the_lock(app):
    """Eight guesses at once after three failures: one more is checked, the lock stops the rest."""
    import threading

    from inspection.accounts.models import LoginThrottle

    seed(app)
    first = app.test_client()
    for _ in range(3):
        login(first, "zhangzhen", "wrong")
    clients = [app.test_client() for _ in range(8)]
    tokens = [csrf_token(c, "/auth/login") for c in clients]
    start, statuses = threading.Barrier(8, timeout=30), []

    def guess(c, token: str) -> None:
        start.wait()
        data = {"username": "zhangzhen", "password": "guess", "csrf_token": token}
        statuses.append(c.post("/auth/login", data=data).status_code)

    threads = [
        threading.Thread(target=guess, args=pair) for pair in zip(clients, tokens, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [401] + [429] * 7
    with app.app_context():
        assert db.session.get(LoginThrottle, "user:zhangzhen").failures == 4


def test_successful_login_is_audited_and_clears_failures(app, client):
    from sqlalchemy import select

    from inspection.accounts.models import LoginThrottle
    from inspection.journal import AuditEntry

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

    from inspection.accounts.models import LoginThrottle
    from inspection.db import begin_write, make_engine

    # A connection per thread (the fixture's pool holds fewer), all released at one moment; on
    # SQLite BEGIN IMMEDIATE then queues them, on PostgreSQL they race on the insert.
    engine = make_engine(engine.url.render_as_string(hide_password=False), pool_size=8)
    start, errors = threading.Barrier(8, timeout=30), []

    def fail_once(i: int) -> None:
        with Session(engine) as s:
            try:
                start.wait()
                begin_write(s)
                throttle.record_failure(s, "newcomer", f"10.0.0.{i}")
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
    from tests.cases.test_report_forms import seed_town

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
