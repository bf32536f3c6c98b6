"""What the browser tests share: an app on a fresh SQLite file, served in a thread, and Chromium."""

import contextlib
import os
import threading
from pathlib import Path

import pytest

from tests.conftest import migrated_app

CHROMIUM = os.environ.get("CHROMIUM_PATH") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def make_app(tmp: Path, **config):
    """An app on a fresh, migrated SQLite database in tmp, for serving to a browser."""
    return migrated_app(tmp, **{"SECRET_KEY": "browser-test", **config})


@contextlib.contextmanager
def serving(app):
    """Serve the app on 127.0.0.1 and a free port in a thread; yield its base URL."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()
        app.extensions["db_engine"].dispose()


def phone_at(browser, base: str, where, accuracy: float, username: str = "wgy_a1"):
    """A phone (geolocation at `where`, lon/lat) with `username` logged in: (context, page, errors)."""
    context = browser.new_context(
        base_url=base,
        service_workers="block",
        geolocation={"longitude": where[0], "latitude": where[1], "accuracy": accuracy},
        permissions=["geolocation"],
        locale="zh-CN",
    )
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto("/auth/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "demo1234")
    page.click(".narrow button[type=submit]")
    page.wait_for_url(f"{base}/")
    return context, page, errors


@contextlib.contextmanager
def chromium():
    """Headless Chromium (the system's, as CI installs it); the test skips if it is missing."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
