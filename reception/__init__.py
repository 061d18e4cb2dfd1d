"""Reception: staff sign in, watch today's queue and the printers, reprint."""

from __future__ import annotations

from flask import Blueprint, render_template

from server import auth
from server.hub import hub, page_language
from server.i18n import strings

bp = Blueprint(
    "reception",
    __name__,
    url_prefix="/reception",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)


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
            "csrf": auth.csrf_token(),
            "services": {s.id: s.name[lang] for s in config.services},
            "rooms": {r.id: r.name[lang] for r in config.rooms},
            "strings": strings(lang, "reception.", "common.", "state."),
        },
    )
