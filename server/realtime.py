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

from server.auth import signed_in
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
            else:
                self._counts_due = True
            self.send(STAFF, "queue", dict(change, ticket=ticket.staff()))
            self.send(ticket_stream(ticket.token), "ticket", ticket.public())
        if self._flushing:
            self._lines_due = True  # any change can move every estimate
        else:
            self.send_lines()

    def flush_forever(self, app) -> None:
        """Send the displays' counts and the phones' lines when they changed."""
        self._flushing = True
        while True:
            socketio.sleep(FLUSH_INTERVAL)
            counts_due, lines_due = self._counts_due, self._lines_due
            self._counts_due = self._lines_due = False
            try:
                with app.app_context():
                    if counts_due:
                        counts = hub().queue.waiting_counts()
                        self.send(
                            DISPLAY, "queue", {"action": "counts", "waiting": counts}
                        )
                    if lines_due:
                        self.send_lines()
            except Exception:
                logger.exception("sending counts and lines failed")

    def send_lines(self) -> None:
        """Send each service's line with fresh wait bands to its phone pages."""
        for service_id, line in hub().queue.lines().items():
            self.send(
                service_stream(service_id), "line", dict(line, service=service_id)
            )

    def send_rooms(self) -> None:
        """Tell the display and staff which rooms are closed for a break."""
        rooms = {"paused": hub().queue.paused_rooms()}
        self.send(DISPLAY, "rooms", rooms)
        self.send(STAFF, "rooms", rooms)


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
        the_hub.broadcaster.send(STAFF, "appointments", {})
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
        "ticket": dict(ticket.public(), ahead=ahead, wait=queue.estimate(ticket.id)),
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
    broadcaster = hub().broadcaster
    return {
        "stream": STAFF,
        "epoch": broadcaster.epoch,
        "seq": broadcaster.seq(STAFF),
        "waiting": hub().queue.waiting_counts(),
        "printers": hub().spool.states(),
        "paused": hub().queue.paused_rooms(),
    }


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
        join_room(service_stream(snapshot["ticket"]["service"]))
        emit("snapshot", snapshot)
    elif audience == STAFF:
        if not signed_in():
            logger.info("refused a staff socket without a login: sid=%s", request.sid)
            return False
        join_room(STAFF)
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
