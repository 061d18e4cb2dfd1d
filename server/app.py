"""The app factory: configuration, database, blueprints, Socket.IO, print spool."""

from __future__ import annotations

import logging
import secrets
import socket
from datetime import timedelta
from pathlib import Path

from flask import Flask, request, session
from jinja2 import pass_context
from werkzeug.routing import IntegerConverter

from server import config as config_module
from server.booking import Bookings, seed_demo_schedule
from server.config import Config
from server.db import open_sqlite
from server.engine import Queue, sync_dentists
from server.errors import HubError
from server.hub import Hub, page_language
from server.i18n import LANGUAGE_NAMES, translate
from server.models import create_tables
from server.netaddr import public_url
from server.printing import Spool
from server.realtime import STAFF, Broadcaster, socketio

logger = logging.getLogger(__name__)

SHIFT = timedelta(hours=14)


def create_app(config: Config | None = None) -> Flask:
    """Build the hub: defaults, then config.toml (or the given config)."""
    config = config or config_module.load()
    app = Flask(__name__)
    # An id past SQLite's 64-bit integers is simply not found (404), not a crash.
    app.url_map.converters["int"] = DatabaseId
    var_dir = config.database_path.parent
    app.config.update(
        SECRET_KEY=_secret_key(var_dir),
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_HTTPONLY=True,
        PERMANENT_SESSION_LIFETIME=SHIFT,
        SEND_FILE_MAX_AGE_DEFAULT=3600,
        # No page sends more than a few hundred bytes; refuse a flood early.
        MAX_CONTENT_LENGTH=64 * 1024,
        # A shift is 14 hours from sign-in, not renewed by every tap.
        SESSION_REFRESH_EACH_REQUEST=False,
        NAVBAT_VAR=var_dir,
    )
    app.json.ensure_ascii = False

    open_sqlite(config.database_path)
    create_tables()
    sync_dentists(config)

    queue = Queue(config)
    seed_demo_schedule(config)
    url = public_url(config.clinic.public_url, config.server.host, config.server.port)
    broadcaster = Broadcaster(socketio)
    spool = Spool(
        config,
        queue,
        ticket_url=lambda token: f"{url}/t/{token}",
        on_change=lambda state: broadcaster.send(STAFF, "printer", state),
    )
    app.extensions["navbat"] = Hub(
        config, queue, spool, broadcaster, url, Bookings(config, queue)
    )

    from server.auth import login_manager

    login_manager.init_app(app)
    _register_blueprints(app)
    _register_page_helpers(app, config)
    socketio.init_app(app, async_mode=config.server.async_mode)
    app.wsgi_app = _send_at_once(app.wsgi_app)
    return app


def _send_at_once(wsgi_app):
    """Turn Nagle's algorithm off on each connection the hub serves.

    A screen's socket gets small messages in quick succession; with Nagle
    the second waits for the first one's acknowledgement, which the client
    may delay by 40 ms.
    """

    def app(environ, start_response):
        if "eventlet.input" in environ:
            connection = environ["eventlet.input"].get_socket()
        else:
            connection = environ.get("werkzeug.socket")  # threading mode
        if connection is not None and connection.family != socket.AF_UNIX:
            connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return wsgi_app(environ, start_response)

    return app


def _register_blueprints(app: Flask) -> None:
    from booking import bp as booking_bp
    from dentist import bp as dentist_bp
    from display import bp as display_bp
    from kiosk import bp as kiosk_bp
    from phone import bp as phone_bp
    from reception import bp as reception_bp
    from server.api import bp as api_bp
    from server.api import hub_error
    from server.api_patients import bp as api_patients_bp
    from server.api_schedule import bp as api_schedule_bp
    from server.api_staff import bp as api_staff_bp
    from server.pages import bp as pages_bp

    for blueprint in (
        api_bp,
        api_staff_bp,
        api_patients_bp,
        api_schedule_bp,
        pages_bp,
        kiosk_bp,
        display_bp,
        dentist_bp,
        phone_bp,
        reception_bp,
        booking_bp,
    ):
        app.register_blueprint(blueprint)
    app.register_error_handler(HubError, hub_error)


def _register_page_helpers(app: Flask, config: Config) -> None:
    """Give every template the page's language and a translate function."""

    @app.before_request
    def remember_language():
        lang = request.args.get("lang")
        if lang in config.clinic.languages:
            session["lang"] = lang

    @app.context_processor
    def page_helpers():
        from server.auth import csrf_token

        return {
            "lang": page_language(),
            "_": _translate_in_page_language,
            "clinic": config.clinic,
            "languages": [
                (code, LANGUAGE_NAMES[code]) for code in config.clinic.languages
            ],
            "csrf_token": csrf_token,
        }


@pass_context
def _translate_in_page_language(context, key: str, **params: object) -> str:
    # Read the template's own `lang`: a view may set it (the phone page speaks
    # its ticket's language), and the words must follow the <html lang>.
    return translate(context["lang"], key, **params)


class DatabaseId(IntegerConverter):
    """A URL's <int:...>, bounded to what a database row id can be."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", 2**63 - 1)
        super().__init__(url_map, *args, **kwargs)


def _secret_key(var_dir: Path) -> str:
    """Read the session signing key, creating it on first start (mode 0600)."""
    path = var_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    path.touch(mode=0o600)
    path.write_text(key)
    return key
