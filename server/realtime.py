"""Live updates over Socket.IO: who listens to what, and snapshots on demand.

Every message carries its stream's name, the hub's epoch and a sequence
number. A client that sees a gap or a new epoch asks for a fresh snapshot, so
a screen that lost Wi-Fi shows the truth again within seconds.
"""

from __future__ import annotations

import itertools
import logging
import secrets
import threading

from flask import request
from flask_socketio import SocketIO, emit, join_room

from server.auth import signed_in, signed_in_dentist, signed_in_staff
from server.engine import Event
from server.errors import QueueError
from server.hub import hub

logger = logging.getLogger(__name__)

socketio = SocketIO()

FLUSH_INTERVAL = 0.1
CALLS = ("called", "recalled")
DISPLAY = "display"
STAFF = "staff"


def ticket_stream(token: str) -> str:
    return f"ticket:{token}"


def service_stream(service_id: str) -> str:
    return f"service:{service_id}"


def tablet_stream(service_id: str) -> str:
    """Name the stream of one service's queue changes, for dentists' tablets."""
    return f"staff:{service_id}"


class Broadcaster:
    """Number each stream's messages and send them to its Socket.IO room."""

    def __init__(self, socketio: SocketIO):
        self.socketio = socketio
        self.epoch = secrets.token_hex(4)
        self._counters: dict[str, itertools.count] = {}
        self._seq: dict[str, int] = {}
        self._lock = threading.Lock()
        self._flushing = False
        self._counts_due = False
        self._lines_due = False
        self._sent_counts: dict[str, int] | None = None
        self._sent_lines: dict[str, dict] = {}

    def next_seq(self, stream: str) -> int:
        with self._lock:
            counter = self._counters.setdefault(stream, itertools.count(1))
            self._seq[stream] = value = next(counter)
            return value

    def seq(self, stream: str) -> int:
        """Return the last sequence number sent on a stream (0 if none)."""
        return self._seq.get(stream, 0)

    def send(self, stream: str, name: str, payload: dict) -> None:
        message = dict(payload, stream=stream, epoch=self.epoch)
        message["seq"] = self.next_seq(stream)
        self.socketio.emit(name, message, to=stream)

    def publish(self, events: list[Event]) -> None:
        """Fan committed queue events out to the display, staff and phones.

        A call goes to the screens at once. What only moves counts and
        estimates (a ticket issued, started, done) reaches the displays and
        phones at most every FLUSH_INTERVAL once the flusher runs, so a busy
        minute never delays a call; without the flusher (tests), at once.
        """
        queue = hub().queue
        counts = queue.waiting_counts()
        for event in events:
            if event.ticket is None:
                self.send_rooms()
                continue
            ticket = event.ticket
            change = {"event_id": event.id, "action": event.action, "waiting": counts}
            if event.action in CALLS or not self._flushing:
                self.send(DISPLAY, "queue", dict(change, ticket=ticket.public()))
                self._sent_counts = counts
            else:
                self._counts_due = True
            self.send(ticket_stream(ticket.token), "ticket", ticket.public())
            if event.action in CALLS:
                # Let the screens' writers send the call before the tablets'
                # messages and the HTTP answer take their turn.
                self.socketio.sleep(0)
            self._follow_line(ticket)
            staff_change = dict(change, ticket=ticket.staff())
            self.send(STAFF, "queue", staff_change)
            for stream in self._tablet_streams(event):
                self.send(stream, "queue", staff_change)
        if self._flushing:
            self._lines_due = True  # any change can move every estimate
        else:
            self.send_lines()

    def _tablet_streams(self, event: Event) -> list[str]:
        """List the tablets' streams an event concerns: its service's, or all."""
        if event.action == "transferred":  # it left a line the event does not name
            return [tablet_stream(s.id) for s in hub().config.services]
        return [tablet_stream(event.ticket.service)]

    def _follow_line(self, ticket) -> None:
        """Keep a ticket's phone pages in its service's line only while it waits.

        A called or finished ticket's page ignores the line; sending it the
        line ten times a second would cost more than every call.
        """
        wanted = service_stream(ticket.service) if ticket.state == "waiting" else None
        # TODO: with a message queue (several hubs), move phones on the other hubs too.
        server = self.socketio.server
        phones = list(server.manager.get_participants("/", ticket_stream(ticket.token)))
        for sid, _eio_sid in phones:
            # Leaving a room one is not in is a no-op, and cheaper than asking
            # the server for a client's rooms (it scans every room).
            for service in hub().config.services:
                if service_stream(service.id) != wanted:
                    server.leave_room(sid, service_stream(service.id))
            if wanted:
                server.enter_room(sid, wanted)

    def flush_forever(self, app) -> None:
        """Send the displays' counts and the phones' lines when they changed."""
        self._flushing = True
        with app.app_context():
            # The phones get a fresh line every interval anyway: answers that
            # quote a wait (a kiosk's, a paper's) may reuse a replay that old.
            hub().queue.forecast_max_age = FLUSH_INTERVAL
        while True:
            socketio.sleep(FLUSH_INTERVAL)
            counts_due, lines_due = self._counts_due, self._lines_due
            self._counts_due = self._lines_due = False
            try:
                with app.app_context():
                    if counts_due:
                        self.send_counts()
                        self._let_calls_through()
                    if lines_due:
                        self.send_lines()
            except Exception:
                logger.exception("sending counts and lines failed")

    def send_counts(self) -> None:
        """Send the displays the waiting counts, unless they already show them."""
        counts = hub().queue.waiting_counts()
        if counts != self._sent_counts:
            self.send(DISPLAY, "queue", {"action": "counts", "waiting": counts})
            self._sent_counts = counts

    def send_lines(self) -> None:
        """Send each service's line that changed, with fresh waits, to its phones."""
        for service_id, line in hub().queue.lines().items():
            if self._sent_lines.get(service_id) == line:
                continue
            self.send(
                service_stream(service_id), "line", dict(line, service=service_id)
            )
            self._sent_lines[service_id] = line
            self._let_calls_through()

    def _let_calls_through(self) -> None:
        """Let the phones' writers send what is queued, and a waiting call go next.

        The hub reads new requests only between such turns: a call sent
        during a flush waits for one service's line, not for all of them.
        """
        self.socketio.sleep(0)

    def send_rooms(self) -> None:
        """Tell the display and staff which rooms are closed for a break."""
        rooms = {"paused": hub().queue.paused_rooms()}
        self.send(DISPLAY, "rooms", rooms)
        self.send_all_staff("rooms", rooms)

    def send_all_staff(self, name: str, payload: dict) -> None:
        """Send a message to the staff pages and to every dentist's tablet."""
        self.send(STAFF, name, payload)
        for service in hub().config.services:
            self.send(tablet_stream(service.id), name, payload)


def housekeeping(app, interval: float = 30.0) -> None:
    """Expire yesterday's open tickets and refresh the estimates, forever.

    The hub runs this as a background task: estimates drift as time passes
    even when nobody presses a button.
    """
    while True:
        try:
            with app.app_context():
                tidy_up()
        except Exception:
            logger.exception("housekeeping failed; trying again shortly")
        socketio.sleep(interval)


def tidy_up() -> None:
    """Run housekeeping once: expire, mark missed appointments, send lines."""
    the_hub = hub()
    the_hub.publish(the_hub.queue.roll_day())
    if the_hub.bookings.mark_missed():
        the_hub.broadcaster.send_all_staff("appointments", {})
    the_hub.broadcaster.send_lines()


# -- snapshots -------------------------------------------------------------


def display_snapshot() -> dict:
    """Return everything the waiting-room display shows, as of now."""
    queue = hub().queue
    broadcaster = hub().broadcaster
    return {
        "stream": DISPLAY,
        "epoch": broadcaster.epoch,
        "seq": broadcaster.seq(DISPLAY),
        "recent": queue.recent_calls(),
        "waiting": queue.waiting_counts(),
        "paused": queue.paused_rooms(),
    }


def ticket_snapshot(token: str) -> dict:
    """Return one ticket's state and its service's line, for its phone page."""
    queue = hub().queue
    ticket, ahead = queue.ticket_status(token)
    broadcaster = hub().broadcaster
    line = queue.lines()[ticket.service]
    return {
        "epoch": broadcaster.epoch,
        "ticket": dict(ticket.public(), ahead=ahead, wait=queue.wait_band(ticket)),
        "waiting": line["waiting"],
        "waits": line["waits"],
        "seqs": {
            ticket_stream(token): broadcaster.seq(ticket_stream(token)),
            service_stream(ticket.service): broadcaster.seq(
                service_stream(ticket.service)
            ),
        },
    }


def staff_snapshot() -> dict:
    """Return what staff pages show; a tablet's names its services' streams.

    A dentist's tablet needs only its own services' changes, so it listens
    to one stream per service (`seqs`); a staff member's page to them all.
    """
    broadcaster = hub().broadcaster
    snapshot = {
        "epoch": broadcaster.epoch,
        "waiting": hub().queue.waiting_counts(),
        "printers": hub().spool.states(),
        "paused": hub().queue.paused_rooms(),
    }
    streams = _staff_streams()
    if streams == [STAFF]:
        snapshot.update(stream=STAFF, seq=broadcaster.seq(STAFF))
    snapshot["seqs"] = {stream: broadcaster.seq(stream) for stream in streams}
    return snapshot


def _staff_streams() -> list[str]:
    """List the streams of the signed-in staff member (all) or dentist (theirs)."""
    if signed_in_staff():
        return [STAFF]
    dentist = hub().config.dentist(signed_in_dentist())
    return [tablet_stream(service) for service in dentist.services]


# -- handlers ----------------------------------------------------------------


@socketio.on("connect")
def on_connect(auth):
    """Put the client in its audience's room and send it a snapshot."""
    auth = auth if isinstance(auth, dict) else {}
    audience = auth.get("audience")
    if audience == DISPLAY:
        join_room(DISPLAY)
        emit("snapshot", display_snapshot())
    elif audience == "ticket":
        token = str(auth.get("token", ""))
        try:
            snapshot = ticket_snapshot(token)
        except QueueError:
            return False
        join_room(ticket_stream(token))
        if snapshot["ticket"]["state"] == "waiting":
            join_room(service_stream(snapshot["ticket"]["service"]))
        emit("snapshot", snapshot)
    elif audience == STAFF:
        if not signed_in():
            logger.info("refused a staff socket without a login: sid=%s", request.sid)
            return False
        for stream in _staff_streams():
            join_room(stream)
        emit("snapshot", staff_snapshot())
    else:
        return False
    return True


@socketio.on("resync")
def on_resync(data):
    """Send a fresh snapshot to a client that noticed a gap."""
    data = data if isinstance(data, dict) else {}
    audience = data.get("audience")
    logger.warning("client resync: audience=%s", audience)
    if audience == DISPLAY:
        emit("snapshot", display_snapshot())
    elif audience == "ticket":
        try:
            emit("snapshot", ticket_snapshot(str(data.get("token", ""))))
        except QueueError:
            emit("error", {"code": "unknown_ticket"})
    elif audience == STAFF and signed_in():
        emit("snapshot", staff_snapshot())
    else:
        emit("error", {"code": "forbidden"})
