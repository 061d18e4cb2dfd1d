"""The dentist's tablet: sign in with a PIN, call the next patient, and so on."""

from __future__ import annotations

from flask import render_template

from server import auth
from server.hub import hub, page_language, surface_blueprint
from server.i18n import strings

bp = surface_blueprint("dentist", __name__, "/dentist")


@bp.get("/")
def page():
    """Show the PIN sign-in, or the tablet once a dentist is signed in."""
    config = hub().config
    lang = page_language()
    dentist_id = auth.signed_in_dentist()
    if dentist_id:
        auth.tablet_touched()
    return render_template(
        "dentist/tablet.html" if dentist_id else "dentist/sign_in.html",
        page_data={
            "lang": lang,
            "dentist": dentist_id,
            # A tablet that locked itself asks its own dentist's PIN first.
            "locked": auth.locked_tablet_dentist(),
            "lock_minutes": config.server.tablet_lock_minutes,
            "dentists": [{"id": d.id, "name": d.name} for d in config.dentists],
            "services": {s.id: s.name[lang] for s in config.services},
            "rooms": {r.id: r.name[lang] for r in config.rooms},
            "csrf": auth.csrf_token(),
            "timezone": config.clinic.timezone,
            "strings": strings(
                lang,
                "dentist.",
                "common.",
                "state.",
                "priority.",
                "agenda.",
                "booking.state_",
            ),
        },
    )
