"""The app shell: /favicon.ico, the web app manifest (add to home screen) and the /login shortcut."""

from pathlib import Path

from flask import Blueprint, Response, g, jsonify, redirect, request, url_for
from flask_babel import gettext as _

ICONS = Path(__file__).resolve().parent.parent / "static" / "icons"
# Held in memory: 5 kB, asked for on every first page, and often cancelled by the browser mid-send.
FAVICON = (ICONS / "favicon.ico").read_bytes()

bp = Blueprint("shell", __name__)


@bp.route("/favicon.ico")
def favicon():
    """The tab icon browsers ask for on every site's first page."""
    response = Response(FAVICON, mimetype="image/vnd.microsoft.icon")
    response.cache_control.public = True
    response.cache_control.max_age = 86400
    response.add_etag()
    return response.make_conditional(request)


def _icon(name: str, size: int, purpose: str = "any") -> dict:
    """One icon entry of the manifest (a PNG of static/icons)."""
    return {
        "src": url_for("static", filename=f"icons/{name}"),
        "sizes": f"{size}x{size}",
        "type": "image/png",
        "purpose": purpose,
    }


@bp.route("/manifest.webmanifest")
def manifest():
    """The web app manifest, so a phone can add the app to its home screen, in the user's language."""
    response = jsonify(
        {
            "name": _("Grid Inspection"),
            "short_name": _("Grid Inspection"),
            "description": _("Grid patrols, cases and rectification for towns and counties"),
            "lang": "en" if g.get("lang") == "en" else "zh-CN",
            "start_url": url_for("home.index"),
            "scope": "/",
            "display": "standalone",
            "background_color": "#f5f7fa",
            "theme_color": "#1f6feb",
            "icons": [
                _icon("icon-192.png", 192),
                _icon("icon-512.png", 512),
                _icon("maskable-512.png", 512, "maskable"),
            ],
        }
    )
    response.mimetype = "application/manifest+json"
    return response


@bp.route("/login")
def login():
    """The address people type: the login page is /auth/login (its query, e.g. next=, kept)."""
    query = request.query_string.decode()
    return redirect(url_for("auth.login") + (f"?{query}" if query else ""), code=301)
