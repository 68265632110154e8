"""The web app: the candidate's tablet, the auditeur's desk, administration, verification.

``create_app(test_config)`` builds it: defaults, then ``PLACEMENT_*`` environment variables, then
``test_config``. See ``webui/README.md`` for the settings and the routes.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask

__all__ = ["create_app"]


def _secret_key(instance_path: Path) -> str:
    """The instance's secret key: generated on first start, kept (mode 0600) in the instance."""
    path = instance_path / "secret_key"
    if path.is_file():
        return path.read_text().strip()
    key = secrets.token_hex(32)
    path.touch(mode=0o600)
    path.write_text(key)
    return key


def default_config(instance_path: Path) -> dict[str, Any]:
    """The settings before the environment and the caller's overrides."""
    return {
        "DATABASE_URL": f"sqlite:///{instance_path / 'placement.db'}",
        "SECRET_KEY": None,
        "BANK_RELEASE": None,
        "BANK_ROOT": None,
        "POLICY": None,
        "RULES": "cir",
        "QUEUE": "thread",  # thread | rq | sync (inline, for tests)
        "QUEUE_NAME": None,  # the RQ queue's name (None: placement.workers' default)
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "QUEUE_SWEEP_SECONDS": 60,  # serve: enqueue again what the queue lost, this often
        "RETENTION_DAYS": 365,
        "RECORDING_MAX_BYTES": 10 * 1024 * 1024,
        "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
        "TIMEZONE": "Europe/Paris",
        "AUTO_UPGRADE": None,  # None: upgrade SQLite databases at start, never PostgreSQL
        "CSRF_ENABLED": True,
        "PROXY_FIX": 0,  # number of reverse proxies in front (X-Forwarded-For/-Proto trusted)
        "TRUSTED_PROXY": "127.0.0.1",  # serve: the proxy's address whose X-Forwarded-* count
        "PROXY_FIX_MIDDLEWARE": True,  # False under serve: waitress applies PROXY_FIX itself
        "LOGIN_MAX_FAILURES": 5,
        "LOGIN_LOCK_MINUTES": 15,
        "LOGIN_IP_MAX_FAILURES": 20,
        "LOGIN_IP_WINDOW_MINUTES": 15,
        "SESSION_CODE_TTL_HOURS": 4,
        "CODE_MAX_FAILURES": 10,  # wrong session codes an address may type...
        "CODE_WINDOW_MINUTES": 15,  # ...within these minutes (then 429)
        "DEMO_ACCOUNT_DAYS": 7,  # the demo accounts made at first start stop working after
        "HSTS_SECONDS": 0,  # Strict-Transport-Security max-age on HTTPS answers (0: none)
        "OFFICE_NAME": "Direction territoriale de l'OFII",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_NAME": "placement_session",
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=10),
    }


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: settings, database, security, error pages and every blueprint."""
    instance = (test_config or {}).get("INSTANCE_PATH") or os.environ.get("PLACEMENT_INSTANCE_PATH")
    app = Flask(
        __name__,
        instance_relative_config=True,
        instance_path=str(Path(instance).resolve()) if instance else None,
    )
    instance_path = Path(app.instance_path)
    instance_path.mkdir(parents=True, exist_ok=True)
    app.config.from_mapping(default_config(instance_path))
    app.config.from_prefixed_env("PLACEMENT")
    if test_config is not None:
        app.config.from_mapping(test_config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _secret_key(instance_path)
    for key in ("RETENTION_DAYS", "RECORDING_MAX_BYTES", "SESSION_CODE_TTL_HOURS"):
        app.config[key] = int(app.config[key])

    from placement.sessions.db import normalise_url, upgrade

    app.config["DATABASE_URL"] = normalise_url(str(app.config["DATABASE_URL"]))
    auto_upgrade = app.config["AUTO_UPGRADE"]
    if auto_upgrade is None:
        auto_upgrade = app.config["DATABASE_URL"].startswith("sqlite")
    if auto_upgrade:
        upgrade(app.config["DATABASE_URL"])

    if app.config.get("BANK_ROOT"):
        from placement.sessions.bankcache import set_default_root

        set_default_root(app.config["BANK_ROOT"])

    from webui import auth, errors, security
    from webui.extensions import db

    db.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    auth.init_app(app)
    _register_blueprints(app)
    _register_formatting(app)
    app.add_url_rule("/favicon.ico", "favicon", _favicon)
    if int(app.config["PROXY_FIX"]) and app.config["PROXY_FIX_MIDDLEWARE"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # behind nginx the client's address (login throttling, audit) is in X-Forwarded-For
        hops = int(app.config["PROXY_FIX"])
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]  # the documented way to wrap
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops
        )
    return app


def _register_blueprints(app: Flask) -> None:
    from webui import candidate
    from webui.admin import bp as admin_bp
    from webui.desk import bp as desk_bp
    from webui.psy import bp as psy_bp
    from webui.verify import bp as verify_bp

    app.register_blueprint(candidate.bp, url_prefix="/t")
    app.register_blueprint(desk_bp, url_prefix="/desk")
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(psy_bp, url_prefix="/psy")
    app.register_blueprint(verify_bp, url_prefix="/verifier")


def _favicon() -> Any:
    """The app's icon where browsers look for it without asking the page (tablets do)."""
    from flask import current_app, send_from_directory

    return send_from_directory(Path(current_app.root_path) / "static", "favicon.ico", max_age=86400)


def _register_formatting(app: Flask) -> None:
    """Jinja filters over :mod:`placement.formatting`: one way to write numbers and moments
    (times in the office's ``TIMEZONE``) on every page."""
    from placement import formatting
    from placement.sessions.labels import audit_action

    def tz() -> str:
        return str(app.config["TIMEZONE"])

    app.add_template_filter(formatting.number, "nombre")
    app.add_template_filter(formatting.percent, "pourcent")
    app.add_template_filter(formatting.duration, "duree")
    app.add_template_filter(lambda moment: formatting.clock(moment, tz()), "heure")
    app.add_template_filter(lambda moment: formatting.day(moment, tz()), "jour")
    app.add_template_filter(lambda moment: formatting.date_time(moment, tz()), "date_heure")
    app.add_template_filter(audit_action, "action_audit")
