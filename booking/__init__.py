"""The public booking page: patients book, move or cancel a visit themselves."""

from __future__ import annotations

from flask import abort, render_template

from server.hub import hub, page_language, surface_blueprint
from server.i18n import strings

bp = surface_blueprint("booking", __name__, "/book")


@bp.get("/")
def page():
    """Show the booking page in the chosen language (404 when switched off)."""
    config = hub().config
    if not config.booking.public:
        abort(404)
    lang = page_language()
    return render_template(
        "booking/book.html",
        page_data={
            "lang": lang,
            "timezone": config.clinic.timezone,
            "strings": strings(lang, "booking.", "common."),
        },
    )
