"""Security headers: a CSP allowing only our own origin, with nonces on our inline scripts."""

import re

from inspection.security import content_security_policy
from tests.conftest import login
from tests.test_app import seed


def test_every_response_carries_the_headers(client):
    for path in ["/auth/login", "/", "/no-such-page", "/static/css/app.css"]:
        response = client.get(path)
        headers = response.headers
        response.close()

        csp = headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "object-src 'none'" in csp
        assert "base-uri 'none'" in csp and "frame-ancestors 'none'" in csp
        assert "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
        assert headers["X-Content-Type-Options"] == "nosniff"


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
