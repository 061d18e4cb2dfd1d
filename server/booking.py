"""Appointments: booking, moving, cancelling, check-in, and the working plans.

Like the queue engine, nothing here imports Flask. Every change runs in one
write transaction that re-reads what is free, so two people booking the last
slot at once cannot both get it: the second one is refused with a message.
"""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from peewee import IntegrityError

from server import phones, schedule
from server.config import Config
from server.db import reading, writing
from server.engine import Event, Issued, Queue
from server.errors import BookingError, InputError
from server.models import (
    Appointment,
    EmergencyBlock,
    Holiday,
    PlanException,
    Ticket,
    WorkPlan,
)
from server.schedule import Busy, DayPlan, Slot, Span

logger = logging.getLogger(__name__)

# No 0/O, 1/I/L, 2/Z, 8/B, G/6, Q, S/5: a code read aloud or typed is not mistaken.
CODE_ALPHABET = "ACDEFHJKMNPRTUVWXY3479"
CODE_LENGTH = 6
ACTIVE = ("booked", "checked_in")
NAME_MAX = 120


@dataclass(frozen=True)
class AppointmentView:
    """An appointment as the pages see it; times in the clinic's zone."""

    id: int
    code: str
    service: str
    dentist: str
    room: str
    day: str
    starts: str
    ends: str
    state: str
    urgent: bool
    patient_name: str
    phone: str
    lang: str
    ticket: str | None

    def public(self) -> dict:
        """Return what the holder of the code may see: no name, no phone."""
        return {
            "code": self.code,
            "service": self.service,
            "dentist": self.dentist,
            "room": self.room,
            "day": self.day,
            "starts": self.starts,
            "ends": self.ends,
            "state": self.state,
        }

    def staff(self) -> dict:
        return dict(
            self.public(),
            id=self.id,
            urgent=self.urgent,
            patient_name=self.patient_name,
            phone=self.phone,
            phone_display=phones.display(self.phone),
            lang=self.lang,
            ticket=self.ticket,
        )


@dataclass(frozen=True)
class CheckIn:
    """A check-in's outcome: the ticket, and whether it became a walk-in."""

    appointment: AppointmentView
    issued: Issued
    walk_in: bool
    events: list[Event] = field(default_factory=list)


def format_code(code: str) -> str:
    """Show a booking code in two halves: "KM7-3PX"."""
    return f"{code[:3]}-{code[3:]}"


def clean_code(typed: str) -> str:
    """Read a code as people type it: any case, with spaces or dashes."""
    return re.sub(r"[^A-Z0-9]", "", (typed or "").upper())


def looks_like_code(typed: str) -> bool:
    cleaned = clean_code(typed)
    return len(cleaned) == CODE_LENGTH and all(c in CODE_ALPHABET for c in cleaned)


class Bookings:
    """The clinic's appointments and working plans."""

    def __init__(self, config: Config, queue: Queue):
        self.config = config
        self.queue = queue
        self.zone = config.clinic.zone
        self.settings = config.booking

    # -- time ------------------------------------------------------------

    def now(self) -> datetime:
        """Return the current time in the clinic's zone."""
        return self.queue.clock().astimezone(self.zone)

    def today(self) -> date:
        return self.now().date()

    def _local(self, stored: datetime) -> datetime:
        return stored.replace(tzinfo=UTC).astimezone(self.zone)

    @staticmethod
    def _stored(moment: datetime) -> datetime:
        return moment.astimezone(UTC).replace(tzinfo=None)

    # -- reading the plans -------------------------------------------------------

    def _weekly(self) -> list[schedule.WeeklyPlan]:
        return [
            schedule.WeeklyPlan(
                p.dentist,
                p.weekday,
                p.starts,
                p.ends,
                p.room,
                schedule.parse_breaks(p.breaks),
            )
            for p in WorkPlan.select()
        ]

    def _changes(self, first: date, last: date) -> list[schedule.PlanChange]:
        rows = PlanException.select().where(
            (PlanException.first_day <= last.isoformat())
            & (PlanException.last_day >= first.isoformat())
        )
        return [
            schedule.PlanChange(
                r.dentist,
                date.fromisoformat(r.first_day),
                date.fromisoformat(r.last_day),
                r.kind,
                r.starts,
                r.ends,
                r.room,
            )
            for r in rows
        ]

    def _holidays(self, first: date, last: date) -> set[date]:
        rows = Holiday.select().where(
            (Holiday.day >= first.isoformat()) & (Holiday.day <= last.isoformat())
        )
        return {date.fromisoformat(r.day) for r in rows}

    def _blocks(self) -> list[schedule.Block]:
        return [
            schedule.Block(
                b.dentist,
                b.starts,
                b.ends,
                b.weekday,
                date.fromisoformat(b.day) if b.day else None,
            )
            for b in EmergencyBlock.select()
        ]

    def _day_plans(self, day: date, dentists=None) -> dict[str, DayPlan]:
        """Resolve every (or the given) dentist's plan for a day."""
        weekly, changes = self._weekly(), self._changes(day, day)
        holidays, blocks = self._holidays(day, day), self._blocks()
        plans = {}
        for dentist in dentists or [d.id for d in self.config.dentists]:
            plan = schedule.day_plan(
                dentist, day, self.zone, weekly, changes, holidays, blocks
            )
            if plan is not None:
                plans[dentist] = plan
        return plans

    def _busy(self, day: date, exclude: int | None = None) -> Busy:
        rows = Appointment.select().where(
            (Appointment.day == day.isoformat()) & Appointment.state.in_(ACTIVE)
        )
        busy = Busy()
        for row in rows:
            if row.id == exclude:
                continue
            span = Span(self._local(row.starts_at), self._local(row.ends_at))
            busy.dentists.setdefault(row.dentist, []).append(span)
            busy.rooms.setdefault(row.room, []).append(span)
        return busy

    # -- free slots --------------------------------------------------------------

    def _providers(self, service_id: str, dentist_id: str | None) -> list[str]:
        service = self.config.service(service_id)
        if service is None:
            raise BookingError("unknown_service", 404, service=service_id)
        if dentist_id:
            dentist = self.config.dentist(dentist_id)
            if dentist is None:
                raise BookingError("unknown_dentist", 404, dentist=dentist_id)
            if service_id not in dentist.services:
                raise BookingError(
                    "dentist_lacks_service", dentist=dentist.name, service=service_id
                )
            return [dentist.id]
        return [d.id for d in self.config.dentists if service_id in d.services]

    def _check_day(self, day: date, public: bool) -> None:
        today = self.today()
        if day < today:
            raise BookingError("day_in_past", 400, day=day.isoformat())
        if public and day > today + timedelta(days=self.settings.days_ahead):
            raise BookingError(
                "day_too_far", 400, day=day.isoformat(), days=self.settings.days_ahead
            )

    def _slots(
        self,
        service_id: str,
        day: date,
        dentist_id: str | None,
        *,
        urgent: bool,
        public: bool,
        exclude: int | None = None,
    ) -> list[Slot]:
        providers = self._providers(service_id, dentist_id)
        now = self.now()
        lead = timedelta(minutes=self.settings.min_lead_minutes if public else 0)
        busy = self._busy(day, exclude)
        minutes = self.config.service(service_id).minutes
        slots = []
        for plan in self._day_plans(day, providers).values():
            slots += schedule.free_slots(
                plan,
                minutes,
                self.settings.slot_step_minutes,
                busy,
                not_before=now + lead,
                now=now,
                urgent=urgent,
                release=timedelta(minutes=self.settings.emergency_release_minutes),
            )
        order = {d: i for i, d in enumerate(providers)}
        return sorted(slots, key=lambda s: (s.start, order[s.dentist]))

    def free_slots(
        self,
        service_id: str,
        day: date,
        dentist_id: str | None = None,
        *,
        urgent: bool = False,
        public: bool = False,
    ) -> list[Slot]:
        """List a day's free slots for a service, with one dentist or any."""
        self._check_day(day, public)
        with reading():
            return self._slots(
                service_id, day, dentist_id, urgent=urgent, public=public
            )

    def first_free(
        self,
        service_id: str,
        dentist_id: str | None = None,
        *,
        urgent: bool = False,
        public: bool = False,
        days: int | None = None,
    ) -> Slot | None:
        """Find the earliest free slot for a service from now on."""
        days = self.settings.days_ahead if days is None else days
        today = self.today()
        with reading():
            for offset in range(days + 1):
                slots = self._slots(
                    service_id,
                    today + timedelta(days=offset),
                    dentist_id,
                    urgent=urgent,
                    public=public,
                )
                if slots:
                    return slots[0]
        return None

    # -- booking ---------------------------------------------------------------

    def book(
        self,
        service_id: str,
        start: datetime,
        *,
        name: str,
        phone: str,
        lang: str,
        actor: str,
        dentist_id: str | None = None,
        urgent: bool = False,
        public: bool = False,
    ) -> AppointmentView:
        """Book a visit at start with the dentist (or the first free one)."""
        name = _clean_name(name)
        phone = phones.normalize(phone)
        if lang not in self.config.clinic.languages:
            lang = self.config.clinic.default_language
        start = start.astimezone(self.zone)
        self._check_day(start.date(), public)

        with writing():
            slot = self._take(service_id, start, dentist_id, urgent, public)
            row = self._create(
                service_id, slot, name, phone, lang, actor, urgent and slot.emergency
            )
        view = self._view(row)
        logger.info(
            "appointment #%s booked: service=%s dentist=%s room=%s at=%s actor=%s",
            row.id,
            service_id,
            slot.dentist,
            slot.room,
            view.starts,
            actor,
        )
        return view

    def _take(self, service_id, start, dentist_id, urgent, public, exclude=None):
        """Return the free slot at start, re-read inside the write transaction."""
        slots = self._slots(
            service_id,
            start.date(),
            dentist_id,
            urgent=urgent,
            public=public,
            exclude=exclude,
        )
        slot = schedule.fits(slots, start)
        if slot is None:
            raise BookingError("slot_taken", time=start.strftime("%H:%M"))
        return slot

    def _create(self, service_id, slot, name, phone, lang, actor, urgent):
        for _ in range(5):
            try:
                with writing():  # a savepoint: a code clash retries only this
                    return Appointment.create(
                        code=_new_code(),
                        dentist=slot.dentist,
                        room=slot.room,
                        service=service_id,
                        day=slot.start.date().isoformat(),
                        starts_at=self._stored(slot.start),
                        ends_at=self._stored(slot.end),
                        patient_name=name,
                        phone=phone,
                        lang=lang,
                        urgent=urgent,
                        booked_by=actor,
                    )
            except IntegrityError:
                continue
        raise BookingError("busy_try_again", 503)

    def move(
        self,
        appointment: int | str,
        start: datetime,
        *,
        actor: str,
        dentist_id: str | None = None,
        public: bool = False,
    ) -> AppointmentView:
        """Move a booked appointment to another free time (and dentist)."""
        start = start.astimezone(self.zone)
        self._check_day(start.date(), public)
        with writing():
            row = self._row(appointment)
            self._check_changeable(row, public)
            slot = self._take(
                row.service,
                start,
                dentist_id or (row.dentist if public else None),
                row.urgent,
                public,
                exclude=row.id,
            )
            row.dentist, row.room = slot.dentist, slot.room
            row.day = slot.start.date().isoformat()
            row.starts_at = self._stored(slot.start)
            row.ends_at = self._stored(slot.end)
            row.changed_at = self.queue.now()
            row.save()
        view = self._view(row)
        logger.info(
            "appointment #%s moved: dentist=%s room=%s at=%s actor=%s",
            row.id,
            row.dentist,
            row.room,
            view.starts,
            actor,
        )
        return view

    def cancel(
        self, appointment: int | str, *, actor: str, public: bool = False
    ) -> AppointmentView:
        """Cancel a booked appointment: its time is free again."""
        with writing():
            row = self._row(appointment)
            self._check_changeable(row, public)
            row.state = "cancelled"
            row.changed_at = self.queue.now()
            row.save()
        logger.info("appointment #%s cancelled: actor=%s", row.id, actor)
        return self._view(row)

    def _check_changeable(self, row: Appointment, public: bool) -> None:
        if row.state != "booked":
            raise BookingError("not_booked", booking=format_code(row.code))
        lead = timedelta(minutes=self.settings.min_lead_minutes if public else 0)
        if self._local(row.starts_at) - lead < self.now():
            raise BookingError(
                "too_late_to_change",
                booking=format_code(row.code),
                minutes=self.settings.min_lead_minutes,
            )

    # -- finding appointments ---------------------------------------------------

    def _row(self, appointment: int | str) -> Appointment:
        if isinstance(appointment, int):
            row = Appointment.get_or_none(Appointment.id == appointment)
        else:
            row = Appointment.get_or_none(Appointment.code == clean_code(appointment))
        if row is None:
            raise BookingError("unknown_appointment", 404)
        return row

    def find(self, appointment: int | str) -> AppointmentView:
        """Return one appointment by its id or booking code."""
        with reading():
            return self._view(self._row(appointment))

    def appointments(
        self, first: date, last: date, dentist_id: str | None = None
    ) -> list[AppointmentView]:
        """List the booked and checked-in appointments of some days."""
        with reading():
            query = Appointment.select().where(
                (Appointment.day >= first.isoformat())
                & (Appointment.day <= last.isoformat())
                & Appointment.state.in_((*ACTIVE, "missed"))
            )
            if dentist_id:
                query = query.where(Appointment.dentist == dentist_id)
            return [self._view(r) for r in query.order_by(Appointment.starts_at)]

    def counts(self, day: date) -> dict[str, int]:
        """Count a day's appointments per state (missed ones included)."""
        with reading():
            rows = Appointment.select().where(Appointment.day == day.isoformat())
            counts: dict[str, int] = {}
            for row in rows:
                counts[row.state] = counts.get(row.state, 0) + 1
        return counts

    def day_plans(self, day: date) -> dict[str, DayPlan]:
        with reading():
            return self._day_plans(day)

    def _view(self, row: Appointment) -> AppointmentView:
        ticket = (
            Ticket.get_or_none(Ticket.id == row.ticket_id) if row.ticket_id else None
        )
        return AppointmentView(
            id=row.id,
            code=format_code(row.code),
            service=row.service,
            dentist=row.dentist,
            room=row.room,
            day=row.day,
            starts=self._local(row.starts_at).isoformat(),
            ends=self._local(row.ends_at).isoformat(),
            state=row.state,
            urgent=row.urgent,
            patient_name=row.patient_name,
            phone=row.phone,
            lang=row.lang,
            ticket=ticket.label if ticket else None,
        )

    # -- check-in --------------------------------------------------------------

    def check_in(
        self,
        typed: str,
        *,
        kiosk_id: str | None,
        lang: str,
        printer: str | None = None,
        actor: str | None = None,
    ) -> CheckIn:
        """Turn an arriving patient's appointment into a ticket in the queue.

        In the window (early before the start, late after it) the ticket is
        in the appointment class and waits for the booked dentist. Later, the
        appointment counts as missed and the patient gets a walk-in ticket.
        """
        settings = self.settings
        now = self.now()
        with writing():
            row = self._arriving(typed)
            if row.ticket_id is not None:
                ticket = Ticket.get_by_id(row.ticket_id)
                raise BookingError("already_checked_in", ticket=ticket.label)
            if row.state == "cancelled":
                raise BookingError(
                    "appointment_cancelled", booking=format_code(row.code)
                )
            starts = self._local(row.starts_at)
            if starts.date() != now.date():
                raise BookingError(
                    "appointment_not_today", day=starts.strftime("%d.%m.%Y")
                )
            opens = starts - timedelta(minutes=settings.checkin_early_minutes)
            if now < opens:
                raise BookingError(
                    "checkin_too_early",
                    time=starts.strftime("%H:%M"),
                    opens=opens.strftime("%H:%M"),
                )
            late = now > starts + timedelta(minutes=settings.checkin_late_minutes)
            issued = self.queue.issue(
                row.service,
                kiosk_id=kiosk_id,
                lang=lang,
                printer=printer,
                priority="normal" if late else "appointment",
                by_staff=True,
                dentist_id=None if late else row.dentist,
            )
            row.state = "missed" if late else "checked_in"
            row.ticket = issued.ticket.id
            row.changed_at = self.queue.now()
            row.save()
        logger.info(
            "appointment #%s checked in: ticket=%s walk_in=%s actor=%s",
            row.id,
            issued.ticket.label,
            late,
            actor or f"kiosk:{kiosk_id}",
        )
        return CheckIn(self._view(row), issued, late, issued.events)

    def _arriving(self, typed: str) -> Appointment:
        """Find the appointment a patient names by code, or today's by phone."""
        if looks_like_code(typed):
            row = Appointment.get_or_none(Appointment.code == clean_code(typed))
            if row is None:
                raise BookingError("unknown_appointment", 404)
            return row
        phone = phones.normalize(typed, "code")
        rows = list(
            Appointment.select()
            .where(
                (Appointment.phone == phone)
                & (Appointment.day == self.today().isoformat())
                & (Appointment.state != "cancelled")
            )
            .order_by(Appointment.starts_at)
        )
        if not rows:
            raise BookingError("no_appointment_today", 404)
        # The first one not yet used; else the last, to say it is used.
        return next((r for r in rows if r.ticket_id is None), rows[-1])

    def mark_missed(self) -> int:
        """Mark booked appointments whose check-in window has closed as missed."""
        late = timedelta(minutes=self.settings.checkin_late_minutes)
        cutoff = self.queue.now() - late
        with writing():
            missed = (
                Appointment.update(state="missed", changed_at=self.queue.now())
                .where(
                    (Appointment.state == "booked") & (Appointment.starts_at < cutoff)
                )
                .execute()
            )
        if missed:
            logger.info("appointments missed: %d", missed)
        return missed

    # -- editing the plans -------------------------------------------------------

    def week_plans(self) -> list[dict]:
        with reading():
            return [
                {
                    "id": p.id,
                    "dentist": p.dentist,
                    "weekday": p.weekday,
                    "starts": p.starts,
                    "ends": p.ends,
                    "room": p.room,
                    "breaks": p.breaks,
                }
                for p in WorkPlan.select().order_by(WorkPlan.dentist, WorkPlan.weekday)
            ]

    def set_week_plan(
        self,
        dentist_id: str,
        weekday: int,
        starts: str,
        ends: str,
        room: str,
        breaks: str = "",
    ) -> None:
        """Set a dentist's hours on a weekday; refuse a room taken at that time."""
        self._check_dentist(dentist_id)
        if not (isinstance(weekday, int) and 0 <= weekday <= 6):
            raise InputError("bad_weekday", "weekday")
        self._check_hours(starts, ends)
        if self.config.room(room) is None:
            raise InputError("unknown_room", "room", room=room)
        try:
            pairs = schedule.parse_breaks(breaks)
        except ValueError as err:
            raise InputError("bad_breaks", "breaks", value=str(err)) from None
        if any(not (starts <= s and e <= ends) for s, e in pairs):
            raise InputError("break_outside_hours", "breaks")

        # TODO: check a new weekly plan against saved changed-hours exceptions too.
        with writing():
            others = [p for p in self._weekly() if p.dentist != dentist_id]
            mine = schedule.WeeklyPlan(dentist_id, weekday, starts, ends, room, pairs)
            clashes = schedule.room_clashes([mine, *others])
            if clashes:
                other = clashes[0][1]
                raise BookingError(
                    "room_taken",
                    room=room,
                    dentist=self.config.dentist(other.dentist).name,
                    starts=other.starts,
                    ends=other.ends,
                )
            WorkPlan.insert(
                dentist=dentist_id,
                weekday=weekday,
                starts=starts,
                ends=ends,
                room=room,
                breaks=schedule.format_breaks(pairs),
            ).on_conflict(
                conflict_target=[WorkPlan.dentist, WorkPlan.weekday],
                update={
                    WorkPlan.starts: starts,
                    WorkPlan.ends: ends,
                    WorkPlan.room: room,
                    WorkPlan.breaks: schedule.format_breaks(pairs),
                },
            ).execute()
        logger.info(
            "plan set: dentist=%s weekday=%s room=%s", dentist_id, weekday, room
        )

    def clear_week_plan(self, dentist_id: str, weekday: int) -> None:
        """Make a weekday a day without work for a dentist."""
        self._check_dentist(dentist_id)
        with writing():
            WorkPlan.delete().where(
                (WorkPlan.dentist == dentist_id) & (WorkPlan.weekday == weekday)
            ).execute()

    def exceptions(self) -> list[dict]:
        with reading():
            return [
                {
                    "id": e.id,
                    "dentist": e.dentist,
                    "first_day": e.first_day,
                    "last_day": e.last_day,
                    "kind": e.kind,
                    "starts": e.starts,
                    "ends": e.ends,
                    "room": e.room,
                    "note": e.note,
                }
                for e in PlanException.select().order_by(PlanException.first_day)
            ]

    def add_exception(
        self,
        dentist_id: str,
        first: date,
        last: date,
        kind: str,
        starts: str = "",
        ends: str = "",
        room: str = "",
        note: str = "",
    ) -> int:
        """Add a day off, a vacation, or changed hours on some dates."""
        self._check_dentist(dentist_id)
        if kind not in schedule.KINDS:
            raise InputError("bad_kind", "kind")
        if last < first or (last - first).days > 366:
            raise InputError("bad_range", "last_day")
        if kind == "hours":
            self._check_hours(starts, ends)
            if room and self.config.room(room) is None:
                raise InputError("unknown_room", "room", room=room)
        else:
            starts = ends = room = ""
        with writing():
            row = PlanException.create(
                dentist=dentist_id,
                first_day=first.isoformat(),
                last_day=last.isoformat(),
                kind=kind,
                starts=starts,
                ends=ends,
                room=room,
                note=note[:120],
            )
            if kind == "hours":
                self._refuse_day_clashes(first, last)
        logger.info("plan exception added: dentist=%s kind=%s", dentist_id, kind)
        return row.id

    def _refuse_day_clashes(self, first: date, last: date) -> None:
        day = first
        while day <= last:
            plans = list(self._day_plans(day).values())
            clashes = schedule.day_clashes(plans)
            if clashes:
                a, b = clashes[0]
                raise BookingError(
                    "room_taken",
                    room=a.room,
                    dentist=self.config.dentist(b.dentist).name,
                    starts=b.hours.start.strftime("%H:%M"),
                    ends=b.hours.end.strftime("%H:%M"),
                )
            day += timedelta(days=1)

    def booked_between(self, first: date, last: date, dentist_id=None) -> int:
        """Count active appointments on some days (to warn about a day off)."""
        with reading():
            query = Appointment.select().where(
                (Appointment.day >= first.isoformat())
                & (Appointment.day <= last.isoformat())
                & (Appointment.state == "booked")
            )
            if dentist_id:
                query = query.where(Appointment.dentist == dentist_id)
            return query.count()

    def delete_exception(self, exception_id: int) -> None:
        with writing():
            gone = (
                PlanException.delete().where(PlanException.id == exception_id).execute()
            )
        if not gone:
            raise BookingError("unknown_entry", 404)

    def holidays(self) -> list[dict]:
        with reading():
            return [
                {"id": h.id, "day": h.day, "name": h.name}
                for h in Holiday.select().order_by(Holiday.day)
            ]

    def add_holiday(self, day: date, name: str) -> int:
        with writing():
            row = Holiday.get_or_none(Holiday.day == day.isoformat())
            if row is None:
                row = Holiday.create(day=day.isoformat(), name=name[:120])
        logger.info("holiday added: day=%s", day)
        return row.id

    def delete_holiday(self, holiday_id: int) -> None:
        with writing():
            gone = Holiday.delete().where(Holiday.id == holiday_id).execute()
        if not gone:
            raise BookingError("unknown_entry", 404)

    def blocks(self) -> list[dict]:
        with reading():
            return [
                {
                    "id": b.id,
                    "dentist": b.dentist,
                    "weekday": b.weekday,
                    "day": b.day,
                    "starts": b.starts,
                    "ends": b.ends,
                }
                for b in EmergencyBlock.select().order_by(EmergencyBlock.dentist)
            ]

    def add_block(
        self,
        dentist_id: str,
        starts: str,
        ends: str,
        *,
        weekday: int | None = None,
        day: date | None = None,
    ) -> int:
        """Keep time free for urgent cases, on a weekday or on one date."""
        self._check_dentist(dentist_id)
        self._check_hours(starts, ends)
        if (weekday is None) == (day is None):
            raise InputError("block_when", "weekday")
        if weekday is not None and not 0 <= weekday <= 6:
            raise InputError("bad_weekday", "weekday")
        with writing():
            row = EmergencyBlock.create(
                dentist=dentist_id,
                weekday=weekday,
                day=day.isoformat() if day else None,
                starts=starts,
                ends=ends,
            )
        return row.id

    def delete_block(self, block_id: int) -> None:
        with writing():
            gone = (
                EmergencyBlock.delete().where(EmergencyBlock.id == block_id).execute()
            )
        if not gone:
            raise BookingError("unknown_entry", 404)

    def _check_dentist(self, dentist_id: str) -> None:
        if self.config.dentist(dentist_id) is None:
            raise BookingError("unknown_dentist", 404, dentist=dentist_id)

    @staticmethod
    def _check_hours(starts: str, ends: str) -> None:
        if not schedule.is_clock(starts):
            raise InputError("bad_time", "starts")
        if not schedule.is_clock(ends) or ends <= starts:
            raise InputError("bad_time", "ends")


def seed_demo_schedule(config: Config) -> bool:
    """Give each dentist a plan on first start of a clinic with demo_schedule on.

    Weekdays 09:00-18:00 with lunch 13:00-14:00 in the dentist's own room,
    Saturdays 09:00-14:00, and a 09:00-10:00 emergency block on weekdays.
    """
    if not config.booking.demo_schedule:
        return False
    with writing():
        if WorkPlan.select().exists():
            return False
        for dentist in config.dentists:
            for weekday in range(5):
                WorkPlan.create(
                    dentist=dentist.id,
                    weekday=weekday,
                    starts="09:00",
                    ends="18:00",
                    room=dentist.room,
                    breaks="13:00-14:00",
                )
                EmergencyBlock.create(
                    dentist=dentist.id, weekday=weekday, starts="09:00", ends="10:00"
                )
            WorkPlan.create(
                dentist=dentist.id,
                weekday=5,
                starts="09:00",
                ends="14:00",
                room=dentist.room,
            )
    logger.info("demo working plans seeded for %d dentists", len(config.dentists))
    return True


def _new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def _clean_name(name: str) -> str:
    text = " ".join((name or "").split())
    if not text:
        raise InputError("field_missing", "patient_name")
    if len(text) > NAME_MAX:
        raise InputError("field_too_long", "patient_name", max=NAME_MAX)
    return text
