"""Reception: staff sign in, watch today's queue and the printers, reprint."""

from __future__ import annotations

from flask import render_template

from server import auth
from server.hub import hub, page_language, surface_blueprint
from server.i18n import strings

bp = surface_blueprint("reception", __name__, "/reception")


@bp.get("/")
def page():
    """Show the sign-in form, or the day's queue and printers once signed in."""
    config = hub().config
    lang = page_language()
    signed_in = auth.signed_in_staff() is not None
    return render_template(
        "reception/today.html" if signed_in else "reception/sign_in.html",
        page_data={
            "lang": lang,
            "timezone": config.clinic.timezone,
            "csrf": auth.csrf_token(),
            "services": {s.id: s.name[lang] for s in config.services},
            "rooms": {r.id: r.name[lang] for r in config.rooms},
            "strings": strings(lang, "reception.", "common.", "state.", "priority."),
        },
    )
