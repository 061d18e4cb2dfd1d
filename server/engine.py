"""The queue engine: every rule about tickets, and nothing about the web.

Functions take plain values, change the database in one transaction that also
writes the event log, and return domain events for the caller to publish after
the commit. Nothing here imports Flask or Socket.IO.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from peewee import Case, IntegrityError, fn

from server import rules
from server.config import WEEKDAYS, Config
from server.db import Prepared, database, insert, reading, writing
from server.errors import QueueError
from server.models import Dentist, PrintJob, Ticket, TicketEvent

logger = logging.getLogger(__name__)

RECENT_CALLS = 8
OPEN_STATES = ("waiting", "called", "serving")
DURATION_SAMPLE = 20  # recent visits per service behind the wait estimate
DURATION_DAYS = 14
PRIOR_VISITS = 3  # the configured visit length weighs as much as 3 real ones
# Beyond SQLite's ids: a newcomer sorts after every ticket of the same instant.
NEWCOMER = 2**63


@dataclass(frozen=True)
class TicketView:
    """What the surfaces may know about a ticket: never a patient's name."""

    id: int
    label: str
    service: str
    state: str
    priority: str
    day: str
    lang: str
    token: str
    kiosk: str | None
    room: str | None
    dentist: str | None
    recalls: int
    issued_at: str
    called_at: str | None

    @classmethod
    def of(cls, ticket: Ticket) -> TicketView:
        return cls(
            id=ticket.id,
            label=ticket.label,
            service=ticket.service,
            state=ticket.state,
            priority=ticket.priority,
            day=ticket.day,
            lang=ticket.lang,
            token=ticket.token,
            kiosk=ticket.kiosk,
            room=ticket.room,
            dentist=ticket.dentist_id,
            recalls=ticket.recalls,
            issued_at=_iso(ticket.issued_at),
            called_at=_iso(ticket.called_at),
        )

    def public(self) -> dict:
        """Return the fields any screen may show (no token, no dentist)."""
        return {
            "label": self.label,
            "service": self.service,
            "state": self.state,
            "priority": self.priority,
            "room": self.room,
            "recalls": self.recalls,
            "issued_at": self.issued_at,
            "called_at": self.called_at,
        }

    def staff(self) -> dict:
        """Return the fields staff pages show (ids, dentist, kiosk; no token)."""
        return dict(self.public(), id=self.id, dentist=self.dentist, kiosk=self.kiosk)


@dataclass(frozen=True)
class Event:
    """Something that happened, to be broadcast after the commit.

    Ticket events carry the ticket; a dentist pausing or resuming carries the
    dentist and room instead (id 0: it is not in the ticket event log).
    """

    id: int  # the event log row: clients use it to skip what a snapshot had
    action: str
    ticket: TicketView | None
    actor: str
    from_state: str | None = None
    dentist: str | None = None
    room: str | None = None


@dataclass(frozen=True)
class Issued:
    ticket: TicketView
    ahead: int
    created: bool  # False when a repeated tap returned the earlier ticket
    events: list[Event] = field(default_factory=list)


@dataclass(frozen=True)
class Forecast:
    """One replay of today's line: each waiting ticket's wait, a newcomer's."""

    version: int  # the queue's write count when it was read
    now: datetime
    line: list[tuple[rules.Waiting, str]]  # in call order, with labels
    waits: dict[int, timedelta | None]
    newcomers: dict[str, timedelta | None]


@dataclass(frozen=True)
class ServiceState:
    """Whether the kiosk may issue a ticket for a service now, and the wait."""

    id: str
    open: bool
    reason: str  # "", "closed_today", "not_open_yet", "closing", "full"
    opens: str
    closes: str
    wait: tuple[int, int] | None  # the band a new ticket would get, minutes


class Queue:
    """The clinic's queue: numbering, order, estimates and every state change."""

    def __init__(self, config: Config, clock: Callable[[], datetime] | None = None):
        self.config = config
        self.clock = clock or (lambda: datetime.now(UTC))
        settings = config.queue
        self.fairness = rules.Fairness(
            max_wait=timedelta(minutes=settings.max_wait_minutes),
            max_priority_streak=settings.max_priority_streak,
        )
        self._durations: dict[str, timedelta] | None = None
        # Seconds a forecast may be reused after the line changed; the hub
        # allows its flush interval, tests keep every answer exact.
        self.forecast_max_age = 0.0
        # TODO: with several hub processes (PostgreSQL), their writes go unseen here.
        self._versions = itertools.count(1)
        self._version = 0
        self._forecast_cache: Forecast | None = None

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        """Write as db.writing() does, and mark every forecast out of date."""
        try:
            with writing():
                yield
        finally:
            self._version = next(self._versions)

    # -- time ------------------------------------------------------------

    def now(self) -> datetime:
        """Return the current time as naive UTC, the way it is stored."""
        return self.clock().astimezone(UTC).replace(tzinfo=None)

    def local_now(self) -> datetime:
        return self.clock().astimezone(self.config.clinic.zone)

    def today(self) -> str:
        """Return the clinic day (YYYY-MM-DD) in the clinic's own time zone."""
        return self.local_now().date().isoformat()

    # -- issuing ---------------------------------------------------------

    def issue(
        self,
        service_id: str,
        *,
        kiosk_id: str | None,
        lang: str,
        request_key: str | None = None,
        printer: str | None = None,
        priority: str = "normal",
        by_staff: bool = False,
        dentist_id: str | None = None,
    ) -> Issued:
        """Give the next number of a service and queue its paper on printer.

        A repeated request_key (a double tap) returns the first ticket. Staff
        may give any priority; a kiosk only what config.toml offers patients.
        A ticket for dentist_id waits for that dentist only (an appointment).
        """
        if self.config.service(service_id) is None:
            raise QueueError("unknown_service", 404, service=service_id)
        if priority not in rules.PRIORITIES:
            raise QueueError("unknown_priority", 400, priority=priority)
        if not by_staff:
            self._check_kiosk_priority(service_id, priority)
        if lang not in self.config.clinic.languages:
            lang = self.config.clinic.default_language

        with self._writing():
            if request_key:
                earlier = next(iter(_BY_KEY.rows(Ticket, request_key)), None)
                if earlier is not None:
                    return Issued(TicketView.of(earlier), self._ahead(earlier), False)
            if dentist_id is None:  # a booked visit keeps its time, not walk-in hours
                self._refuse_if_closed(service_id, priority)

            ticket = self._new_ticket(service_id, kiosk_id, lang, request_key, priority)
            if dentist_id is not None:
                ticket.dentist = dentist_id
                ticket.save()
            if printer:
                insert(PrintJob, ticket=ticket.id, printer=printer)
            actor = f"kiosk:{kiosk_id}" if kiosk_id else "staff"
            event = self._log(ticket, "issued", None, actor)
            ahead = self._ahead(ticket)

        logger.info(
            "ticket %s issued: service=%s priority=%s kiosk=%s",
            ticket.label,
            service_id,
            priority,
            kiosk_id,
        )
        return Issued(TicketView.of(ticket), ahead, True, [event])

    def _check_kiosk_priority(self, service_id: str, priority: str) -> None:
        settings = self.config.queue
        allowed = priority == "normal" or (
            priority == "priority" and settings.kiosk_priority
        )
        if priority == "emergency":
            allowed = bool(settings.emergency_service) and (
                service_id == settings.emergency_service
            )
        if not allowed:
            raise QueueError("priority_not_at_kiosk", 403, priority=priority)

    def _new_ticket(
        self,
        service_id: str,
        kiosk_id: str | None,
        lang: str,
        request_key: str | None,
        priority: str,
    ) -> Ticket:
        day = self.today()
        last = _LAST_NUMBER.execute(day, service_id).fetchone()[0]
        number = (last or 0) + 1
        prefix = self.config.service(service_id).prefix
        try:
            return insert(
                Ticket,
                day=day,
                service=service_id,
                series=service_id,
                number=number,
                label=f"{prefix}-{number:03d}",
                priority=priority,
                lang=lang,
                kiosk=kiosk_id,
                token=secrets.token_urlsafe(12),
                request_key=request_key,
                issued_at=self.now(),
            )
        except IntegrityError:
            # The unique index on (day, series, number) is the last guard;
            # under the write lock this only happens with a second hub process.
            raise QueueError("busy_try_again", 503) from None

    # -- opening hours ------------------------------------------------------

    def service_states(self) -> list[ServiceState]:
        """Tell, per service, whether the kiosk may issue now and the wait."""
        waits = self._forecast(stale_ok=True).newcomers
        return [self._service_state(s, waits.get(s.id)) for s in self.config.services]

    def _service_state(self, service, wait: timedelta | None) -> ServiceState:
        now = self.local_now()
        clock = now.strftime("%H:%M")
        last_issue = _minus_minutes(
            service.closes, self.config.queue.stop_issuing_minutes_before_close
        )
        round_the_clock = (service.opens, service.closes) == ("00:00", "24:00")
        if WEEKDAYS[now.weekday()] not in service.days:
            reason = "closed_today"
        elif round_the_clock:
            reason = ""
        elif clock < service.opens:
            reason = "not_open_yet"
        elif clock >= last_issue:
            reason = "closing"
        elif wait is not None and now + wait > _at(now, service.closes):
            reason = "full"
        else:
            reason = ""
        return ServiceState(
            service.id,
            reason == "",
            reason,
            service.opens,
            service.closes,
            rules.wait_band(wait),
        )

    def _refuse_if_closed(self, service_id: str, priority: str) -> None:
        service = self.config.service(service_id)
        # Only a service that closes can be "full"; skip the estimate otherwise.
        closes = (service.opens, service.closes) != ("00:00", "24:00")
        wait = self._forecast(stale_ok=True).newcomers[service_id] if closes else None
        state = self._service_state(service, wait)
        # An emergency is seen while the service is open, however long the line.
        if state.open or priority == "emergency" and state.reason == "full":
            return
        hours = {"opens": state.opens, "closes": state.closes}
        if state.reason == "closed_today":
            raise QueueError("service_closed_today", **hours)
        if state.reason == "not_open_yet":
            raise QueueError("service_not_open_yet", **hours)
        if state.reason == "closing":
            raise QueueError("service_closing", **hours)
        raise QueueError("service_full", **hours)

    # -- the dentist's actions -------------------------------------------

    def call_next(self, dentist_id: str) -> tuple[TicketView, list[Event]]:
        """Give the dentist the next ticket by priority, fairness and issue time."""
        dentist = self._dentist(dentist_id)
        with self._writing():
            row = self._ready_to_call(dentist)
            candidates = rules.candidates_for(
                self._waiting_rules(dentist.services), dentist.id, dentist.services
            )
            chosen = rules.pick(
                candidates, self.now(), self.fairness, row.priority_streak
            )
            if chosen is None:
                raise QueueError("nobody_waiting")
            streak = rules.next_streak(row.priority_streak, chosen, candidates)
            _STREAK.execute(streak, dentist.id)
            ticket, events = self._call(_BY_ID.rows(Ticket, chosen.id)[0], dentist)
        self._log_info(events[0])
        return ticket, events

    def call_ticket(
        self, dentist_id: str, ticket_id: int
    ) -> tuple[TicketView, list[Event]]:
        """Call one waiting ticket the dentist picked from their list."""
        dentist = self._dentist(dentist_id)
        with self._writing():
            self._ready_to_call(dentist)
            ticket = self._ticket_row(ticket_id)
            if ticket.state != "waiting" or ticket.day != self.today():
                raise QueueError("not_waiting", ticket=ticket.label)
            if ticket.service not in dentist.services or ticket.dentist_id not in (
                None,
                dentist.id,
            ):
                raise QueueError("not_your_service", ticket=ticket.label)
            ticket, events = self._call(ticket, dentist)
        self._log_info(events[0])
        return ticket, events

    def _ready_to_call(self, dentist) -> Dentist:
        """Check the dentist may call someone now; return their row."""
        row = _DENTIST.rows(Dentist, dentist.id)[0]
        if row.paused:
            raise QueueError("paused")
        current = self._current(dentist.id)
        if current is not None:
            raise QueueError("finish_current_first", ticket=current.label)
        return row

    def _call(self, ticket: Ticket, dentist) -> tuple[TicketView, list[Event]]:
        ticket = self._move(
            ticket,
            "called",
            called_at=self.now(),
            dentist=dentist.id,
            room=dentist.room,
        )
        event = self._log(ticket, "called", "waiting", f"dentist:{dentist.id}")
        return TicketView.of(ticket), [event]

    def recall(self, dentist_id: str) -> tuple[TicketView, list[Event]]:
        """Announce the dentist's called ticket again, up to the recall limit."""
        dentist = self._dentist(dentist_id)
        limit = self.config.queue.recall_limit
        with self._writing():
            ticket = self._require_current(dentist.id, ("called",), "recalled")
            if ticket.recalls >= limit:
                raise QueueError("recall_limit", ticket=ticket.label, limit=limit)
            ticket.recalls += 1
            ticket.save()
            events = [self._log(ticket, "recalled", "called", f"dentist:{dentist.id}")]
        self._log_info(events[0])
        return TicketView.of(ticket), events

    def start(self, dentist_id: str) -> tuple[TicketView, list[Event]]:
        """Mark that the called patient has sat down in the chair."""
        return self._transition(
            dentist_id, ("called",), "serving", "started", stamp="started_at"
        )

    def finish(self, dentist_id: str) -> tuple[TicketView, list[Event]]:
        """Close the dentist's current ticket as served."""
        result = self._transition(
            dentist_id, ("called", "serving"), "done", "done", stamp="finished_at"
        )
        self._durations = None  # a new visit length for the estimates
        return result

    def no_show(self, dentist_id: str) -> tuple[TicketView, list[Event]]:
        """Close the dentist's called ticket because the patient did not come."""
        return self._transition(
            dentist_id, ("called",), "no_show", "no_show", stamp="finished_at"
        )

    def _transition(
        self,
        dentist_id: str,
        allowed: tuple[str, ...],
        to_state: str,
        action: str,
        *,
        stamp: str,
    ) -> tuple[TicketView, list[Event]]:
        dentist = self._dentist(dentist_id)
        with self._writing():
            ticket = self._require_current(dentist.id, allowed, action)
            from_state = ticket.state
            ticket = self._move(ticket, to_state, **{stamp: self.now()})
            events = [self._log(ticket, action, from_state, f"dentist:{dentist.id}")]
        self._log_info(events[0])
        return TicketView.of(ticket), events

    def pause(self, dentist_id: str) -> list[Event]:
        """Take a break: the dentist is offered no tickets until they resume."""
        dentist = self._dentist(dentist_id)
        with self._writing():
            current = self._current(dentist.id)
            if current is not None:
                raise QueueError("finish_before_pause", ticket=current.label)
            Dentist.update(paused=True).where(Dentist.id == dentist.id).execute()
        logger.info("dentist %s paused: room=%s", dentist.id, dentist.room)
        return [self._room_event("paused", dentist)]

    def resume(self, dentist_id: str) -> list[Event]:
        """End the dentist's break."""
        dentist = self._dentist(dentist_id)
        with self._writing():
            Dentist.update(paused=False).where(Dentist.id == dentist.id).execute()
        logger.info("dentist %s resumed: room=%s", dentist.id, dentist.room)
        return [self._room_event("resumed", dentist)]

    def _room_event(self, action: str, dentist) -> Event:
        actor = f"dentist:{dentist.id}"
        return Event(0, action, None, actor, dentist=dentist.id, room=dentist.room)

    # -- staff and patients' actions ------------------------------------------

    def transfer(
        self,
        ticket_id: int,
        service_id: str,
        *,
        actor: str,
        dentist_id: str | None = None,
    ) -> tuple[TicketView, list[Event]]:
        """Move a ticket to another service or dentist; it keeps its issue time."""
        service = self.config.service(service_id)
        if service is None:
            raise QueueError("unknown_service", 404, service=service_id)
        if dentist_id is not None:
            target = self._dentist(dentist_id)
            if service_id not in target.services:
                raise QueueError(
                    "dentist_lacks_service", dentist=target.name, service=service_id
                )
        with self._writing():
            ticket = self._ticket_row(ticket_id)
            if ticket.state not in OPEN_STATES or ticket.day != self.today():
                raise QueueError("cannot_transfer", ticket=ticket.label)
            from_state = ticket.state
            ticket = self._move(
                ticket,
                "waiting",
                service=service_id,
                dentist=dentist_id,
                room=None,
                recalls=0,
                called_at=None,
                started_at=None,
            )
            events = [self._log(ticket, "transferred", from_state, actor)]
        self._log_info(events[0])
        return TicketView.of(ticket), events

    def cancel(self, ticket_id: int, *, actor: str) -> tuple[TicketView, list[Event]]:
        """Close a ticket whose patient left (staff, or the patient's own phone)."""
        with self._writing():
            ticket = self._ticket_row(ticket_id)
            if ticket.state not in ("waiting", "called"):
                raise QueueError("cannot_cancel", ticket=ticket.label)
            from_state = ticket.state
            ticket = self._move(ticket, "cancelled", finished_at=self.now())
            events = [self._log(ticket, "cancelled", from_state, actor)]
        self._log_info(events[0])
        return TicketView.of(ticket), events

    def cancel_by_token(self, token: str) -> tuple[TicketView, list[Event]]:
        """Let the patient holding the ticket leave the queue from their phone."""
        with reading():
            ticket = Ticket.get_or_none(Ticket.token == token)
        if ticket is None:
            raise QueueError("unknown_ticket", 404)
        return self.cancel(ticket.id, actor="patient")

    def reinstate(
        self, ticket_id: int, *, actor: str
    ) -> tuple[TicketView, list[Event]]:
        """Put a no-show back in line when the patient turns up within the grace."""
        minutes = self.config.queue.no_show_grace_minutes
        grace = timedelta(minutes=minutes)
        with self._writing():
            ticket = self._ticket_row(ticket_id)
            if ticket.state != "no_show":
                raise QueueError("cannot_reinstate", ticket=ticket.label)
            if ticket.day != self.today() or self.now() - ticket.finished_at > grace:
                raise QueueError("grace_over", ticket=ticket.label, minutes=minutes)
            ticket = self._move(
                ticket,
                "waiting",
                dentist=None,
                room=None,
                recalls=0,
                called_at=None,
                finished_at=None,
            )
            events = [self._log(ticket, "reinstated", "no_show", actor)]
        self._log_info(events[0])
        return TicketView.of(ticket), events

    def set_priority(
        self, ticket_id: int, priority: str, *, actor: str
    ) -> tuple[TicketView, list[Event]]:
        """Change a waiting ticket's priority class (staff only)."""
        if priority not in rules.PRIORITIES:
            raise QueueError("unknown_priority", 400, priority=priority)
        with self._writing():
            ticket = self._ticket_row(ticket_id)
            if ticket.state != "waiting":
                raise QueueError("not_waiting", ticket=ticket.label)
            ticket = self._move(ticket, "waiting", priority=priority)
            events = [self._log(ticket, "prioritised", "waiting", actor)]
        self._log_info(events[0])
        return TicketView.of(ticket), events

    def roll_day(self) -> list[Event]:
        """Close tickets left open from earlier clinic days as expired."""
        today = self.today()
        events = []
        with self._writing():
            stale = Ticket.select().where(
                (Ticket.day < today) & Ticket.state.in_(OPEN_STATES)
            )
            for ticket in list(stale):
                from_state = ticket.state
                ticket = self._move(ticket, "expired", finished_at=self.now())
                events.append(self._log(ticket, "expired", from_state, "system"))
            if events:
                Dentist.update(paused=False, priority_streak=0).execute()
        if events:
            logger.info("clinic day %s: %d open ticket(s) expired", today, len(events))
        return events

    # -- shared steps ---------------------------------------------------------

    def _move(self, ticket: Ticket, to_state: str, **changes) -> Ticket:
        """Change a ticket's state only if nobody else changed it meanwhile."""
        columns = tuple(changes)
        if columns not in _MOVES:
            _MOVES[columns] = _move_statement(columns)
        updated = (
            _MOVES[columns]
            .execute(to_state, *changes.values(), ticket.id, ticket.state)
            .rowcount
        )
        if updated != 1:
            raise QueueError("ticket_changed", ticket=ticket.label)
        return _BY_ID.rows(Ticket, ticket.id)[0]

    def _require_current(self, dentist_id: str, allowed, action: str) -> Ticket:
        ticket = self._current(dentist_id)
        if ticket is None:
            raise QueueError("no_current_ticket")
        if ticket.state not in allowed:
            raise QueueError(f"cannot_{action}", ticket=ticket.label)
        return ticket

    def _current(self, dentist_id: str) -> Ticket | None:
        rows = _CURRENT.rows(Ticket, dentist_id)
        return rows[0] if rows else None

    def _ticket_row(self, ticket_id: int) -> Ticket:
        if not 0 < ticket_id < 2**63:  # SQLite's integer range
            raise QueueError("unknown_ticket", 404)
        ticket = Ticket.get_or_none(Ticket.id == ticket_id)
        if ticket is None:
            raise QueueError("unknown_ticket", 404)
        return ticket

    def _dentist(self, dentist_id: str):
        dentist = self.config.dentist(dentist_id)
        if dentist is None:
            raise QueueError("unknown_dentist", 404, dentist=dentist_id)
        return dentist

    # -- order and estimates ----------------------------------------------------

    def _waiting_rows(self, services=None, day=None):
        day = self.today() if day is None else day
        query = Ticket.select().where((Ticket.day == day) & (Ticket.state == "waiting"))
        if services is not None:
            query = query.where(Ticket.service.in_(list(services)))
        return query

    def _waiting_rules(self, services=None) -> list[rules.Waiting]:
        return [waiting for waiting, _label in self._waiting_labelled(services)]

    def _waiting_labelled(self, services=None) -> list[tuple[rules.Waiting, str]]:
        """Read today's waiting tickets as the rules see them, with their labels."""
        key = None if services is None else tuple(services)
        if key not in _LINES:
            _LINES[key] = Prepared(
                lambda day: self._waiting_rows(key, day).select(
                    Ticket.id,
                    Ticket.service,
                    Ticket.priority,
                    Ticket.issued_at,
                    Ticket.dentist,
                    Ticket.label,
                ),
                1,
            )
        # Every event reads the whole line: peewee's model rows and its
        # strptime for each date cost ten times the query, so read plain rows.
        cursor = _LINES[key].execute(self.today())
        parse = datetime.fromisoformat
        return [
            (rules.Waiting(id_, service, priority, parse(issued), dentist), label)
            for id_, service, priority, issued, dentist, label in cursor
        ]

    def _ahead(self, ticket: Ticket) -> int:
        """Count the waiting tickets of the same service that go before this one."""
        if ticket.state != "waiting":
            return 0
        per_priority = _AHEAD.execute(
            self.today(), ticket.service, ticket.issued_at, ticket.issued_at, ticket.id
        )
        # The same order as rules.order_key: class first, then issue time.
        mine = rules.RANK[ticket.priority]
        return sum(
            everyone if rules.RANK[priority] < mine else before
            for priority, everyone, before in per_priority
            if rules.RANK[priority] <= mine
        )

    def durations(self) -> dict[str, timedelta]:
        """Return each service's typical visit: recent real ones, else config's."""
        if self._durations is None:
            since = self.now() - timedelta(days=DURATION_DAYS)
            typical = {}
            parse = datetime.fromisoformat
            for service in self.config.services:
                # Every visit that ends asks again: plain rows, compiled once.
                rows = _RECENT_VISITS.execute(service.id, since)
                spans = [
                    (parse(finished) - parse(started)).total_seconds()
                    for started, finished in rows
                    if started
                ]
                typical[service.id] = timedelta(
                    seconds=_typical_seconds(spans, service.minutes * 60)
                )
            self._durations = typical
        return self._durations

    def _chairs(self) -> list[rules.Chair]:
        """List the dentists not on a break, with when each will be free."""
        # TODO: count only dentists signed in today; an absent one shortens waits.
        rows = {
            id_: (paused, streak)
            for id_, paused, streak in Dentist.select(
                Dentist.id, Dentist.paused, Dentist.priority_streak
            )
            .where(Dentist.active)
            .tuples()
        }
        durations = self.durations()
        now = self.now()
        busy = self._busy_since()
        chairs = []
        for dentist in self.config.dentists:
            if dentist.id not in rows or rows[dentist.id][0]:
                continue  # gone from the clinic, or on a break
            free_at = now
            if dentist.id in busy:
                service, since = busy[dentist.id]
                free_at = max(now, since + durations[service])
            chairs.append(
                rules.Chair(dentist.id, dentist.services, free_at, rows[dentist.id][1])
            )
        return chairs

    def _busy_since(self) -> dict[str, tuple[str, datetime]]:
        """Map each dentist with a patient to its service and since when."""
        query = Ticket.select(
            Ticket.dentist,
            Ticket.service,
            fn.COALESCE(Ticket.started_at, Ticket.called_at),
        ).where(Ticket.state.in_(("called", "serving")))
        cursor = database.execute_sql(*query.sql())  # plain rows: see _waiting_labelled
        return {
            dentist: (service, datetime.fromisoformat(since))
            for dentist, service, since in cursor
        }

    def _forecast(self, *, stale_ok: bool = False) -> Forecast:
        """Replay the line, or reuse the last replay while it still holds.

        It holds for forecast_max_age seconds (or while the clock stands
        still) if nothing was written since; with stale_ok, even if something
        was, so a burst of tickets costs one replay per interval, not one per
        ticket.
        """
        now = self.now()
        cached = self._forecast_cache
        if cached is not None:
            age = (now - cached.now).total_seconds()
            young = 0 <= age < self.forecast_max_age
            unchanged = cached.version == self._version
            if unchanged and (age == 0 or young) or stale_ok and young:
                return cached
        version = self._version  # before reading: a later write makes it stale
        with reading():
            line = self._waiting_labelled()
            chairs = self._chairs()
            durations = self.durations()
        waiting = [ticket for ticket, _label in line]
        waits, newcomers = rules.forecast_waits(
            waiting, chairs, durations, now, self.fairness
        )
        for service in self.config.services:
            if service.id not in newcomers:
                newcomers[service.id] = self._newcomer_wait(
                    service.id, waiting, chairs, now
                )
        line.sort(key=lambda entry: rules.order_key(entry[0]))
        forecast = Forecast(version, now, line, waits, newcomers)
        self._forecast_cache = forecast
        return forecast

    def _newcomer_wait(self, service_id: str, waiting, chairs, now):
        """Replay the line with one more normal ticket for service_id, issued now."""
        newcomer = rules.Waiting(NEWCOMER, service_id, "normal", now)
        estimates = rules.estimate_waits(
            [*waiting, newcomer], chairs, self.durations(), now, self.fairness
        )
        return estimates[NEWCOMER]

    def estimate(self, ticket_id: int) -> tuple[int, int] | None:
        """Return a waiting ticket's estimated wait as a band in minutes."""
        return rules.wait_band(self.estimated_wait(ticket_id))

    def estimated_wait(self, ticket_id: int) -> timedelta | None:
        """Return a waiting ticket's estimated time until it is called."""
        return self._forecast().waits.get(ticket_id)

    def wait_band(self, ticket: TicketView) -> tuple[int, int] | None:
        """Return a ticket's wait band for a screen or paper, from a recent replay.

        A ticket newer than the replay was its service's newcomer then.
        """
        if ticket.state != "waiting":
            return None
        forecast = self._forecast(stale_ok=True)
        if ticket.id in forecast.waits:
            return rules.wait_band(forecast.waits[ticket.id])
        if forecast.version != self._version:
            return rules.wait_band(forecast.newcomers.get(ticket.service))
        return None

    def lines(self, *, stale_ok: bool = False) -> dict[str, dict]:
        """Return each service's waiting labels in call order, with wait bands."""
        forecast = self._forecast(stale_ok=stale_ok)
        lines = {s.id: {"waiting": [], "waits": []} for s in self.config.services}
        for ticket, label in forecast.line:
            line = lines[ticket.service]
            line["waiting"].append(label)
            line["waits"].append(rules.wait_band(forecast.waits[ticket.id]))
        return lines

    # -- reading ---------------------------------------------------------

    def current(self, dentist_id: str) -> TicketView | None:
        """Return the ticket the dentist is calling or serving, if any."""
        dentist = self._dentist(dentist_id)
        with reading():
            ticket = self._current(dentist.id)
        return TicketView.of(ticket) if ticket else None

    def is_paused(self, dentist_id: str) -> bool:
        with reading():
            return Dentist.get_by_id(self._dentist(dentist_id).id).paused

    def paused_rooms(self) -> list[str]:
        """List the rooms whose dentist is on a break."""
        with reading():
            paused = {d.id for d in Dentist.select().where(Dentist.paused)}
        return sorted({d.room for d in self.config.dentists if d.id in paused})

    def waiting(self, services=None, *, dentist: str | None = None) -> list[TicketView]:
        """List today's waiting tickets in call order (for a dentist: theirs)."""
        services = services or [s.id for s in self.config.services]
        with reading():
            rows = {t.id: t for t in self._waiting_rows(services)}
            waiting = [
                rules.Waiting(t.id, t.service, t.priority, t.issued_at, t.dentist_id)
                for t in rows.values()
            ]
            if dentist is not None:
                ordered = rules.candidates_for(waiting, dentist, services)
            else:
                ordered = sorted(waiting, key=rules.order_key)
            return [TicketView.of(rows[t.id]) for t in ordered]

    def waiting_counts(self) -> dict[str, int]:
        """Count today's waiting tickets per service (every service listed)."""
        counts = {s.id: 0 for s in self.config.services}
        with reading():
            counts.update(_WAITING_COUNTS.execute(self.today()).fetchall())
        return counts

    def recent_calls(self, limit: int = RECENT_CALLS) -> list[dict]:
        """List today's latest calls and recalls, newest first."""
        with reading():
            rows = (
                TicketEvent.select(TicketEvent, Ticket)
                .join(Ticket)
                .where(
                    (Ticket.day == self.today())
                    & (TicketEvent.action.in_(("called", "recalled")))
                )
                .order_by(TicketEvent.id.desc())
                .limit(limit)
            )
            return [
                {
                    "event_id": row.id,
                    "label": row.ticket.label,
                    "service": row.ticket.service,
                    # Where it was called to, even if it moved on since.
                    "room": self._room_of(row.actor) or row.ticket.room,
                    "state": row.ticket.state,
                    "recall": row.action == "recalled",
                    "at": _iso(row.at),
                }
                for row in rows
            ]

    def _room_of(self, actor: str) -> str | None:
        """Return the room of the dentist who made a call ("dentist:<id>")."""
        kind, _, dentist_id = actor.partition(":")
        dentist = self.config.dentist(dentist_id) if kind == "dentist" else None
        return dentist.room if dentist else None

    def ticket_status(self, token: str) -> tuple[TicketView, int]:
        """Return a ticket by its phone token, with how many are ahead of it."""
        with reading():
            ticket = Ticket.get_or_none(Ticket.token == token)
            if ticket is None:
                raise QueueError("unknown_ticket", 404)
            return TicketView.of(ticket), self._ahead(ticket)

    def ahead(self, ticket: TicketView) -> int:
        with reading():
            return self._ahead(_BY_ID.rows(Ticket, ticket.id)[0])

    def ticket(self, ticket_id: int) -> TicketView:
        """Return one ticket by its id, or refuse."""
        with reading():
            return TicketView.of(self._ticket_row(ticket_id))

    def today_tickets(self, limit: int = 500) -> list[TicketView]:
        """List today's tickets, newest first."""
        with reading():
            rows = (
                Ticket.select()
                .where(Ticket.day == self.today())
                .order_by(Ticket.id.desc())
                .limit(limit)
            )
            return [TicketView.of(t) for t in rows]

    def history(self, ticket_id: int) -> list[dict]:
        """Return a ticket's audit log, oldest first."""
        self.ticket(ticket_id)  # refuses an unknown id
        with reading():
            return [
                {
                    "action": e.action,
                    "from_state": e.from_state,
                    "to_state": e.to_state,
                    "actor": e.actor,
                    "at": _iso(e.at),
                }
                for e in TicketEvent.select()
                .where(TicketEvent.ticket == ticket_id)
                .order_by(TicketEvent.id)
            ]

    # -- the event log ---------------------------------------------------

    def _log(self, ticket: Ticket, action: str, from_state: str | None, actor: str):
        row_id = _LOG.execute(
            ticket.id, action, from_state, ticket.state, actor, self.now()
        ).lastrowid
        return Event(row_id, action, TicketView.of(ticket), actor, from_state)

    @staticmethod
    def _log_info(event: Event) -> None:
        logger.info(
            "ticket %s %s: service=%s room=%s actor=%s",
            event.ticket.label,
            event.action,
            event.ticket.service,
            event.ticket.room,
            event.actor,
        )


# The queries every queue event runs, compiled once (see db.Prepared).
_BY_ID = Prepared(lambda id_: Ticket.select().where(Ticket.id == id_), 1)
_CURRENT = Prepared(
    lambda dentist: (
        Ticket.select()
        .where((Ticket.dentist == dentist) & Ticket.state.in_(("called", "serving")))
        .order_by(Ticket.called_at.desc())
        .limit(1)
    ),
    1,
)
_BY_KEY = Prepared(lambda key: Ticket.select().where(Ticket.request_key == key), 1)
_LAST_NUMBER = Prepared(
    lambda day, series: Ticket.select(fn.MAX(Ticket.number)).where(
        (Ticket.day == day) & (Ticket.series == series)
    ),
    2,
)
_DENTIST = Prepared(lambda id_: Dentist.select().where(Dentist.id == id_), 1)
_STREAK = Prepared(
    lambda streak, id_: Dentist.update(priority_streak=streak).where(Dentist.id == id_),
    2,
)
_RECENT_VISITS = Prepared(
    lambda service, since: (
        Ticket.select(
            fn.COALESCE(Ticket.started_at, Ticket.called_at), Ticket.finished_at
        )
        .where(
            (Ticket.service == service)
            & (Ticket.state == "done")
            & (Ticket.finished_at > since)
        )
        .order_by(Ticket.finished_at.desc())
        .limit(DURATION_SAMPLE)
    ),
    2,
)
_LINES: dict[tuple[str, ...] | None, Prepared] = {}
_AHEAD = Prepared(
    lambda day, service, issued, same_issued, id_: (
        Ticket.select(
            Ticket.priority,
            fn.COUNT(Ticket.id),
            fn.SUM(
                Case(
                    None,
                    [
                        (
                            (Ticket.issued_at < issued)
                            | ((Ticket.issued_at == same_issued) & (Ticket.id < id_)),
                            1,
                        )
                    ],
                    0,
                )
            ),
        )
        .where(
            (Ticket.day == day)
            & (Ticket.state == "waiting")
            & (Ticket.service == service)
        )
        .group_by(Ticket.priority)
    ),
    5,
)
_MOVES: dict[tuple[str, ...], Prepared] = {}


def _move_statement(columns: tuple[str, ...]) -> Prepared:
    """Compile a state change that also sets columns, if the state is still so."""

    def build(to_state, *values):
        *changes, ticket_id, from_state = values
        return Ticket.update(
            state=to_state, **dict(zip(columns, changes, strict=True))
        ).where((Ticket.id == ticket_id) & (Ticket.state == from_state))

    return Prepared(build, len(columns) + 3)


_WAITING_COUNTS = Prepared(
    lambda day: (
        Ticket.select(Ticket.service, fn.COUNT(Ticket.id))
        .where((Ticket.day == day) & (Ticket.state == "waiting"))
        .group_by(Ticket.service)
    ),
    1,
)
_LOG = Prepared(
    lambda ticket, action, from_state, to_state, actor, at: TicketEvent.insert(
        ticket=ticket,
        action=action,
        from_state=from_state,
        to_state=to_state,
        actor=actor,
        at=at,
    ),
    6,
)


def _typical_seconds(spans: list[float], configured: float) -> float:
    """Blend the median of real visits with the configured length.

    The configured minutes count as PRIOR_VISITS visits, so one visit closed
    by mistake after seconds does not tell every later patient "no wait".
    """
    if not spans:
        return configured
    median = sorted(spans)[len(spans) // 2]
    blended = (len(spans) * median + PRIOR_VISITS * configured) / (
        len(spans) + PRIOR_VISITS
    )
    return max(blended, 60.0)


def _at(now: datetime, clock: str) -> datetime:
    """Return today's time `clock` (HH:MM) in now's zone."""
    hours, minutes = map(int, clock.split(":"))
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight + timedelta(hours=hours, minutes=minutes)


def _minus_minutes(clock: str, minutes: int) -> str:
    hours, mins = map(int, clock.split(":"))
    total = max(0, hours * 60 + mins - minutes)
    return f"{total // 60:02d}:{total % 60:02d}"


def sync_dentists(config: Config) -> None:
    """Make the dentists table match config.toml, keeping removed ones inactive."""
    ids = [d.id for d in config.dentists]
    with writing():
        for dentist_id in ids:
            Dentist.insert(id=dentist_id, active=True).on_conflict(
                conflict_target=[Dentist.id], update={Dentist.active: True}
            ).execute()
        Dentist.update(active=False).where(Dentist.id.not_in(ids)).execute()


def _iso(value: datetime | None) -> str | None:
    """Format a stored naive-UTC time as ISO 8601 with its offset."""
    return value.replace(tzinfo=UTC).isoformat() if value else None
