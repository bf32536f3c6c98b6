"""`make load`: a fresh demo town under gunicorn on loopback, locust against it, then load/check.

Environment: LOAD_USERS (40), LOAD_TIME (2m), LOAD_SPAWN_RATE (4 users/s), LOAD_DATABASE_URL
(default a new SQLite file; give a PostGIS database to test that), LOAD_TOWNS (1: the demo town;
more: the demo county of that many towns, users spread over them), LOAD_STEADY=1 (statistics from
the moment every user has started), LOAD_PATROLLERS (0: that many more 网格员 on patrol, sending
1,000-fix batches, within LOAD_USERS), WEB_CONCURRENCY and WEB_THREADS
for the server, LOAD_KEEP=1 to keep the temporary folder.
"""

import io
import json
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
LOCUST = ROOT / ".venv-load" / "bin" / "locust"
PHOTOS = 40


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_photos(into: Path, n: int = PHOTOS) -> list[str]:
    """n different 1280×960 JPEGs (about what a field phone sends after its own shrinking)."""
    from PIL import Image, ImageDraw

    into.mkdir(parents=True)
    paths = []
    rng = random.Random(7)
    for i in range(n):
        image = Image.new("RGB", (1280, 960), (rng.randrange(256), 120, rng.randrange(256)))
        draw = ImageDraw.Draw(image)
        for _ in range(60):
            x, y = rng.randrange(1280), rng.randrange(960)
            colour = tuple(rng.randrange(256) for _ in range(3))
            draw.ellipse((x, y, x + rng.randrange(20, 200), y + rng.randrange(20, 200)), colour)
        out = io.BytesIO()
        image.save(out, "JPEG", quality=85)
        path = into / f"photo{i:02d}.jpg"
        path.write_bytes(out.getvalue())
        paths.append(str(path))
    return paths


def town_of(cell) -> "object":
    """The town cell above (or at) a grid cell."""
    while cell.level not in ("town", "county") and cell.parent is not None:
        cell = cell.parent
    return cell


def make_plan(tmp: Path, run_id: str) -> Path:
    """Who logs in (by town), where each 网格员 reports, each town's extent and villages, the photos."""
    from sqlalchemy import select

    from app import create_app
    from inspection import db
    from inspection.accounts.models import User
    from inspection.grid.models import GridCell
    from inspection.ops.demo import DEMO_PASSWORD

    app = create_app()
    with app.app_context():
        session = db.session()
        towns = {
            t.code: {"bbox": list(t.boundary.bounds), "villages": [v.code for v in t.children]}
            for t in session.scalars(select(GridCell).where(GridCell.level == "town"))
        }
        members, supervisors = [], []
        for user in session.scalars(select(User).where(User.active)):
            groups = [c for c in user.cells if c.level == "group"]
            if user.role == "grid_member" and groups:
                point = groups[0].boundary.representative_point()
                members.append(
                    {
                        "username": user.username,
                        "point": f"{point.x},{point.y}",
                        "town": town_of(groups[0]).code,
                    }
                )
            elif user.role == "supervisor" and user.cells:
                supervisors.append({"username": user.username, "town": town_of(user.cells[0]).code})
        county_users = list(
            session.scalars(select(User.username).where(User.role == "county", User.active))
        )
    app.extensions["db_engine"].dispose()
    plan = {
        "run": run_id,
        "password": DEMO_PASSWORD,
        "members": members,
        "supervisors": supervisors,
        "county_users": county_users,
        "towns": towns,
        "photos": make_photos(tmp / "upload"),
        "ledger": str(tmp / "submitted.json"),
    }
    path = tmp / "plan.json"
    path.write_text(json.dumps(plan, ensure_ascii=False))
    return path


def wait_until_up(url: str, server: subprocess.Popen, seconds: float = 90) -> None:
    """Wait until the server answers its login page."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server stopped (exit {server.returncode})")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"the server did not answer {url} within {seconds:.0f} s")


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process and its waited-for children have used so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(v) for v in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def server_cpu_seconds(master: int) -> float:
    """CPU time of the gunicorn master and its live workers."""
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return cpu_seconds(master) + sum(cpu_seconds(int(pid)) for pid in children)


def main() -> int:
    """Set up, serve, load, stop, check; the checker's exit code."""
    if not LOCUST.exists():
        raise SystemExit("locust is missing: run `make load` (it installs requirements-load.txt)")
    tmp = Path(tempfile.mkdtemp(prefix="inspection-load-"))
    run_id = secrets.token_hex(4)
    database_url = os.environ.get("LOAD_DATABASE_URL") or f"sqlite:///{tmp / 'load.sqlite3'}"
    os.environ.update(
        DATABASE_URL=database_url,
        PHOTO_DIR=str(tmp / "photos"),
        SECRET_KEY=secrets.token_hex(32),
    )
    flask = [str(BIN / "flask"), "--app", "app"]
    subprocess.run([*flask, "init-db"], cwd=ROOT, check=True)
    towns = int(os.environ.get("LOAD_TOWNS") or "1")
    demo = ["demo", "--county", "--towns", str(towns)] if towns > 1 else ["demo"]
    subprocess.run([*flask, *demo], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    plan = make_plan(tmp, run_id)

    port = free_port()
    host = f"http://127.0.0.1:{port}"
    log = (tmp / "server.log").open("w")
    server = subprocess.Popen(
        [str(BIN / "gunicorn"), "--config", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}"],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until_up(f"{host}/auth/login", server)
        users = os.environ.get("LOAD_USERS") or "40"
        spent = os.environ.get("LOAD_TIME") or "2m"
        print(f"load: {users} users for {spent} against {host} ({database_url.split(':')[0]})")
        cpu_before, started = server_cpu_seconds(server.pid), time.monotonic()
        subprocess.run(
            [
                str(LOCUST),
                "-f",
                str(ROOT / "load" / "locustfile.py"),
                "--headless",
                "--only-summary",
                "--users",
                users,
                "--spawn-rate",
                os.environ.get("LOAD_SPAWN_RATE") or "4",
                "--run-time",
                spent,
                "--stop-timeout",
                "60",  # users finish the report they are sending, so no answer is cut off
                "--host",
                host,
                "--csv",
                str(tmp / "stats"),
                # LOAD_STEADY=1: statistics start once every user has logged in, so the login ramp
                # (scrypt, ~0.2 s of CPU each, by design) does not stand in for the steady state.
                *(["--reset-stats"] if os.environ.get("LOAD_STEADY") else []),
            ],
            cwd=ROOT,
            env={**os.environ, "LOAD_PLAN": str(plan)},
            check=False,  # locust exits 1 on any failure; the checker says which
        )
        used, wall = server_cpu_seconds(server.pid) - cpu_before, time.monotonic() - started
        load1 = os.getloadavg()[0]
        print(
            f"server CPU: {used:.0f} s in {wall:.0f} s = {used / wall:.2f} of {os.cpu_count()} CPUs;"
            f" machine load average at the end {load1:.1f}"
        )
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(60)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()

    from load import check

    code = check.main(
        [str(tmp / "stats_stats.csv"), json.loads(plan.read_text())["ledger"], database_url, run_id]
    )
    if os.environ.get("LOAD_KEEP") or code:
        print(f"kept {tmp} (server.log, stats, submitted.json)")
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
