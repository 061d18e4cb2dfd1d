"""The patient registry: cards, their history, search, duplicates, merge, deletion.

Like the queue engine, it takes plain values and imports nothing from Flask.
Every view and change of a card writes a line to the card's audit log (who,
when, what: field names, never values). Logs never name a patient.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from peewee import fn

from server import names, phones
from server.config import Config
from server.db import reading, writing
from server.errors import HubError, InputError
from server.models import (
    Appointment,
    Complaint,
    Patient,
    PatientAudit,
    Payment,
    RiskFlag,
    StaffUser,
    Ticket,
    Visit,
)
from server.patient_fields import (
    BUILT_IN_FLAGS,
    LANGUAGES,
    PAYMENT_METHODS,
    age,
    clean_amount,
    clean_card,
    clean_flag_code,
    clean_method,
    clean_text,
    parse_date,
)

logger = logging.getLogger(__name__)

SEARCH_LIMIT = 20
MIN_NAME_QUERY = 2
KIOSK_TRIES = 3
NUMBER = re.compile(r"[Pp]?-?\s*0*(\d{1,12})")
OPEN_STATES = ("waiting", "called", "serving")
CONTACT_FIELDS = ("phone", "phone_display", "email", "sms_consent", "email_consent")


class PatientError(HubError):
    """The registry refuses an action (unknown card, a merge with itself, ...)."""


@dataclass(frozen=True)
class Candidate:
    """A card that may belong to the person being registered."""

    number: str
    first_name: str
    last_name: str
    birth_date: str | None
    phone: str
    reason: str  # "phone" or "name"


def patient_number(patient_id: int) -> str:
    """Return the card's number as people read and type it: P-000123."""
    return f"P-{patient_id:06d}"


def parse_number(text: str) -> int | None:
    """Return the card id in "P-000123", "p123" or "123", else None."""
    match = NUMBER.fullmatch((text or "").strip())
    if match is None:
        return None
    value = int(match.group(1))
    return value if 0 < value < 2**63 else None


class Registry:
    """The clinic's patient cards and every rule about them."""

    def __init__(self, config: Config, clock: Callable[[], datetime] | None = None):
        self.config = config
        self.clock = clock or (lambda: datetime.now(UTC))
        self._kiosk_tries: dict[int, int] = {}

    # -- time and flags ------------------------------------------------------

    def now(self) -> datetime:
        return self.clock().astimezone(UTC).replace(tzinfo=None)

    def today(self) -> date:
        """Return the clinic's date in its own time zone."""
        return self.clock().astimezone(self.config.clinic.zone).date()

    def flags(self) -> list[dict]:
        """List the risk flags: the built-in ones, then the clinic's own."""
        built_in = [{"code": code, "built_in": True} for code in BUILT_IN_FLAGS]
        with reading():
            extra = [
                {
                    "code": flag.code,
                    "built_in": False,
                    "name": {
                        "uz": flag.name_uz,
                        "ru": flag.name_ru,
                        "en": flag.name_en,
                    },
                }
                for flag in RiskFlag.select().order_by(RiskFlag.code)
            ]
        return built_in + extra

    def known_flags(self) -> set[str]:
        with reading():
            return set(BUILT_IN_FLAGS) | {f.code for f in RiskFlag.select()}

    def add_flag(self, code: object, flag_names: object, actor: str) -> dict:
        """Let the clinic add a risk flag of its own, named in every language."""
        code = clean_flag_code(code)
        if not isinstance(flag_names, dict):
            raise InputError("field_missing", "names")
        texts = {
            lang: _short(clean_text(flag_names.get(lang), f"name_{lang}"), lang)
            for lang in LANGUAGES
        }
        with writing():
            if code in BUILT_IN_FLAGS or RiskFlag.get_or_none(RiskFlag.code == code):
                raise PatientError("flag_exists", 409, flag=code)
            RiskFlag.create(
                code=code,
                name_uz=texts["uz"],
                name_ru=texts["ru"],
                name_en=texts["en"],
            )
        logger.info("risk flag %s added by %s", code, actor)
        return {"code": code, "built_in": False, "name": texts}

    # -- registering and changing cards -----------------------------------------

    def register(self, data: dict, actor: str, *, allow_duplicates: bool = False):
        """Open a new card; refuse with the candidates when it may exist already."""
        values = clean_card(data, self.today(), self.known_flags())
        if not allow_duplicates:
            candidates = self._duplicates(values)
            if candidates:
                raise DuplicatesFound(candidates)
        with writing():
            patient = Patient.create(
                **_stored(values),
                **_keys(values["first_name"], values["last_name"]),
                created_at=self.now(),
                updated_at=self.now(),
            )
            self._audit(patient.id, "created", actor)
        logger.info("patient card %s created by %s", patient_number(patient.id), actor)
        return self.card_view(patient.id)

    def duplicates(self, data: dict) -> list[Candidate]:
        """Return the cards that may belong to the person in data."""
        today = self.today()
        values = {}
        for field in ("first_name", "last_name", "birth_date", "phone"):
            if data.get(field):
                values.update(
                    clean_card({field: data[field]}, today, set(), partial=True)
                )
        return self._duplicates(values)

    def _duplicates(self, values: dict) -> list[Candidate]:
        found: dict[int, Candidate] = {}
        with reading():
            if values.get("phone"):
                for patient in _active().where(Patient.phone == values["phone"]):
                    found[patient.id] = _candidate(patient, "phone")
            if values.get("first_name") and values.get("last_name"):
                keys = _keys(values["first_name"], values["last_name"])
                same_name = _active().where(
                    (Patient.name_key == keys["name_key"])
                    | (Patient.name_key == keys["name_key_reversed"])
                )
                if values.get("birth_date"):
                    same_name = same_name.where(
                        Patient.birth_date == values["birth_date"]
                    )
                for patient in same_name.limit(SEARCH_LIMIT):
                    found.setdefault(patient.id, _candidate(patient, "name"))
        return list(found.values())

    def update(self, number: str, data: dict, actor: str) -> dict:
        """Change some fields of a card; the audit line names which."""
        values = clean_card(data, self.today(), self.known_flags(), partial=True)
        with writing():
            patient = self._patient(number)
            changed = {
                field: value
                for field, value in _stored(values).items()
                if getattr(patient, field) != value
            }
            if changed:
                first = changed.get("first_name", patient.first_name)
                last = changed.get("last_name", patient.last_name)
                Patient.update(
                    **changed, **_keys(first, last), updated_at=self.now()
                ).where(Patient.id == patient.id).execute()
                self._audit(patient.id, "updated", actor, ", ".join(sorted(changed)))
        return self.card_view(patient.id)

    # -- reading --------------------------------------------------------------

    def card(self, number: str, actor: str, *, clinical: bool = False) -> dict:
        """Return a card with its history, and log that actor viewed it."""
        with writing():
            patient = self._patient(number, allow_deleted=True)
            self._audit(patient.id, "viewed", actor)
        view = self.card_view(patient.id)
        history = self.history(patient.id)
        if clinical:  # a dentist: what the treatment needs, no contact or money
            for field in CONTACT_FIELDS:
                view.pop(field)
            del history["payments"], history["audit"]
        return dict(view, **history)

    def card_view(self, patient_id: int) -> dict:
        """Return a card's own fields (no history), without logging a view."""
        with reading():
            patient = Patient.get_by_id(patient_id)
        born = patient.birth_date
        return {
            "number": patient_number(patient.id),
            "first_name": patient.first_name,
            "last_name": patient.last_name,
            "birth_date": born.isoformat() if born else None,
            "age": age(born, self.today()) if born else None,
            "phone": patient.phone or "",
            "phone_display": phones.display(patient.phone) if patient.phone else "",
            "email": patient.email,
            "lang": patient.lang,
            "condition": patient.condition,
            "notes": patient.notes,
            "category": patient.category,
            "flags": _flag_list(patient.flags),
            "sms_consent": patient.sms_consent,
            "email_consent": patient.email_consent,
            "created_at": _iso(patient.created_at),
            "updated_at": _iso(patient.updated_at),
            "deleted": patient.deleted_at is not None,
        }

    def history(self, patient_id: int) -> dict:
        """Return a card's visits, payments, complaints and audit log, newest first."""
        with reading():
            visits = (
                Visit.select(Visit, Ticket)
                .join(Ticket)
                .where(Visit.patient == patient_id)
                .order_by(Ticket.issued_at.desc())
            )
            history = {
                "visits": [_visit(v) for v in visits],
                "payments": [
                    {
                        "id": p.id,
                        "amount": p.amount,
                        "method": p.method,
                        "day": p.day,
                        "note": p.note,
                        "actor": p.actor,
                        "at": _iso(p.at),
                    }
                    for p in Payment.select()
                    .where(Payment.patient == patient_id)
                    .order_by(Payment.id.desc())
                ],
                "complaints": [
                    {"id": c.id, "text": c.text, "actor": c.actor, "at": _iso(c.at)}
                    for c in Complaint.select()
                    .where(Complaint.patient == patient_id)
                    .order_by(Complaint.id.desc())
                ],
                "audit": [
                    {
                        "action": a.action,
                        "detail": a.detail,
                        "actor": a.actor,
                        "at": _iso(a.at),
                    }
                    for a in PatientAudit.select()
                    .where(PatientAudit.patient == patient_id)
                    .order_by(PatientAudit.id.desc())
                ],
            }
            self._name_actors(history)
        return history

    def _name_actors(self, history: dict) -> None:
        """Add who each actor is ("Dilnoza K.", a dentist's name) beside its id."""
        rows = [row for part in history.values() for row in part]
        staff_ids = {
            int(row["actor"][6:])
            for row in rows
            if row["actor"].startswith("staff:") and row["actor"][6:].isdigit()
        }
        staff = {
            f"staff:{u.id}": u.full_name or u.username
            for u in StaffUser.select().where(StaffUser.id.in_(list(staff_ids)))
        }
        for row in rows:
            actor = row["actor"]
            dentist = self.config.dentist(actor.removeprefix("dentist:"))
            if actor in staff:
                row["who"] = staff[actor]
            elif actor.startswith("dentist:") and dentist is not None:
                row["who"] = dentist.name
            else:
                row["who"] = actor

    def search(
        self, query: object, limit: int = SEARCH_LIMIT, dentist: str | None = None
    ) -> list[dict]:
        """Find cards by number, phone (any typed form) or name in either script.

        With a dentist, only the patients on that dentist's tickets are found.
        """
        if not isinstance(query, str) or not query.strip():
            raise InputError("field_missing", "query")
        text = query.strip()[:100]
        with reading():
            cards = _active()
            if dentist is not None:
                treated = (
                    Visit.select(Visit.patient)
                    .join(Ticket)
                    .where(Ticket.dentist == dentist)
                )
                cards = cards.where(Patient.id.in_(treated))
            rows = self._search_rows(cards, text, limit)
            return [self._summary(p) for p in rows]

    def _search_rows(self, cards, text: str, limit: int) -> list[Patient]:
        digits = re.sub(r"\D", "", text)
        looks_numeric = not re.search(r"[^\d\s()+\-.]", text)
        number = parse_number(text)
        if number is not None and (len(digits) <= 6 or text[:1] in "Pp"):
            return list(cards.where(Patient.id == number))
        if looks_numeric and len(digits) >= 7:
            try:
                phone = phones.normalize(text, "query")
            except InputError:
                return []
            return list(cards.where(Patient.phone == phone).limit(limit))

        key = names.name_key(text)
        if len(key) < MIN_NAME_QUERY:
            raise InputError("search_too_short", "query", min=MIN_NAME_QUERY)
        low, high = names.prefix_range(key)
        # Two ordered index scans ("last first" and "first last"), each stopping
        # after `limit` rows, are fast however many names share the prefix.
        found: dict[int, Patient] = {}
        for column in (Patient.name_key, Patient.name_key_reversed):
            rows = (
                cards.where((column >= low) & (column < high))
                .order_by(column)
                .limit(limit)
            )
            for patient in rows:
                found.setdefault(patient.id, patient)
        ordered = sorted(found.values(), key=lambda p: (p.name_key, p.id))
        return ordered[:limit]

    def _summary(self, patient: Patient) -> dict:
        born = patient.birth_date
        return {
            "number": patient_number(patient.id),
            "first_name": patient.first_name,
            "last_name": patient.last_name,
            "birth_date": born.isoformat() if born else None,
            "age": age(born, self.today()) if born else None,
            "phone_display": phones.display(patient.phone) if patient.phone else "",
            "category": patient.category,
            "flags": _flag_list(patient.flags),
        }

    # -- history ---------------------------------------------------------------

    def add_payment(self, number: str, data: dict, actor: str) -> dict:
        amount = clean_amount(data.get("amount"))
        method = clean_method(data.get("method"))
        note = clean_text(data.get("note"), "note", required=False)[:200]
        with writing():
            patient = self._patient(number)
            payment = Payment.create(
                patient=patient.id,
                amount=amount,
                method=method,
                day=self.today().isoformat(),
                note=note,
                actor=actor,
                at=self.now(),
            )
            self._audit(patient.id, "payment_added", actor, method)
        return {"id": payment.id, "amount": amount, "method": method}

    def add_complaint(self, number: str, text: object, actor: str) -> dict:
        text = clean_text(text, "text")
        with writing():
            patient = self._patient(number)
            complaint = Complaint.create(
                patient=patient.id, text=text, actor=actor, at=self.now()
            )
            self._audit(patient.id, "complaint_added", actor)
        return {"id": complaint.id}

    def link_ticket(
        self, number: str, ticket_id: object, actor: str, source: str = "staff"
    ) -> dict:
        """Record that a ticket was this patient's visit."""
        if isinstance(ticket_id, bool) or not isinstance(ticket_id, int):
            raise InputError("field_missing", "ticket")
        if not 0 < ticket_id < 2**63:
            raise PatientError("unknown_ticket", 404)
        with writing():
            patient = self._patient(number)
            ticket = Ticket.get_or_none(Ticket.id == ticket_id)
            if ticket is None:
                raise PatientError("unknown_ticket", 404)
            self._link(patient, ticket, actor, source)
        return self.card_view(patient.id)

    def _link(self, patient: Patient, ticket: Ticket, actor: str, source: str):
        earlier = Visit.get_or_none(Visit.ticket == ticket.id)
        if earlier is not None:
            raise PatientError(
                "ticket_linked",
                ticket=ticket.label,
                number=patient_number(earlier.patient_id),
            )
        Visit.create(
            patient=patient.id,
            ticket=ticket.id,
            source=source,
            actor=actor,
            at=self.now(),
        )
        seen_before = (
            Visit.select()
            .join(Ticket)
            .where((Visit.patient == patient.id) & (Ticket.day < ticket.day))
            .exists()
        )
        if seen_before and patient.category == "new":
            Patient.update(category="returning").where(
                Patient.id == patient.id
            ).execute()
        self._audit(patient.id, "ticket_linked", actor, ticket.label)

    def link_by_phone(self, token: str, typed_phone: object) -> None:
        """Link a kiosk ticket to the one card with this phone, if there is one.

        Answers the same whether or not a card matched: the kiosk must never
        tell a stranger whether someone is a patient here.
        """
        if typed_phone is not None and not isinstance(typed_phone, str):
            raise InputError("field_not_text", "phone")
        phone = phones.normalize(typed_phone or "", "phone")
        with writing():
            ticket = Ticket.get_or_none(Ticket.token == token)
            if ticket is None:
                raise PatientError("unknown_ticket", 404)
            tries = self._kiosk_tries.get(ticket.id, 0)
            if tries >= KIOSK_TRIES:
                return
            self._kiosk_tries[ticket.id] = tries + 1
            if (
                ticket.state not in OPEN_STATES
                or ticket.day != self.today().isoformat()
            ):
                return
            if Visit.select().where(Visit.ticket == ticket.id).exists():
                return
            cards = list(_active().where(Patient.phone == phone).limit(2))
            if len(cards) == 1:
                self._link(cards[0], ticket, f"kiosk:{ticket.kiosk}", "kiosk")
                logger.info("ticket %s linked to a card at the kiosk", ticket.label)

    def set_visit_note(self, number: str, ticket_id: int, text: object, actor: str):
        """Write the dentist's note on one visit of the card."""
        text = clean_text(text, "note")
        with writing():
            patient = self._patient(number)
            visit = Visit.get_or_none(
                (Visit.patient == patient.id) & (Visit.ticket == ticket_id)
            )
            if visit is None:
                raise PatientError("unknown_visit", 404)
            visit.note = text
            visit.save()
            self._audit(patient.id, "visit_noted", actor, visit.ticket.label)
        return {"ok": True}

    # -- who may see a card ---------------------------------------------------------

    def patient_id(self, number: str) -> int:
        """Return the id of a live card (following merges), or refuse."""
        with reading():
            return self._patient(number, allow_deleted=True).id

    def seen_by(self, patient_id: int, dentist_id: str) -> bool:
        """Tell whether the patient is on one of the dentist's tickets or bookings."""
        with reading():
            on_ticket = (
                Visit.select()
                .join(Ticket)
                .where((Visit.patient == patient_id) & (Ticket.dentist == dentist_id))
                .exists()
            )
            if on_ticket:
                return True
            phone = Patient.get_by_id(patient_id).phone
            return bool(phone) and (
                Appointment.select()
                .where(
                    (Appointment.phone == phone)
                    & (Appointment.dentist == dentist_id)
                    & (Appointment.state != "cancelled")
                )
                .exists()
            )

    def link_checked_in(self, ticket_id: int, phone: str, actor: str) -> bool:
        """Link a checked-in appointment's ticket to the one card with its phone."""
        with writing():
            cards = list(_active().where(Patient.phone == phone).limit(2))
            ticket = Ticket.get_by_id(ticket_id)
            linked = Visit.select().where(Visit.ticket == ticket_id).exists()
            if len(cards) != 1 or linked:
                return False
            self._link(cards[0], ticket, actor, "appointment")
        logger.info("ticket %s linked to a card at check-in", ticket.label)
        return True

    def patient_of_ticket(self, ticket_id: int) -> str | None:
        """Return the number of the card a ticket is linked to, if any."""
        with reading():
            visit = Visit.get_or_none(Visit.ticket == ticket_id)
        return patient_number(visit.patient_id) if visit else None

    def linked_tickets(self, ticket_ids: list[int]) -> dict[int, dict]:
        """Return, per linked ticket, the card's number and name (staff's list)."""
        with reading():
            rows = (
                Visit.select(Visit, Patient)
                .join(Patient)
                .where(Visit.ticket.in_(ticket_ids))
            )
            return {
                v.ticket_id: {
                    "number": patient_number(v.patient_id),
                    "name": f"{v.patient.last_name} {v.patient.first_name}".strip(),
                    "source": v.source,
                }
                for v in rows
            }

    # -- merge, export, delete ---------------------------------------------------

    def merge(self, keep: str, drop: str, actor: str) -> dict:
        """Move every history row of `drop` to `keep`; `drop` then redirects there."""
        with writing():
            kept = self._patient(keep)
            dropped = self._patient(drop)
            if kept.id == dropped.id:
                raise PatientError("merge_same", 400, number=patient_number(kept.id))
            for model in (Visit, Payment, Complaint, PatientAudit):
                model.update(patient=kept.id).where(
                    model.patient == dropped.id
                ).execute()
            Patient.update(merged_into=kept.id).where(
                Patient.merged_into == dropped.id
            ).execute()
            Patient.update(**_filled_from(kept, dropped), updated_at=self.now()).where(
                Patient.id == kept.id
            ).execute()
            Patient.update(**_wiped(), merged_into=kept.id).where(
                Patient.id == dropped.id
            ).execute()
            self._audit(kept.id, "merged", actor, patient_number(dropped.id))
        logger.info(
            "patient card %s merged into %s by %s",
            patient_number(dropped.id),
            patient_number(kept.id),
            actor,
        )
        return self.card_view(kept.id)

    def export(self, number: str, actor: str) -> dict:
        """Return everything the clinic keeps about one patient, for their request."""
        with writing():
            patient = self._patient(number)
            self._audit(patient.id, "exported", actor)
        card = self.card_view(patient.id)
        return {
            "clinic": self.config.clinic.name,
            "exported_at": _iso(self.now()),
            "card": card,
            **self.history(patient.id),
        }

    def delete(self, number: str, actor: str) -> None:
        """Wipe who the patient is; keep visits and payments as anonymous numbers."""
        with writing():
            patient = self._patient(number)
            Complaint.update(text="").where(Complaint.patient == patient.id).execute()
            Visit.update(note="").where(Visit.patient == patient.id).execute()
            Payment.update(note="").where(Payment.patient == patient.id).execute()
            Patient.update(**_wiped(), deleted_at=self.now()).where(
                Patient.id == patient.id
            ).execute()
            self._audit(patient.id, "deleted", actor)
        logger.info("patient card %s deleted by %s", patient_number(patient.id), actor)

    def takings(self, day: object) -> dict:
        """Sum a clinic day's payments per method, in so'm."""
        if day is None or day == "":
            day = self.today()
        elif not isinstance(day, str) or parse_date(day) is None:
            raise InputError("date_invalid", "day")
        else:
            day = parse_date(day)
        with reading():
            rows = (
                Payment.select(Payment.method, fn.SUM(Payment.amount), fn.COUNT())
                .where(Payment.day == day.isoformat())
                .group_by(Payment.method)
                .tuples()
            )
            sums = {method: (total, count) for method, total, count in rows}
        methods = {
            method: {
                "amount": sums.get(method, (0, 0))[0],
                "count": sums.get(method, (0, 0))[1],
            }
            for method in PAYMENT_METHODS
        }
        total = sum(m["amount"] for m in methods.values())
        return {"day": day.isoformat(), "methods": methods, "total": total}

    # -- shared steps ---------------------------------------------------------------

    def _patient(self, number: str, *, allow_deleted: bool = False) -> Patient:
        """Return a card by its number, following merges; refuse a deleted one."""
        patient_id = parse_number(number) if isinstance(number, str) else None
        patient = Patient.get_or_none(Patient.id == patient_id) if patient_id else None
        seen = set()
        while patient is not None and patient.merged_into_id is not None:
            if patient.id in seen:
                break
            seen.add(patient.id)
            patient = Patient.get_or_none(Patient.id == patient.merged_into_id)
        if patient is None:
            raise PatientError("unknown_patient", 404, number=str(number)[:20])
        if patient.deleted_at is not None and not allow_deleted:
            raise PatientError(
                "patient_deleted", 410, number=patient_number(patient.id)
            )
        return patient

    def _audit(self, patient_id: int, action: str, actor: str, detail: str = ""):
        PatientAudit.create(
            patient=patient_id,
            action=action,
            detail=detail[:200],
            actor=actor,
            at=self.now(),
        )


class DuplicatesFound(PatientError):
    """A new card looks like one or more existing cards."""

    def __init__(self, candidates: list[Candidate]):
        super().__init__("possible_duplicates", 409, count=len(candidates))
        self.candidates = candidates


def _active():
    return Patient.select().where(
        Patient.deleted_at.is_null() & Patient.merged_into.is_null()
    )


def _keys(first: str, last: str) -> dict:
    return {
        "name_key": names.name_key(last, first),
        "name_key_reversed": names.name_key(first, last),
    }


def _stored(values: dict) -> dict:
    """Turn checked values into column values (flags as one text column)."""
    stored = dict(values)
    if "flags" in stored:
        stored["flags"] = ",".join(stored["flags"])
    return stored


def _flag_list(text: str) -> list[str]:
    return [code for code in text.split(",") if code]


def _wiped() -> dict:
    return {
        "first_name": "",
        "last_name": "",
        "birth_date": None,
        "phone": None,
        "email": "",
        "condition": "",
        "notes": "",
        "flags": "",
        "sms_consent": False,
        "email_consent": False,
        "name_key": "",
        "name_key_reversed": "",
    }


def _filled_from(kept: Patient, dropped: Patient) -> dict:
    """Return what the kept card takes from the dropped one: blanks and flags."""
    changes = {}
    for field in ("email", "condition", "notes", "birth_date", "phone"):
        if not getattr(kept, field) and getattr(dropped, field):
            changes[field] = getattr(dropped, field)
    if kept.phone and dropped.phone and kept.phone != dropped.phone:
        # One phone per card: the other one stays readable on the card.
        other = f"Tel: {phones.display(dropped.phone)} ({patient_number(dropped.id)})"
        notes = changes.get("notes", kept.notes)
        changes["notes"] = f"{notes}\n{other}".strip()
    flags = _flag_list(kept.flags)
    flags += [code for code in _flag_list(dropped.flags) if code not in flags]
    changes["flags"] = ",".join(flags)
    if "returning" in (kept.category, dropped.category):
        changes["category"] = "returning"
    return changes


def _candidate(patient: Patient, reason: str) -> Candidate:
    born = patient.birth_date
    return Candidate(
        number=patient_number(patient.id),
        first_name=patient.first_name,
        last_name=patient.last_name,
        birth_date=born.isoformat() if born else None,
        phone=phones.display(patient.phone) if patient.phone else "",
        reason=reason,
    )


def _visit(visit: Visit) -> dict:
    ticket = visit.ticket
    return {
        "ticket_id": ticket.id,
        "label": ticket.label,
        "day": ticket.day,
        "service": ticket.service,
        "state": ticket.state,
        "dentist": ticket.dentist_id,
        "source": visit.source,
        "note": visit.note,
        "actor": visit.actor,
        "at": _iso(visit.at),
    }


def _short(text: str, lang: str) -> str:
    if len(text) > 64:
        raise InputError("field_too_long", f"name_{lang}", max=64)
    return text


def _iso(value: datetime | None) -> str | None:
    return value.replace(tzinfo=UTC).isoformat() if value else None
