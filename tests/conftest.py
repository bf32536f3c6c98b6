"""Fixtures: an app on a fresh SQLite database per test, and PostGIS when TEST_DATABASE_URL is set."""

import os
import sys
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import create_app  # noqa: E402
from inspection import migrate  # noqa: E402
from inspection.db import make_engine  # noqa: E402

PG_URL = os.environ.get("TEST_DATABASE_URL")
SHARED = ROOT.parent / "shared"

if os.environ.get("CI") and not PG_URL:
    raise pytest.UsageError("CI must set TEST_DATABASE_URL: the PostGIS tests may not skip there")


def pg_schema_url(url: str) -> str:
    """The test database URL with a schema of this test process first on the search path.

    PostGIS stays in `public`; our tables go in `test_<pid>`, so that two test runs (two
    developers, or helpers on one machine) never drop each other's tables.
    """
    schema = f"test_{os.getpid()}"
    engine = make_engine(url, pool_size=1)
    with engine.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA IF NOT EXISTS {schema}"))
    engine.dispose()
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-csearch_path%3D{schema},public"


def reset_postgis(url: str):
    """Empty the PostGIS test schema (every table, whichever packages' models this process knows)."""
    engine = make_engine(url, pool_size=2)
    with engine.begin() as conn:
        schema = conn.execute(text("SELECT current_schema()")).scalar_one()
        assert schema.startswith("test_"), f"refusing to empty schema {schema}"
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    return engine


@pytest.fixture(scope="session")
def pg_url():
    """This test process's PostGIS URL (its own schema), dropped at the end; None without a server."""
    if not PG_URL:
        yield None
        return
    url = pg_schema_url(PG_URL)
    yield url
    engine = make_engine(PG_URL, pool_size=1)
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS test_{os.getpid()} CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgis", marks=pytest.mark.postgis)])
def db_url(request, tmp_path, pg_url):
    """A fresh, empty database URL on each backend (PostGIS skipped without a server)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.sqlite3'}"
    if not pg_url:
        pytest.skip("TEST_DATABASE_URL not set: no PostGIS server")
    reset_postgis(pg_url).dispose()
    return pg_url


@pytest.fixture
def engine(db_url):
    """An engine on a migrated, empty database."""
    engine = make_engine(db_url, pool_size=2)
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine):
    """An ORM session on the migrated database."""
    with Session(engine, expire_on_commit=False) as session:
        yield session


def migrated_app(tmp: Path, **config):
    """An app on a fresh, migrated SQLite database in tmp (photos there too), config overriding."""
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test",
            "DATABASE_URL": f"sqlite:///{tmp / 'app.sqlite3'}",
            "PHOTO_DIR": str(tmp / "photos"),
            **config,
        }
    )
    with app.app_context():
        migrate.upgrade(app.extensions["db_engine"])
    return app


@pytest.fixture
def app(tmp_path):
    """An app on a fresh, migrated SQLite database in a temporary instance."""
    app = migrated_app(tmp_path)
    yield app
    app.extensions["db_engine"].dispose()


@pytest.fixture
def client(app):
    """A test client of the app."""
    return app.test_client()


@pytest.fixture
def runner(app):
    """A CLI runner of the app."""
    return app.test_cli_runner()


def csrf_token(client, path: str) -> str:
    """Fetch a page and read the CSRF token from its form."""
    import re

    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login(client, username: str, password: str = "demo1234"):
    """Log in through the real form (with its CSRF token)."""
    token = csrf_token(client, "/auth/login")
    return client.post(
        "/auth/login", data={"username": username, "password": password, "csrf_token": token}
    )


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium (the system's, as CI installs it), shared by the browser tests."""
    from tests.browser_support import chromium

    with chromium() as browser:
        yield browser
