"""网格巡查: create_app() builds the Flask app from config layers, extensions and blueprints."""

import os
import secrets
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from inspection import db, params
from inspection.settings import SETTINGS, defaults, from_environment


def _instance_secret(instance: Path) -> str:
    """Read the instance's secret key, creating one the first time (never committed)."""
    path = instance / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app: code defaults, then instance/config.py, then environment, then test_config."""
    app = Flask(__name__, instance_relative_config=True)
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)

    app.config.from_mapping(defaults())
    app.config["DATABASE_URL"] = f"sqlite:///{instance / 'inspection.sqlite3'}"
    app.config["PHOTO_DIR"] = str(instance / "photos")
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        for setting in SETTINGS:
            if setting.name in os.environ:
                app.config[setting.name] = from_environment(setting.name, os.environ[setting.name])
    else:
        app.config.from_mapping(test_config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(instance)

    hops = int(app.config["PROXY_FIX_HOPS"])
    if hops > 0:  # behind nginx: the client's address, scheme and host from the proxy's headers
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    params.init_app(app)  # before any blueprint adds a route with <int:…>
    db.init_app(app)

    from inspection.ops import cli

    cli.init_app(app)
    from inspection import web

    web.init_app(app)
    return app
