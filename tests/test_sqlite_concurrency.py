"""Concurrent writers on a SQLite file: writes begin IMMEDIATE, so none fails with "database is locked"."""

import io
import threading

import pytest
import shapely
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from inspection import db
from inspection.accounts.models import LoginThrottle, User
from inspection.cases import records
from inspection.cases.models import Case, Photo
from inspection.journal import AuditEntry
from tests.cases.test_report_forms import IN_A1, jpeg_bytes, seed_town
from tests.conftest import csrf_token, login

WRITERS = 8


def run_together(work, n: int = WRITERS) -> list:
    """Run work(i, barrier) in n threads at once; return what each returned or raised."""
    barrier = threading.Barrier(n, timeout=60)
    results: list = [None] * n

    def run(i: int) -> None:
        try:
            results[i] = work(i, barrier)
        except Exception as exc:  # collected and asserted on by the test
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return results


def report_after_a_read(engine):
    """A writer as a web request is: it reads (the login), waits for the others, then reports."""

    def work(i: int, barrier: threading.Barrier) -> int:
        with Session(engine, expire_on_commit=False) as session:
            reporter = session.scalars(select(User).where(User.username == "wgy_a1")).one()
            barrier.wait()  # every writer now holds a read snapshot, as after loading the user
            case, created = records.create_case(
                session,
                "issue",
                shapely.Point(113.001 + i * 0.0004, 30.005),
                {"title": f"并发上报{i}", "category": "garbage"},
                reporter,
                client_id=f"concurrent-{i:04d}",
            )
            session.commit()
            return case.id

    return work


def test_eight_writers_after_reads_all_succeed(app):
    seed_town(app)
    engine = app.extensions["db_engine"]

    results = run_together(report_after_a_read(engine))

    failures = [r for r in results if isinstance(r, Exception)]
    assert failures == []
    with Session(engine) as session:
        assert session.scalar(select(func.count(Case.id))) == 1 + WRITERS


def test_the_same_writers_with_a_deferred_begin_are_refused(app, monkeypatch):
    """The control: without begin_write, WAL refuses a read turned writer at once (no busy wait)."""
    seed_town(app)
    engine = app.extensions["db_engine"]
    monkeypatch.setattr(records, "begin_write", lambda session: None)

    results = run_together(report_after_a_read(engine))

    locked = [r for r in results if isinstance(r, OperationalError) and "locked" in str(r)]
    assert locked, results
    assert all(isinstance(r, int) or r in locked for r in results)
    with Session(engine) as session:
        assert session.scalar(select(func.count(Case.id))) == 1 + WRITERS - len(locked)


def test_begin_write_after_changes_in_a_read_is_refused_in_a_request(app):
    seed_town(app)
    with app.test_request_context("/"):
        session = db.session()
        user = session.scalars(select(User).where(User.username == "wgy_a1")).one()
        user.phone = "13900000000"
        with pytest.raises(db.WriteAfterRead):
            db.begin_write(session)
        with pytest.raises(db.WriteAfterRead):
            session.flush()
        session.rollback()


def test_a_read_alone_stays_deferred(app):
    seed_town(app)
    with app.test_request_context("/"):
        session = db.session()
        session.scalar(select(func.count(User.id)))
        assert session.info["sqlite_tx"] == "read"
        db.begin_write(session)
        assert session.info["sqlite_tx"] == "write"
        session.rollback()
        assert "sqlite_tx" not in session.info


def test_eight_web_clients_report_and_fail_logins_at_once(app):
    """Through the real views: logins, failed logins (throttle + audit) and reports with photos."""
    seed_town(app)
    clients = [app.test_client() for _ in range(WRITERS)]

    def work(i: int, barrier: threading.Barrier) -> list[int]:
        client = clients[i]
        barrier.wait()
        statuses = [login(client, "wgy_a1").status_code]
        token = csrf_token(client, "/cases/new/issue")
        failed = client.post(
            "/auth/login",
            data={"username": f"nobody{i}", "password": "wrong", "csrf_token": token},
            environ_base={"REMOTE_ADDR": f"127.0.0.{10 + i}"},  # one address each: no lock
        )
        statuses.append(failed.status_code)
        barrier.wait()
        report = client.post(
            "/cases/new/issue",
            data={
                "csrf_token": token,
                "client_id": f"web-concurrent-{i:04d}",
                "category": "garbage",
                "source": "patrol",
                "geometry": IN_A1,
                "photos": (io.BytesIO(jpeg_bytes(color=(i * 30, 90, 40))), f"p{i}.jpg"),
            },
            content_type="multipart/form-data",
        )
        statuses.append(report.status_code)
        return statuses

    results = run_together(work)

    assert results == [[302, 401, 303]] * WRITERS
    with Session(app.extensions["db_engine"]) as session:
        assert session.scalar(select(func.count(Case.id))) == 1 + WRITERS
        assert session.scalar(select(func.count(Photo.id))) == 1 + WRITERS
        assert session.scalar(select(func.count(LoginThrottle.key))) == 2 * WRITERS  # user, address
        failed = select(func.count(AuditEntry.id)).where(AuditEntry.event == "login_failed")
        assert session.scalar(failed) == WRITERS
