"""The phone page a ticket's QR code opens: live position, then the room."""

from __future__ import annotations

from flask import render_template

from server.errors import QueueError
from server.hub import hub, surface_blueprint
from server.i18n import strings

bp = surface_blueprint("phone", __name__, "/t")


@bp.get("/<token>")
def page(token: str):
    """Show one ticket to the patient who holds it, in their language."""
    config = hub().config
    try:
        ticket, _ahead = hub().queue.ticket_status(token)
    except QueueError:
        return render_template(
            "phone/unknown.html", lang=config.clinic.default_language
        ), 404
    lang = ticket.lang
    return render_template(
        "phone/ticket.html",
        lang=lang,
        ticket=ticket,
        page_data={
            "token": token,
            "lang": lang,
            "services": {s.id: s.name[lang] for s in config.services},
            "rooms": {r.id: r.name[lang] for r in config.rooms},
            "strings": strings(lang, "phone.", "common.", "state."),
        },
    )
