"""Security headers: a CSP allowing only our own origin, with nonces on our inline scripts."""

import re

import pytest
from sqlalchemy import delete, select

from app import create_app
from inspection import db, migrate
from inspection.accounts.models import LoginThrottle
from inspection.journal import AuditEntry
from inspection.security import content_security_policy
from tests.conftest import csrf_token, login
from tests.test_app import seed

SPOOF = "203.0.113.9"  # an address a client may claim in X-Forwarded-For


def assert_security_headers(response) -> None:
    """The CSP (our own origin only, no inline scripts without a nonce) and nosniff."""
    headers = response.headers
    csp = headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "object-src 'none'" in csp
    assert "base-uri 'none'" in csp and "frame-ancestors 'none'" in csp
    directives = {d.split()[0]: d.split()[1:] for d in csp.split("; ")}
    assert "'unsafe-inline'" not in directives["script-src"]
    # <style> elements need the nonce; only style attributes (Leaflet's) may be inline.
    assert "'unsafe-inline'" not in directives["style-src"]
    assert any(v.startswith("'nonce-") for v in directives["style-src"])
    assert headers["X-Content-Type-Options"] == "nosniff"


def fragile_app(tmp_path):
    """An app whose errors are answered, not raised: a tiny body limit and a view that fails."""
    app = create_app(
        {
            "TESTING": True,
            "PROPAGATE_EXCEPTIONS": False,  # answer 500 as in production
            "SECRET_KEY": "test",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'fragile.sqlite3'}",
            "PHOTO_DIR": str(tmp_path / "photos"),
            "MAX_CONTENT_LENGTH": 1024,
        }
    )

    def fail():
        raise RuntimeError("a bug in a view")

    app.add_url_rule("/test-failure", "test_failure", fail)
    with app.app_context():
        migrate.upgrade(app.extensions["db_engine"])
    return app


def answers(app, client, tmp_path):
    """(what, response) for pages, errors 403/404/413/429/500, static files and API answers."""
    seed(app)
    for path in ["/auth/login", "/no-such-page", "/static/css/app.css"]:
        yield path, client.get(path)
    yield "API without login", client.get("/api/collections")
    token = csrf_token(client, "/auth/login")
    for _ in range(10):  # failed logins: slowed down, then refused with 429
        response = client.post(
            "/auth/login",
            data={"username": "zhangzhen", "password": "wrong", "csrf_token": token},
        )
        if response.status_code == 429:
            break
        response.close()
    yield "throttled login", response
    with app.app_context():
        db.session.execute(delete(LoginThrottle))
        db.session.commit()
    login(client, "zhangzhen")
    for path in ["/", "/admin/users"]:  # 200; 403 for a supervisor
        yield path, client.get(path)
    yield "API JSON", client.get("/api/collections")

    fragile = fragile_app(tmp_path)
    other = fragile.test_client()
    yield "failing view", other.get("/test-failure")
    yield "large body", other.post("/auth/login", data={"username": "x" * 4096})
    fragile.extensions["db_engine"].dispose()


def test_every_response_carries_the_headers(app, client, tmp_path):
    seen = {}
    for what, response in answers(app, client, tmp_path):
        seen[what] = response.status_code, response.mimetype
        assert_security_headers(response)
        response.close()

    assert seen == {
        "/auth/login": (200, "text/html"),
        "/no-such-page": (404, "text/html"),
        "/static/css/app.css": (200, "text/css"),
        "API without login": (401, "application/json"),
        "throttled login": (429, "text/html"),
        "/": (200, "text/html"),
        "/admin/users": (403, "text/html"),
        "API JSON": (200, "application/json"),
        "failing view": (500, "text/html"),
        "large body": (413, "text/html"),
    }


def test_inline_scripts_carry_the_response_nonce(app, client):
    seed(app)
    login(client, "zhangzhen")

    response = client.get("/map")
    if response.status_code == 302:
        response = client.get(response.headers["Location"])
    nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"]).group(1)
    html = response.get_data(as_text=True)
    inline = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", html)

    assert inline, "the map page has inline scripts"
    assert all(f'nonce="{nonce}"' in attrs or "application/json" in attrs for attrs in inline)


def test_basemap_hosts_only_when_configured():
    assert "openstreetmap" not in content_security_policy("n", "none")
    assert "https://tile.openstreetmap.org" in content_security_policy("n", "osm")


def test_eval_only_on_map_pages(app, client):
    seed(app)
    login(client, "zhangzhen")

    home = client.get("/").headers["Content-Security-Policy"]
    town_map = client.get("/map", follow_redirects=True).headers["Content-Security-Policy"]

    assert "'unsafe-eval'" not in home
    assert "'unsafe-eval'" in town_map


def proxied_app(tmp_path, hops: int):
    """An app on a fresh SQLite database with the seeded town and PROXY_FIX_HOPS set."""
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'proxy.sqlite3'}",
            "PHOTO_DIR": str(tmp_path / "photos"),
            "PROXY_FIX_HOPS": hops,
        }
    )
    with app.app_context():
        migrate.upgrade(app.extensions["db_engine"])
    seed(app)
    return app


@pytest.mark.parametrize(("hops", "address", "secure"), [(0, "127.0.0.1", False), (1, SPOOF, True)])
def test_forwarded_headers_count_only_behind_a_configured_proxy(tmp_path, hops, address, secure):
    """With PROXY_FIX_HOPS the proxy's X-Forwarded-For and -Proto decide; without, they are ignored."""
    app = proxied_app(tmp_path, hops)
    client = app.test_client()
    forwarded = {"X-Forwarded-For": SPOOF, "X-Forwarded-Proto": "https"}
    forwarded["Referer"] = (
        "https://localhost/auth/login"  # over https CSRF checks it, as browsers send it
    )
    token = csrf_token(client, "/auth/login")

    response = client.post(
        "/auth/login",
        data={"username": "zhangzhen", "password": "wrong", "csrf_token": token},
        headers=forwarded,
    )

    assert response.status_code == 401
    assert ("Secure" in response.headers["Set-Cookie"]) is secure
    with app.app_context():
        [row] = db.session.scalars(select(AuditEntry).where(AuditEntry.event == "login_failed"))
        keys = set(db.session.scalars(select(LoginThrottle.key)))
    app.extensions["db_engine"].dispose()
    assert row.address == address
    assert keys == {"user:zhangzhen", f"addr:{address}"}


def test_every_style_element_of_a_page_carries_the_nonce(app, client):
    """A page's own <style> blocks carry this response's nonce; nothing else may style it."""
    import re

    from tests.cases.test_report_forms import seed_town

    seed_town(app)
    login(client, "zhangzhen")
    for path in ("/", "/cases", "/cases/new/issue", "/map", "/dashboard", "/audit", "/admin/users"):
        response = client.get(path)
        nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"])[1]
        styles = re.findall(r"<style\b[^>]*>", response.get_data(as_text=True))
        assert all(f'nonce="{nonce}"' in tag for tag in styles), (path, styles)
