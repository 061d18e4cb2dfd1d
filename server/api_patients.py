"""The patient registry's JSON API (/api/v1): cards, history, search, payments.

Admin and reception may do everything here. A dentist, signed in as staff or
on a tablet, may only read the cards of patients on their own tickets and add
complaints and visit notes to them. Every view and change is audited by the
registry. See docs/api.md.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict

from flask import Blueprint, Response, current_app, jsonify, request

from server import auth
from server.api import body, error_message, request_language
from server.auth import ADMIN, DENTIST, DESK
from server.db import reading
from server.errors import AuthError, InputError
from server.hub import hub
from server.i18n import translate
from server.models import RiskFlag
from server.patient_fields import BUILT_IN_FLAGS
from server.patients import DuplicatesFound, Registry

logger = logging.getLogger(__name__)

bp = Blueprint("api_patients", __name__, url_prefix="/api/v1")

# Reception's work, plus what a dentist may do with their own patients' cards.
CARE = (*DESK, DENTIST)


def registry() -> Registry:
    """Return the app's registry, on the queue's clock (the same clinic day)."""
    extensions = current_app.extensions
    if "navbat_patients" not in extensions:
        extensions["navbat_patients"] = Registry(hub().config, hub().queue.clock)
    return extensions["navbat_patients"]


def actor() -> str:
    """Name who acts, for the audit log: a staff user or a dentist's tablet."""
    user = auth.current_staff()
    return f"staff:{user.id}" if user else f"dentist:{auth.signed_in_dentist()}"


def acting_dentist() -> str | None:
    """Return the dentist's id when a dentist (staff or tablet) is asking."""
    user = auth.current_staff()
    if user is not None:
        return user.dentist if user.role == DENTIST else None
    return auth.signed_in_dentist()


def check_care(number: str) -> bool:
    """Refuse a dentist a card of someone they never treated; tell if clinical."""
    dentist = acting_dentist()
    if dentist is None:
        return False
    the_registry = registry()
    if not the_registry.seen_by(the_registry.patient_id(number), dentist):
        raise AuthError("not_your_patient", 403)
    return True


def flag_names(lang: str) -> dict[str, str]:
    """Name every risk flag in lang: built-in ones from the catalogs."""
    names = {code: translate(lang, f"flag.{code}") for code in BUILT_IN_FLAGS}
    with reading():
        for flag in RiskFlag.select():
            names[flag.code] = getattr(flag, f"name_{lang}", flag.name_en)
    return names


# -- search and registration ------------------------------------------------------


@bp.get("/patients")
@auth.roles_required(*CARE)
def search():
    """Find cards by number, phone or name (either script); a dentist, theirs."""
    found = registry().search(request.args.get("q", ""), dentist=acting_dentist())
    return jsonify(patients=found)


@bp.post("/patients")
@auth.roles_required(*DESK)
def register():
    """Open a card; 409 with the candidates when the person may have one."""
    data = body()
    try:
        card = registry().register(
            data, actor(), allow_duplicates=data.get("confirm_new") is True
        )
    except DuplicatesFound as found:
        return _duplicates_answer(found)
    return jsonify(patient=card), 201


def _duplicates_answer(found: DuplicatesFound):
    lang = request_language()
    error = {"code": found.code, "message": error_message(lang, found)}
    candidates = [asdict(c) for c in found.candidates]
    return jsonify(error=error, candidates=candidates), found.status


@bp.post("/patients/duplicates")
@auth.roles_required(*DESK)
def duplicates():
    """Return the cards that may belong to the person being typed in."""
    found = registry().duplicates(body())
    return jsonify(candidates=[asdict(c) for c in found])


@bp.get("/patients/flags")
@auth.roles_required(*CARE, tablet=True)
def flags():
    """List the risk flags with their names in the request's language."""
    names = flag_names(request_language(from_body=False))
    return jsonify(flags=[dict(f, label=names[f["code"]]) for f in registry().flags()])


@bp.post("/patients/flags")
@auth.roles_required(ADMIN)
def add_flag():
    """Add a risk flag of the clinic's own, named in uz, ru and en."""
    data = body()
    flag = registry().add_flag(data.get("flag_code"), data.get("names"), actor())
    return jsonify(flag=flag), 201


# -- one card ---------------------------------------------------------------------


@bp.get("/patients/<number>")
@auth.roles_required(*CARE, tablet=True)
def read_card(number: str):
    """Return a card with its history; a dentist gets the clinical part only."""
    clinical = check_care(number)
    return jsonify(patient=registry().card(number, actor(), clinical=clinical))


@bp.patch("/patients/<number>")
@auth.roles_required(*DESK)
def update_card(number: str):
    return jsonify(patient=registry().update(number, body(), actor()))


@bp.post("/patients/<number>/payments")
@auth.roles_required(*DESK)
def add_payment(number: str):
    return jsonify(payment=registry().add_payment(number, body(), actor())), 201


@bp.post("/patients/<number>/complaints")
@auth.roles_required(*CARE, tablet=True)
def add_complaint(number: str):
    check_care(number)
    complaint = registry().add_complaint(number, body().get("text"), actor())
    return jsonify(complaint=complaint), 201


@bp.post("/patients/<number>/visits")
@auth.roles_required(*DESK)
def link_ticket(number: str):
    """Link a ticket (by its id) to the card."""
    ticket = body().get("ticket")
    return jsonify(patient=registry().link_ticket(number, ticket, actor())), 201


@bp.post("/patients/<number>/visits/<int:ticket_id>/note")
@auth.roles_required(*CARE, tablet=True)
def visit_note(number: str, ticket_id: int):
    """Write the dentist's note on one visit."""
    check_care(number)
    return jsonify(
        registry().set_visit_note(number, ticket_id, body().get("note"), actor())
    )


@bp.get("/patients/<number>/export")
@auth.roles_required(*DESK)
def export(number: str):
    """Download everything kept about one patient, as JSON (their request)."""
    data = registry().export(number, actor())
    name = f"patient-{data['card']['number']}.json"
    return Response(
        json.dumps(data, ensure_ascii=False, indent=2),
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.delete("/patients/<number>")
@auth.roles_required(*DESK)
def delete(number: str):
    """Erase who the patient is; their visits and payments stay, anonymous."""
    registry().delete(number, actor())
    return jsonify(ok=True)


@bp.post("/patients/merge")
@auth.roles_required(*DESK)
def merge():
    """Merge the card `drop` into `keep`, moving every history row."""
    data = body()
    keep, drop = data.get("keep"), data.get("drop")
    for field, value in (("keep", keep), ("drop", drop)):
        if not isinstance(value, str) or not value.strip():
            raise InputError("field_missing", field)
    return jsonify(patient=registry().merge(keep, drop, actor()))


# -- tickets, takings, the tablet and the kiosk -------------------------------------


@bp.get("/patients/tickets/today")
@auth.roles_required(*DESK)
def today_links():
    """Map today's ticket labels to their id and linked card, for reception."""
    tickets = hub().queue.today_tickets()
    links = registry().linked_tickets([t.id for t in tickets])
    return jsonify(
        tickets={t.label: {"id": t.id, "patient": links.get(t.id)} for t in tickets}
    )


@bp.get("/payments/takings")
@auth.roles_required(ADMIN)
def takings():
    """Sum a day's payments per method (default: today)."""
    return jsonify(registry().takings(request.args.get("day")))


@bp.get("/dentist/patient")
@auth.roles_required(DENTIST, tablet=True)
def current_patient():
    """Return the name and risk flags of the dentist's current patient, if linked."""
    dentist = acting_dentist()
    current = hub().queue.current(dentist) if dentist else None
    number = registry().patient_of_ticket(current.id) if current else None
    if number is None:
        return jsonify(patient=None)
    card = registry().card(number, actor(), clinical=True)
    names = flag_names(request_language(from_body=False))
    return jsonify(
        patient={
            "number": card["number"],
            "ticket": current.label,
            "first_name": card["first_name"],
            "last_name": card["last_name"],
            "age": card["age"],
            "flags": [{"code": c, "label": names.get(c, c)} for c in card["flags"]],
        }
    )


@bp.post("/tickets/<token>/phone")
@auth.public
def kiosk_phone(token: str):
    """Let a patient at the kiosk link their ticket to their card by phone.

    The answer is the same whether a card matched or not.
    """
    registry().link_by_phone(token, body().get("phone"))
    return jsonify(ok=True)
