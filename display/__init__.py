"""The waiting-room display: who is called to which room, live, with a chime."""

from __future__ import annotations

from flask import render_template

from server.hub import hub, page_language, surface_blueprint
from server.i18n import strings

bp = surface_blueprint("display", __name__, "/display")


@bp.get("/")
def page():
    config = hub().config
    lang = page_language()
    return render_template(
        "display/display.html",
        page_data={
            "lang": lang,
            "timezone": config.clinic.timezone,
            "services": [
                {"id": s.id, "prefix": s.prefix, "name": s.name[lang]}
                for s in config.services
            ],
            "rooms": {r.id: r.name[lang] for r in config.rooms},
            "strings": strings(lang, "display.", "common."),
        },
        announcement=config.clinic.announcement.get(lang, ""),
    )
