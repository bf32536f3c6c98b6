"""Faults: a gunicorn worker killed (SIGKILL) mid-upload or mid-transaction loses nothing, doubles nothing."""

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app import create_app
from inspection import db, migrate
from inspection.cases.models import Case, Photo
from inspection.cases.photos import photo_path
from inspection.db import TEST_PAUSE_IN_COMMIT, make_engine
from tests.cases.test_report_forms import IN_A1, jpeg_bytes, seed_town
from tests.conftest import PG_URL, ROOT

GUNICORN = Path(sys.executable).parent / "gunicorn"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Server:
    """gunicorn with two workers on a free loopback port, on a seeded database."""

    def __init__(self, tmp: Path, database_url: str):
        self.database_url = database_url
        self.photo_dir = tmp / "photos"
        self.marker = tmp / "paused-in-commit"
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "PHOTO_DIR": str(self.photo_dir),
            "SECRET_KEY": "faults",
            "WEB_CONCURRENCY": "2",
            "WEB_THREADS": "2",
            TEST_PAUSE_IN_COMMIT: str(self.marker),
        }
        self.log = (tmp / "server.log").open("w")
        self.process = subprocess.Popen(
            [str(GUNICORN), "--config", "gunicorn.conf.py", "--bind", f"127.0.0.1:{self.port}"],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.cookie = ""
        self._wait_until_up()

    def _wait_until_up(self, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            assert self.process.poll() is None, "gunicorn stopped"
            try:
                if self.request("GET", "/auth/login")[0] == 200:
                    return
            except OSError:
                time.sleep(0.2)
        raise AssertionError("gunicorn did not answer")

    def stop(self) -> None:
        """Stop the master and its workers (quick shutdown)."""
        self.process.send_signal(signal.SIGQUIT)
        try:
            self.process.wait(3)
        except subprocess.TimeoutExpired:  # the master dawdles after its workers have gone
            for pid in self.workers():
                os.kill(pid, signal.SIGKILL)
            self.process.kill()
            self.process.wait()
        self.log.close()

    def request(self, method: str, path: str, body: bytes = b"", headers=None):
        """One request with this client's cookie; (status, headers, text)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request(
                method, path, body=body, headers={"Cookie": self.cookie, **(headers or {})}
            )
            response = conn.getresponse()
            cookie = response.getheader("Set-Cookie")
            if cookie:
                self.cookie = cookie.split(";", 1)[0]
            return response.status, dict(response.getheaders()), response.read().decode()
        finally:
            conn.close()

    def csrf(self, path: str) -> str:
        """The CSRF token of a page's form."""
        return CSRF.search(self.request("GET", path)[2]).group(1)

    def login(self, username: str) -> None:
        """Log in through the form."""
        token = self.csrf("/auth/login")
        body = f"username={username}&password=demo1234&csrf_token={token}".encode()
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        assert self.request("POST", "/auth/login", body, form)[0] == 302

    def workers(self) -> list[int]:
        """The pids of the master's worker processes."""
        master = self.process.pid
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        return [int(pid) for pid in children]

    def worker_holding(self, client: socket.socket) -> int:
        """The worker whose accepted socket is the other end of this client connection."""
        client_port = client.getsockname()[1]
        inode = None
        for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
            fields = line.split()
            local, remote = fields[1], fields[2]
            if int(local.split(":")[1], 16) == self.port and int(remote.split(":")[1], 16) == (
                client_port
            ):
                inode = fields[9]
        assert inode, "the server has not accepted the connection"
        for pid in self.workers():
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                try:
                    if os.readlink(fd) == f"socket:[{inode}]":
                        return pid
                except OSError:
                    continue
        raise AssertionError("no worker holds the connection")


def report_body(client_id: str, token: str) -> tuple[bytes, str]:
    """A multipart report form with one photo, as the browser sends it; (body, content type)."""
    boundary = uuid.uuid4().hex
    fields = {
        "csrf_token": token,
        "client_id": client_id,
        "category": "garbage",
        "source": "patrol",
        "geometry": IN_A1,
        "crs": "EPSG:4326",
    }
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in fields.items()
    ]
    photo = jpeg_bytes(size=(800, 600), color=(20, 140, 60))
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="photos"; filename="a.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n".encode()
        + photo
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def submit(server: Server, client_id: str, token: str):
    """Send the report whole; (status, Location)."""
    body, content_type = report_body(client_id, token)
    status, headers, _ = server.request(
        "POST", "/cases/new/issue", body, {"Content-Type": content_type}
    )
    return status, headers.get("Location")


def assert_sound(server: Server, client_id: str, expected: int) -> None:
    """The database checks out, holds `expected` cases of client_id, each placed and with photos."""
    engine = make_engine(server.database_url, pool_size=1)
    with Session(engine) as session:
        if engine.dialect.name == "sqlite":
            assert session.execute(text("PRAGMA integrity_check")).scalar() == "ok"
            assert session.execute(text("PRAGMA foreign_key_check")).all() == []
        else:
            assert session.execute(text("SELECT postgis_lib_version()")).scalar()
        found = session.scalars(select(Case).where(Case.client_id == client_id)).all()
        assert len(found) == expected
        for case in session.scalars(select(Case)):
            assert case.group_id is not None and case.history, f"case {case.id} half-written"
            assert case.photos, f"case {case.id} has no photo"
            for photo in case.photos:
                assert photo_path(server.photo_dir, photo.sha256).exists()
        assert session.scalar(select(func.count(Photo.id)).where(Photo.case_id.is_(None))) == 0
    engine.dispose()


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgis", marks=pytest.mark.postgis)]
)
def server(request, tmp_path_factory):
    """The production server on a seeded database (SQLite file, or a PostGIS schema of its own)."""
    tmp = tmp_path_factory.mktemp(f"faults-{request.param}")
    schema = f"faults_{os.getpid()}"
    if request.param == "sqlite":
        url = f"sqlite:///{tmp / 'faults.sqlite3'}"
    else:
        if not PG_URL:
            pytest.skip("TEST_DATABASE_URL not set: no PostGIS server")
        admin = make_engine(PG_URL, pool_size=1)
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        sep = "&" if "?" in PG_URL else "?"
        url = f"{PG_URL}{sep}options=-csearch_path%3D{schema},public"
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "faults",
            "DATABASE_URL": url,
            "PHOTO_DIR": str(tmp / "photos"),
        }
    )
    with app.app_context():
        migrate.upgrade(db.engine())
    seed_town(app)
    app.extensions["db_engine"].dispose()
    served = Server(tmp, url)
    served.login("wgy_a1")
    yield served
    served.stop()
    if request.param == "postgis":
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        admin.dispose()


def test_worker_killed_while_the_body_arrives_then_the_retry_creates_it_once(server):
    token = server.csrf("/cases/new/issue")
    client_id = f"fault-upload-{uuid.uuid4().hex[:8]}"
    body, content_type = report_body(client_id, token)
    client = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    head = (
        f"POST /cases/new/issue HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
        f"Cookie: {server.cookie}\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    client.sendall(head.encode() + body[: len(body) // 2])  # the rest never comes
    time.sleep(0.5)
    victim = server.worker_holding(client)

    os.kill(victim, signal.SIGKILL)

    assert client.recv(1024) == b""  # the connection died with the worker, no answer
    client.close()
    assert_sound(server, client_id, expected=0)
    first = submit(server, client_id, token)
    again = submit(server, client_id, token)
    assert first[0] == again[0] == 303 and first[1] == again[1]
    assert_sound(server, client_id, expected=1)


def test_worker_killed_inside_the_transaction_then_the_retry_creates_it_once(server):
    token = server.csrf("/cases/new/issue")
    client_id = f"fault-commit-{uuid.uuid4().hex[:8]}"
    server.marker.unlink(missing_ok=True)
    answers: list = []
    sending = threading.Thread(
        target=lambda: answers.append(_try(submit, server, client_id, token))
    )
    sending.start()
    deadline = time.monotonic() + 30
    while not server.marker.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    victim = int(server.marker.read_text())  # flushed, photos written, commit not yet done

    os.kill(victim, signal.SIGKILL)

    sending.join(30)
    assert isinstance(answers[0], (ConnectionError, http.client.HTTPException)), answers
    assert_sound(server, client_id, expected=0)
    first = submit(server, client_id, token)
    assert first[0] == 303
    assert_sound(server, client_id, expected=1)
    assert server.process.poll() is None and len(server.workers()) == 2  # the master replaced it


def _try(function, *args):
    try:
        return function(*args)
    except Exception as exc:  # the test asserts on it
        return exc
