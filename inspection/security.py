"""Security headers on every response: a Content-Security-Policy with per-request nonces."""

import re
import secrets

from flask import Flask, g, request
from markupsafe import Markup

# Tile hosts a basemap may load images from; with BASEMAP=none the pages load nothing from outside.
TILE_HOSTS = {
    "none": (),
    "osm": ("https://tile.openstreetmap.org",),
    "tianditu": ("https://*.tianditu.gov.cn",),
    "gaode": ("https://*.is.autonavi.com",),
}
_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*\bnonce=)", re.IGNORECASE)
_STYLE_ELEMENT = re.compile(r"<style(?=[\s>])(?![^>]*\bnonce=)", re.IGNORECASE)


def csp_nonce() -> str:
    """The nonce of this request, which every inline script of our own pages must carry."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def with_nonce(trusted_html: str) -> Markup:
    """Give the inline scripts and style elements of HTML we generated ourselves (folium's parts)
    this request's nonce.

    Only for markup built by our own code, never for anything holding user text unescaped.
    """
    nonce = csp_nonce()
    html = _INLINE_SCRIPT.sub(f'<script nonce="{nonce}"', str(trusted_html))
    return Markup(_STYLE_ELEMENT.sub(f'<style nonce="{nonce}"', html))


# leaflet-measure compiles its templates with Function(); only the map pages get 'unsafe-eval'.
EVAL_BLUEPRINTS = frozenset({"maps"})


def content_security_policy(nonce: str, basemap: str = "none", *, allow_eval: bool = False) -> str:
    """The CSP header: our own origin only, plus the configured basemap's tile hosts for images."""
    tiles = " ".join(TILE_HOSTS.get(basemap, ()))
    evaluate = " 'unsafe-eval'" if allow_eval else ""
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' 'nonce-{nonce}'{evaluate}",
            # <style> elements need the nonce, so injected markup cannot restyle or read the page
            # through CSS; style attributes stay allowed: Leaflet and folium write them.
            f"style-src 'self' 'nonce-{nonce}'",
            "style-src-attr 'unsafe-inline'",
            f"img-src 'self' data: blob: {tiles}".rstrip(),
            "font-src 'self' data:",
            "connect-src 'self'",
            "worker-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
            "form-action 'self'",
        ]
    )


def init_app(app: Flask) -> None:
    """Add the headers to every response and csp_nonce() to the templates."""
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    app.jinja_env.globals["with_nonce"] = with_nonce

    @app.after_request
    def _security_headers(response):
        response.headers["Content-Security-Policy"] = content_security_policy(
            csp_nonce(),
            app.config.get("BASEMAP", "none"),
            allow_eval=request.blueprint in EVAL_BLUEPRINTS,
        )
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "same-origin"
        return response
