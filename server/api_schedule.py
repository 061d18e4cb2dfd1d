"""The schedule's JSON API: plans, appointments, public booking and check-in.

Staff book, move, cancel and check patients in; admins and receptionists
edit the working plans. Patients book on /book and check in at the kiosk:
those views are public, limited per client address. See docs/api.md.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from flask import Blueprint, current_app, jsonify, request

from server import auth
from server.api import body, request_language, text_field
from server.api_patients import registry
from server.booking import AppointmentView, looks_like_code
from server.errors import BookingError, InputError
from server.hub import hub
from server.ratelimit import RateLimit
from server.schedule import Slot

logger = logging.getLogger(__name__)

bp = Blueprint("api_schedule", __name__, url_prefix="/api/v1")

DESK = auth.DESK
READERS = auth.ROLES
WEEK = 7


# -- reading requests ---------------------------------------------------------


def _day(value, field: str = "day") -> date:
    if value in (None, ""):
        return hub().bookings.today()
    try:
        day = date.fromisoformat(str(value))
    except ValueError:
        raise InputError("bad_day", field) from None
    if not 2000 <= day.year <= 2999:  # a week's end must still be a date
        raise InputError("bad_day", field)
    return day


def _start(data: dict) -> datetime:
    """Read a slot's start: "2026-12-04T10:30" in clinic time, or with an offset."""
    text = text_field(data, "start", max_len=40)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InputError("bad_start", "start") from None
    if not 2000 <= moment.year <= 2999:
        raise InputError("bad_start", "start")
    zone = hub().config.clinic.zone
    return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment


def _flag(value) -> bool:
    return value in (True, "1", "true", "yes")


def _weekday(data: dict) -> int:
    value = data.get("weekday")
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise InputError("bad_weekday", "weekday")
    return value


def slot_view(slot: Slot) -> dict:
    return {
        "dentist": slot.dentist,
        "room": slot.room,
        "start": slot.start.isoformat(),
        "end": slot.end.isoformat(),
        "emergency": slot.emergency,
    }


def _actor() -> str:
    return f"staff:{auth.signed_in_staff()}"


# -- the desk: day and week views, booking ---------------------------------------


@bp.get("/schedule/day")
@auth.roles_required(*READERS)
def schedule_day():
    """Return a day per dentist: plan, appointments and free slots."""
    bookings = hub().bookings
    config = hub().config
    day = _day(request.args.get("day"))
    service_id = request.args.get("service") or None
    plans = bookings.day_plans(day)
    appointments = bookings.appointments(day, day)
    dentists = []
    for dentist in config.dentists:
        plan = plans.get(dentist.id)
        free = []
        if plan is not None and (service_id is None or service_id in dentist.services):
            free = _free(service_id, day, dentist)
        dentists.append(
            {
                "id": dentist.id,
                "name": dentist.name,
                "services": list(dentist.services),
                "plan": _plan_view(plan),
                "appointments": [
                    _visible(a) for a in appointments if a.dentist == dentist.id
                ],
                "free": [slot_view(s) for s in free],
            }
        )
    return jsonify(
        day=day.isoformat(),
        today=bookings.today().isoformat(),
        step=config.booking.slot_step_minutes,
        dentists=dentists,
        counts=bookings.counts(day),
    )


def _visible(appointment: AppointmentView) -> dict:
    """Show a dentist (the role) their own patients only; the desk sees all."""
    staff = auth.current_staff()
    if staff.role != auth.DENTIST or staff.dentist == appointment.dentist:
        return appointment.staff()
    # Another dentist's booking: when and what, never who, nor its code.
    seen = {k: v for k, v in appointment.public().items() if k != "code"}
    return dict(seen, id=appointment.id)


def _free(service_id, day, dentist) -> list[Slot]:
    """Free slots for a service, or free stretches of one step when none given."""
    bookings = hub().bookings
    if day < bookings.today():
        return []
    service = service_id or dentist.services[0]
    slots = bookings.free_slots(service, day, dentist.id)
    if service_id is None:
        step = timedelta(minutes=hub().config.booking.slot_step_minutes)
        slots = [
            Slot(s.dentist, s.room, s.start, s.start + step, s.emergency) for s in slots
        ]
    return slots


def _plan_view(plan) -> dict | None:
    if plan is None:
        return None
    return {
        "room": plan.room,
        "starts": plan.hours.start.isoformat(),
        "ends": plan.hours.end.isoformat(),
        "breaks": [[b.start.isoformat(), b.end.isoformat()] for b in plan.breaks],
        "emergency": [[b.start.isoformat(), b.end.isoformat()] for b in plan.emergency],
    }


@bp.get("/schedule/week")
@auth.roles_required(*READERS)
def schedule_week():
    """Return seven days of one dentist: plan, appointments and free slots."""
    bookings = hub().bookings
    config = hub().config
    dentist_id = request.args.get("dentist") or config.dentists[0].id
    dentist = config.dentist(dentist_id)
    if dentist is None:
        raise BookingError("unknown_dentist", 404, dentist=dentist_id)
    first = _day(request.args.get("start"), "start")
    service_id = request.args.get("service") or None
    if service_id not in dentist.services:
        service_id = None
    appointments = bookings.appointments(first, first + timedelta(days=WEEK - 1))
    days = []
    for offset in range(WEEK):
        day = first + timedelta(days=offset)
        plan = bookings.day_plans(day).get(dentist.id)
        free = _free(service_id, day, dentist) if plan else []
        days.append(
            {
                "day": day.isoformat(),
                "plan": _plan_view(plan),
                "appointments": [
                    _visible(a)
                    for a in appointments
                    if a.day == day.isoformat() and a.dentist == dentist.id
                ],
                "free": [slot_view(s) for s in free],
            }
        )
    return jsonify(dentist=dentist.id, days=days, today=bookings.today().isoformat())


@bp.get("/schedule/slots")
@auth.roles_required(*READERS)
def schedule_slots():
    """List a day's free slots for a service (one dentist or any)."""
    slots = hub().bookings.free_slots(
        request.args.get("service", ""),
        _day(request.args.get("day")),
        request.args.get("dentist") or None,
        urgent=_flag(request.args.get("urgent")),
    )
    return jsonify(slots=[slot_view(s) for s in slots])


@bp.get("/schedule/first-free")
@auth.roles_required(*READERS)
def schedule_first_free():
    """Find the earliest free slot for a service with one dentist or any."""
    slot = hub().bookings.first_free(
        request.args.get("service", ""),
        request.args.get("dentist") or None,
        urgent=_flag(request.args.get("urgent")),
    )
    return jsonify(slot=slot_view(slot) if slot else None)


@bp.post("/appointments")
@auth.roles_required(*DESK)
def book():
    """Book an appointment for a patient at the desk or on the phone."""
    data = body()
    appointment = hub().bookings.book(
        text_field(data, "service"),
        _start(data),
        name=text_field(data, "patient_name", max_len=120),
        phone=text_field(data, "phone", max_len=32),
        lang=text_field(data, "lang", required=False) or request_language(),
        actor=_actor(),
        dentist_id=text_field(data, "dentist", required=False),
        urgent=_flag(data.get("urgent")),
    )
    _announce()
    return jsonify(appointment=appointment.staff()), 201


@bp.post("/appointments/<int:appointment_id>/move")
@auth.roles_required(*DESK)
def move(appointment_id: int):
    data = body()
    appointment = hub().bookings.move(
        appointment_id,
        _start(data),
        actor=_actor(),
        dentist_id=text_field(data, "dentist", required=False),
    )
    _announce()
    return jsonify(appointment=appointment.staff())


@bp.post("/appointments/<int:appointment_id>/cancel")
@auth.roles_required(*DESK)
def cancel(appointment_id: int):
    appointment = hub().bookings.cancel(appointment_id, actor=_actor())
    _announce()
    return jsonify(appointment=appointment.staff())


@bp.post("/appointments/<int:appointment_id>/check-in")
@auth.roles_required(*DESK)
def desk_check_in(appointment_id: int):
    """Check a patient in at the desk; the desk tells them their number."""
    the_hub = hub()
    code = the_hub.bookings.find(appointment_id).code
    return _check_in(code, None, actor=_actor())


def _announce() -> None:
    """Tell the staff pages and tablets the schedule changed (after the commit)."""
    hub().broadcaster.send_all_staff("appointments", {})


# -- the desk: plans, exceptions, holidays, emergency blocks ----------------------


@bp.get("/schedule/plans")
@auth.roles_required(*READERS)
def plans():
    bookings = hub().bookings
    return jsonify(
        plans=bookings.week_plans(),
        exceptions=bookings.exceptions(),
        holidays=bookings.holidays(),
        blocks=bookings.blocks(),
    )


@bp.post("/schedule/plans")
@auth.roles_required(*DESK)
def set_plan():
    """Set (or, with no hours, clear) a dentist's hours on one weekday."""
    data = body()
    bookings = hub().bookings
    dentist = text_field(data, "dentist")
    weekday = _weekday(data)
    if not data.get("starts") and not data.get("ends"):
        bookings.clear_week_plan(dentist, weekday)
    else:
        bookings.set_week_plan(
            dentist,
            weekday,
            text_field(data, "starts", max_len=5),
            text_field(data, "ends", max_len=5),
            text_field(data, "room"),
            text_field(data, "breaks", required=False, max_len=200) or "",
        )
    _announce()
    return jsonify(plans=bookings.week_plans())


@bp.post("/schedule/exceptions")
@auth.roles_required(*DESK)
def add_exception():
    data = body()
    first = _day(text_field(data, "first_day"), "first_day")
    last = _day(text_field(data, "last_day", required=False) or first, "last_day")
    dentist = text_field(data, "dentist")
    exception_id = hub().bookings.add_exception(
        dentist,
        first,
        last,
        text_field(data, "kind"),
        text_field(data, "starts", required=False, max_len=5) or "",
        text_field(data, "ends", required=False, max_len=5) or "",
        text_field(data, "room", required=False) or "",
        text_field(data, "note", required=False, max_len=120) or "",
    )
    _announce()
    affected = hub().bookings.booked_between(first, last, dentist)
    return jsonify(id=exception_id, affected=affected), 201


@bp.post("/schedule/holidays")
@auth.roles_required(*DESK)
def add_holiday():
    data = body()
    day = _day(text_field(data, "day"), "day")
    holiday_id = hub().bookings.add_holiday(
        day, text_field(data, "name", required=False, max_len=120) or ""
    )
    _announce()
    affected = hub().bookings.booked_between(day, day)
    return jsonify(id=holiday_id, affected=affected), 201


@bp.post("/schedule/blocks")
@auth.roles_required(*DESK)
def add_block():
    data = body()
    day = text_field(data, "day", required=False)
    weekday = data.get("weekday")
    block_id = hub().bookings.add_block(
        text_field(data, "dentist"),
        text_field(data, "starts", max_len=5),
        text_field(data, "ends", max_len=5),
        weekday=_weekday(data) if weekday not in (None, "") else None,
        day=_day(day) if day else None,
    )
    _announce()
    return jsonify(id=block_id), 201


_DELETERS = {
    "exceptions": "delete_exception",
    "holidays": "delete_holiday",
    "blocks": "delete_block",
}


@bp.post("/schedule/<any(exceptions, holidays, blocks):kind>/<int:item_id>/delete")
@auth.roles_required(*DESK)
def delete_item(kind: str, item_id: int):
    getattr(hub().bookings, _DELETERS[kind])(item_id)
    _announce()
    return jsonify(ok=True)


# -- the dentist's tablet ---------------------------------------------------------


@bp.get("/dentist/today")
@auth.dentist_required
def dentist_today():
    """Return the tablet's dentist's plan, appointments and walk-ins today."""
    the_hub = hub()
    bookings = the_hub.bookings
    dentist = the_hub.config.dentist(auth.signed_in_dentist())
    today = bookings.today()
    plan = bookings.day_plans(today).get(dentist.id)
    appointments = bookings.appointments(today, today, dentist.id)
    waiting = the_hub.queue.waiting(dentist.services, dentist=dentist.id)
    return jsonify(
        plan=_plan_view(plan),
        appointments=[_tablet_view(a) for a in appointments],
        walk_ins=sum(1 for t in waiting if t.priority != "appointment"),
    )


def _tablet_view(appointment: AppointmentView) -> dict:
    # The dentist sees their own patients' names, never their phones.
    view = appointment.public()
    view["patient_name"] = appointment.patient_name
    view["ticket"] = appointment.ticket
    return view


# -- public: the booking page and the kiosk's check-in ---------------------------


def _limits() -> dict[str, RateLimit]:
    extensions = current_app.extensions
    if "navbat_booking_limits" not in extensions:
        settings = hub().config.booking
        extensions["navbat_booking_limits"] = {
            "lookups": RateLimit(settings.lookups_per_minute, 60),
            "bookings": RateLimit(settings.bookings_per_hour, 3600),
        }
    return extensions["navbat_booking_limits"]


def _client() -> str:
    # TODO: behind a reverse proxy, trust X-Forwarded-For for the client address.
    return request.remote_addr or "unknown"


def _require_open(limit: str | None = None) -> None:
    """Refuse when public booking is off, or this address asked too often."""
    if not hub().config.booking.public:
        raise BookingError("booking_closed", 404)
    if limit and not _limits()[limit].allowed(_client()):
        raise BookingError("too_many_requests", 429)


def _missed_lookup() -> None:
    """Count a wrong code: guessing codes is slowed to a crawl per address."""
    if not _limits()["lookups"].hit(_client()):
        logger.warning("booking lookups limited: address=%s", _client())


def _appointment_by_code(code: str) -> AppointmentView:
    _require_open("lookups")
    try:
        return hub().bookings.find(code)
    except BookingError:
        _missed_lookup()
        raise


@bp.get("/booking/options")
@auth.public
def booking_options():
    """Tell the booking page what may be booked, with whom and how far ahead."""
    _require_open()
    config = hub().config
    return jsonify(
        services=[
            {
                "id": s.id,
                "name": s.name,
                "minutes": s.minutes,
                "dentists": [d.id for d in config.dentists if s.id in d.services],
            }
            for s in config.services
        ],
        dentists=[{"id": d.id, "name": d.name} for d in config.dentists],
        rooms={r.id: r.name for r in config.rooms},
        today=hub().bookings.today().isoformat(),
        days_ahead=config.booking.days_ahead,
        min_lead_minutes=config.booking.min_lead_minutes,
    )


@bp.get("/booking/slots")
@auth.public
def booking_slots():
    """List a day's free slots for a patient booking themselves."""
    _require_open()
    slots = hub().bookings.free_slots(
        request.args.get("service", ""),
        _day(request.args.get("day")),
        request.args.get("dentist") or None,
        public=True,
    )
    # The patient needs times, not where the time sits among emergencies.
    return jsonify(
        slots=[
            {
                "dentist": s.dentist,
                "start": s.start.isoformat(),
                "end": s.end.isoformat(),
            }
            for s in slots
        ]
    )


@bp.post("/booking")
@auth.public
def booking_create():
    """Book a visit from the public page; answer with the booking code."""
    _require_open("bookings")
    data = body()
    appointment = hub().bookings.book(
        text_field(data, "service"),
        _start(data),
        name=text_field(data, "patient_name", max_len=120),
        phone=text_field(data, "phone", max_len=32),
        lang=request_language(),
        actor="patient",
        dentist_id=text_field(data, "dentist", required=False),
        public=True,
    )
    _limits()["bookings"].hit(_client())
    _announce()
    return jsonify(appointment=appointment.public()), 201


@bp.get("/booking/<code>")
@auth.public
def booking_lookup(code: str):
    return jsonify(appointment=_appointment_by_code(code).public())


@bp.post("/booking/<code>/move")
@auth.public
def booking_move(code: str):
    data = body()
    _appointment_by_code(code)
    appointment = hub().bookings.move(
        code,
        _start(data),
        actor="patient",
        dentist_id=text_field(data, "dentist", required=False),
        public=True,
    )
    _announce()
    return jsonify(appointment=appointment.public())


@bp.post("/booking/<code>/cancel")
@auth.public
def booking_cancel(code: str):
    body()  # a JSON POST: a plain form on another site cannot send it
    _appointment_by_code(code)
    appointment = hub().bookings.cancel(code, actor="patient", public=True)
    _announce()
    return jsonify(appointment=appointment.public())


@bp.post("/checkin")
@auth.public
def kiosk_check_in():
    """Check a patient in at the kiosk with their booking code or phone."""
    data = body()
    kiosk_id = text_field(data, "kiosk")
    if hub().config.kiosk(kiosk_id) is None:
        raise InputError("unknown_kiosk", "kiosk", kiosk=kiosk_id)
    if not _limits()["lookups"].allowed(_client()):
        raise BookingError("too_many_requests", 429)
    typed = text_field(data, "code", max_len=32)
    try:
        return _check_in(typed, kiosk_id)
    except BookingError:
        # Every refusal counts, not only unknown codes: typing other people's
        # phones must not be a way to learn who comes when.
        _missed_lookup()
        raise


def _check_in(typed: str, kiosk_id: str | None, actor: str | None = None):
    """Check in and answer as POST /tickets does, plus the appointment."""
    from server.i18n import translate

    the_hub = hub()
    printer = the_hub.spool.printer_for_kiosk(kiosk_id) if kiosk_id else None
    lang = request_language()
    result = the_hub.bookings.check_in(
        typed, kiosk_id=kiosk_id, lang=lang, printer=printer, actor=actor
    )
    the_hub.spool.wake()
    the_hub.publish(result.events)
    _announce()

    ticket = result.issued.ticket
    # A booked patient who has a card gets this visit on it, as reception would.
    registry().link_checked_in(
        ticket.id, result.appointment.phone, actor or f"kiosk:{kiosk_id}"
    )
    message = translate(
        lang,
        "booking.checked_in_late" if result.walk_in else "booking.checked_in",
        ticket=ticket.label,
    )
    return jsonify(
        ticket=dict(ticket.public(), token=ticket.token),
        ahead=result.issued.ahead,
        wait=the_hub.queue.estimate(ticket.id),
        url=the_hub.ticket_url(ticket.token),
        qr=f"/api/v1/tickets/{ticket.token}/qr.svg",
        printer=the_hub.spool.state(printer),
        created=True,
        walk_in=result.walk_in,
        message=message,
        # Checked in by phone: the code stays with whoever booked.
        appointment={
            k: v
            for k, v in result.appointment.public().items()
            if k != "code" or looks_like_code(typed)
        },
    ), 201
