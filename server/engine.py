"""The queue engine: every rule about tickets, and nothing about the web.

Functions take plain values, change the database in one transaction that also
writes the event log, and return domain events for the caller to publish after
the commit. Nothing here imports Flask or Socket.IO.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from peewee import IntegrityError, fn

from server.config import Config
from server.db import reading, writing
from server.errors import QueueError
from server.models import Dentist, PrintJob, Ticket, TicketEvent

logger = logging.getLogger(__name__)

MAX_RECALLS = 3
RECENT_CALLS = 8
OPEN_STATES = ("waiting", "called", "serving")


@dataclass(frozen=True)
class TicketView:
    """What the surfaces may know about a ticket: never a patient's name."""

    id: int
    label: str
    service: str
    state: str
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
    """Something that happened to a ticket, to be broadcast after commit."""

    id: int  # the event log row: clients use it to skip what a snapshot had
    action: str  # issued, called, recalled, started, done, no_show
    ticket: TicketView
    actor: str
    from_state: str | None = None


@dataclass(frozen=True)
class Issued:
    ticket: TicketView
    ahead: int
    created: bool  # False when a repeated tap returned the earlier ticket
    events: list[Event] = field(default_factory=list)


class Queue:
    """The clinic's queue: numbering, order and every state change."""

    def __init__(self, config: Config, clock: Callable[[], datetime] | None = None):
        self.config = config
        self.clock = clock or (lambda: datetime.now(UTC))

    # -- time ------------------------------------------------------------

    def now(self) -> datetime:
        """Return the current time as naive UTC, the way it is stored."""
        return self.clock().astimezone(UTC).replace(tzinfo=None)

    def today(self) -> str:
        """Return the clinic day (YYYY-MM-DD) in the clinic's own time zone."""
        return self.clock().astimezone(self.config.clinic.zone).date().isoformat()

    # -- issuing ---------------------------------------------------------

    def issue(
        self,
        service_id: str,
        *,
        kiosk_id: str | None,
        lang: str,
        request_key: str | None = None,
        printer: str | None = None,
    ) -> Issued:
        """Give the next number of a service and queue its paper on printer.

        A repeated request_key (a double tap) returns the first ticket.
        """
        if self.config.service(service_id) is None:
            raise QueueError("unknown_service", 404, service=service_id)
        if lang not in self.config.clinic.languages:
            lang = self.config.clinic.default_language

        with writing():
            if request_key:
                earlier = Ticket.get_or_none(Ticket.request_key == request_key)
                if earlier is not None:
                    return Issued(TicketView.of(earlier), self._ahead(earlier), False)

            ticket = self._new_ticket(service_id, kiosk_id, lang, request_key)
            if printer:
                PrintJob.create(ticket=ticket.id, printer=printer)
            actor = f"kiosk:{kiosk_id}" if kiosk_id else "staff"
            event = self._log(ticket, "issued", None, actor)
            ahead = self._ahead(ticket)

        logger.info(
            "ticket %s issued: service=%s kiosk=%s", ticket.label, service_id, kiosk_id
        )
        return Issued(TicketView.of(ticket), ahead, True, [event])

    def _new_ticket(
        self, service_id: str, kiosk_id: str | None, lang: str, request_key: str | None
    ) -> Ticket:
        day = self.today()
        last = (
            Ticket.select(fn.MAX(Ticket.number))
            .where((Ticket.day == day) & (Ticket.service == service_id))
            .scalar()
        )
        number = (last or 0) + 1
        prefix = self.config.service(service_id).prefix
        try:
            return Ticket.create(
                day=day,
                service=service_id,
                number=number,
                label=f"{prefix}-{number:03d}",
                lang=lang,
                kiosk=kiosk_id,
                token=secrets.token_urlsafe(12),
                request_key=request_key,
                issued_at=self.now(),
            )
        except IntegrityError:
            # The unique index on (day, service, number) is the last guard;
            # under the write lock this only happens with a second hub process.
            raise QueueError("busy_try_again", 503) from None

    # -- the dentist's actions -------------------------------------------

    def call_next(self, dentist_id: str) -> tuple[TicketView, list[Event]]:
        """Give the dentist the longest-waiting ticket among their services."""
        dentist = self._dentist(dentist_id)
        with writing():
            current = self._current(dentist.id)
            if current is not None:
                raise QueueError("finish_current_first", ticket=current.label)
            candidate = self._waiting_query(dentist.services).first()
            if candidate is None:
                raise QueueError("nobody_waiting")
            ticket = self._move(
                candidate,
                "called",
                called_at=self.now(),
                dentist=dentist.id,
                room=dentist.room,
            )
            events = [self._log(ticket, "called", "waiting", f"dentist:{dentist.id}")]
        self._log_info(events[0])
        return TicketView.of(ticket), events

    def recall(self, dentist_id: str) -> tuple[TicketView, list[Event]]:
        """Announce the dentist's called ticket again."""
        dentist = self._dentist(dentist_id)
        with writing():
            ticket = self._require_current(dentist.id, ("called",), "recalled")
            if ticket.recalls >= MAX_RECALLS:
                raise QueueError("recall_limit", ticket=ticket.label, limit=MAX_RECALLS)
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
        return self._transition(
            dentist_id, ("called", "serving"), "done", "done", stamp="finished_at"
        )

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
        with writing():
            ticket = self._require_current(dentist.id, allowed, action)
            from_state = ticket.state
            ticket = self._move(ticket, to_state, **{stamp: self.now()})
            events = [self._log(ticket, action, from_state, f"dentist:{dentist.id}")]
        self._log_info(events[0])
        return TicketView.of(ticket), events

    def _move(self, ticket: Ticket, to_state: str, **changes) -> Ticket:
        """Change a ticket's state only if nobody else changed it meanwhile."""
        from_state = ticket.state
        updated = (
            Ticket.update(state=to_state, **changes)
            .where((Ticket.id == ticket.id) & (Ticket.state == from_state))
            .execute()
        )
        if updated != 1:
            raise QueueError("ticket_changed", ticket=ticket.label)
        return Ticket.get_by_id(ticket.id)

    def _require_current(self, dentist_id: str, allowed, action: str) -> Ticket:
        ticket = self._current(dentist_id)
        if ticket is None:
            raise QueueError("no_current_ticket")
        if ticket.state not in allowed:
            raise QueueError(f"cannot_{action}", ticket=ticket.label)
        return ticket

    def _current(self, dentist_id: str) -> Ticket | None:
        return (
            Ticket.select()
            .where(
                (Ticket.dentist == dentist_id)
                & (Ticket.state.in_(("called", "serving")))
            )
            .order_by(Ticket.called_at.desc())
            .first()
        )

    def _dentist(self, dentist_id: str):
        dentist = self.config.dentist(dentist_id)
        if dentist is None:
            raise QueueError("unknown_dentist", 404, dentist=dentist_id)
        return dentist

    # -- reading ---------------------------------------------------------

    def _waiting_query(self, services):
        return (
            Ticket.select()
            .where(
                (Ticket.day == self.today())
                & (Ticket.state == "waiting")
                & (Ticket.service.in_(list(services)))
            )
            .order_by(Ticket.issued_at, Ticket.id)
        )

    def _ahead(self, ticket: Ticket) -> int:
        """Count the waiting tickets of the same service that go before this one."""
        if ticket.state != "waiting":
            return 0
        return (
            Ticket.select()
            .where(
                (Ticket.day == ticket.day)
                & (Ticket.service == ticket.service)
                & (Ticket.state == "waiting")
                & (
                    (Ticket.issued_at < ticket.issued_at)
                    | ((Ticket.issued_at == ticket.issued_at) & (Ticket.id < ticket.id))
                )
            )
            .count()
        )

    def current(self, dentist_id: str) -> TicketView | None:
        """Return the ticket the dentist is calling or serving, if any."""
        dentist = self._dentist(dentist_id)
        with reading():
            ticket = self._current(dentist.id)
        return TicketView.of(ticket) if ticket else None

    def waiting(self, services=None) -> list[TicketView]:
        """List today's waiting tickets in the order call next takes them."""
        services = services or [s.id for s in self.config.services]
        with reading():
            return [TicketView.of(t) for t in self._waiting_query(services)]

    def waiting_counts(self) -> dict[str, int]:
        """Count today's waiting tickets per service (every service listed)."""
        counts = {s.id: 0 for s in self.config.services}
        with reading():
            rows = (
                Ticket.select(Ticket.service, fn.COUNT(Ticket.id))
                .where((Ticket.day == self.today()) & (Ticket.state == "waiting"))
                .group_by(Ticket.service)
                .tuples()
            )
            counts.update(dict(rows))
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
                    "room": row.ticket.room,
                    "state": row.ticket.state,
                    "recall": row.action == "recalled",
                    "at": _iso(row.at),
                }
                for row in rows
            ]

    def ticket_status(self, token: str) -> tuple[TicketView, int]:
        """Return a ticket by its phone token, with how many are ahead of it."""
        with reading():
            ticket = Ticket.get_or_none(Ticket.token == token)
            if ticket is None:
                raise QueueError("unknown_ticket", 404)
            return TicketView.of(ticket), self._ahead(ticket)

    def ahead(self, ticket: TicketView) -> int:
        with reading():
            return self._ahead(Ticket.get_by_id(ticket.id))

    def ticket(self, ticket_id: int) -> TicketView:
        """Return one ticket by its id, or refuse."""
        if not 0 < ticket_id < 2**63:  # SQLite's integer range
            raise QueueError("unknown_ticket", 404)
        with reading():
            ticket = Ticket.get_or_none(Ticket.id == ticket_id)
        if ticket is None:
            raise QueueError("unknown_ticket", 404)
        return TicketView.of(ticket)

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
        row = TicketEvent.create(
            ticket=ticket.id,
            action=action,
            from_state=from_state,
            to_state=ticket.state,
            actor=actor,
            at=self.now(),
        )
        return Event(row.id, action, TicketView.of(ticket), actor, from_state)

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
