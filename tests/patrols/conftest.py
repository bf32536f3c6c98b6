"""Fixtures of the patrol tests: the seeded town on SQLite and on PostGIS."""

import pytest

from tests.cases.test_report_forms import seed_town
from tests.conftest import migrated_app


@pytest.fixture
def town_app(db_url, tmp_path):
    """An app on a fresh database of either backend, with the seeded town (seed_town)."""
    app = migrated_app(tmp_path, DATABASE_URL=db_url)
    app.config["SEED"] = seed_town(app)
    yield app
    app.extensions["db_engine"].dispose()
