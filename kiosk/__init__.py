"""The kiosk: patients tap a service and get a numbered ticket."""

from __future__ import annotations

from flask import abort, redirect, render_template, url_for

from server.booking import CODE_ALPHABET
from server.hub import hub, surface_blueprint
from server.i18n import strings

bp = surface_blueprint("kiosk", __name__, "/kiosk")


@bp.get("/")
def first_kiosk():
    """Open the first kiosk of config.toml."""
    return redirect(url_for("kiosk.page", kiosk_id=hub().config.kiosks[0].id))


@bp.get("/<kiosk_id>")
def page(kiosk_id: str):
    config = hub().config
    kiosk = config.kiosk(kiosk_id)
    if kiosk is None:
        abort(404)
    languages = config.clinic.languages
    return render_template(
        "kiosk/kiosk.html",
        kiosk=kiosk,
        kiosk_priority=config.queue.kiosk_priority,
        page_data={
            "kiosk": kiosk.id,
            "default_language": config.clinic.default_language,
            "languages": list(languages),
            # The "Urgent" tile issues emergencies for this service ("" = no tile).
            "emergency_service": config.queue.emergency_service,
            "kiosk_priority": config.queue.kiosk_priority,
            "printer_notice": kiosk.printer_notice,
            "services": [
                {"id": s.id, "prefix": s.prefix, "name": s.name}
                for s in config.services
            ],
            # "I have an appointment": the keypad's letters are the booking codes'.
            "code_letters": sorted(set(CODE_ALPHABET) - set("0123456789")),
            "strings": {
                lang: strings(lang, "kiosk.", "common.", "checkin.", "priority.")
                for lang in languages
            },
        },
    )
