"""The running hub: configuration, queue, print spool and broadcaster together."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import current_app

from server.config import Config
from server.engine import Event, Queue

logger = logging.getLogger(__name__)


@dataclass
class Hub:
    """What routes and Socket.IO handlers reach through current_app."""

    config: Config
    queue: Queue
    spool: object  # server.printing.Spool
    broadcaster: object  # server.realtime.Broadcaster
    public_url: str
    bookings: object = None  # server.booking.Bookings

    def publish(self, events: list[Event]) -> None:
        """Send committed events to every audience that should see them."""
        if events:
            self.broadcaster.publish(events)

    def ticket_url(self, token: str) -> str:
        """Return the phone page address a QR code points to."""
        return f"{self.public_url}/t/{token}"


def hub() -> Hub:
    """Return the hub of the current Flask app."""
    return current_app.extensions["navbat"]


def page_language() -> str:
    """Choose a page's language: ?lang=, then the session's, then the clinic's."""
    from flask import request, session

    from server.i18n import pick_language

    clinic = hub().config.clinic
    return pick_language(
        [request.args.get("lang") or "", session.get("lang") or ""],
        clinic.languages,
        clinic.default_language,
    )


def surface_blueprint(name: str, import_name: str, url_prefix: str):
    """Make a surface's blueprint with its own templates and static folder."""
    from flask import Blueprint

    return Blueprint(
        name,
        import_name,
        url_prefix=url_prefix,
        template_folder="templates",
        static_folder="static",
        static_url_path="/static",
    )
