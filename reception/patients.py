"""The desk's patient pages: search, registration, a card with its history.

The pages hold no rules: their scripts call the patient API, which checks
roles and audits every view (a dentist's page shows only their own patients).
"""

from __future__ import annotations

from flask import render_template

from reception import bp, page_data
from server import auth
from server.api_patients import flag_names, registry
from server.auth import ADMIN, DENTIST, DESK
from server.hub import hub, page_language
from server.i18n import LANGUAGE_NAMES

PREFIXES = ("patients.", "flag.", "state.")


def _page(template: str, number: str | None = None, **extra):
    lang = page_language()
    names = flag_names(lang)
    return render_template(
        f"reception/{template}",
        number=number,
        flags=[(f["code"], names[f["code"]]) for f in registry().flags()],
        patient_languages=LANGUAGE_NAMES,
        page_data=page_data(
            lang,
            *PREFIXES,
            number=number,
            role=auth.staff_role(),
            flags=names,
            services={s.id: s.name[lang] for s in hub().config.services},
            dentists={d.id: d.name for d in hub().config.dentists},
            **extra,
        ),
    )


@bp.get("/patients")
@auth.roles_required(*DESK, DENTIST)
def patients():
    """Find a patient by number, phone or name; the admin also sees takings."""
    return _page("patients.html", takings=auth.staff_role() == ADMIN)


@bp.get("/patients/new")
@auth.roles_required(*DESK)
def new_patient():
    return _page("patient_form.html")


@bp.get("/patients/<number>")
@auth.roles_required(*DESK, DENTIST)
def patient_card(number: str):
    return _page("patient_card.html", number)


@bp.get("/patients/<number>/edit")
@auth.roles_required(*DESK)
def edit_patient(number: str):
    return _page("patient_form.html", number)
