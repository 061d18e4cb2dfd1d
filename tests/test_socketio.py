"""Live updates from a real hub process to real Socket.IO clients, in both modes."""

from __future__ import annotations

import queue
import threading

import pytest
import requests
import socketio

from server import config as config_module
from tests.conftest import HubProcess

pytestmark = pytest.mark.hub

WAIT = 5.0
"""Longest wait, in seconds, for one event; a healthy hub answers in milliseconds."""

RESTART_WAIT = 20.0
"""Longest wait for a client to find a restarted hub and get its snapshot."""


class Listener:
    """A real Socket.IO client over websocket that queues every event it gets."""

    def __init__(self, url: str, auth: dict, cookie: str | None = None) -> None:
        self.url = url
        self.auth = auth
        self.headers = {"Cookie": cookie} if cookie else {}
        self.events: queue.Queue[tuple[str, object]] = queue.Queue()
        self.disconnected = threading.Event()
        self.client = socketio.Client(
            reconnection_delay=0.1, reconnection_delay_max=0.5, randomization_factor=0
        )
        self.client.on("*", self._record)
        self.client.on("connect", self._on_connect)
        self.client.on("disconnect", self._on_disconnect)

    def connect(self) -> Listener:
        self.client.connect(
            self.url,
            auth=self.auth,
            headers=self.headers,
            transports=["websocket"],
            wait_timeout=WAIT,
        )
        return self

    def next(self, name: str, timeout: float = WAIT) -> dict:
        """Return the next event called name, skipping others; fail after timeout."""
        skipped = []
        while True:
            try:
                event, data = self.events.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(
                    f"no {name!r} event within {timeout} s (got {skipped})"
                ) from None
            if event == name:
                return data
            skipped.append(event)

    def close(self) -> None:
        self.client.disconnect()

    def _record(self, event: str, data: object = None) -> None:
        self.events.put((event, data))

    def _on_connect(self) -> None:
        self.disconnected.clear()

    def _on_disconnect(self, *reason: object) -> None:
        self.disconnected.set()


@pytest.fixture
def listen(live_hub: HubProcess):
    """Connect real Socket.IO clients to the live hub; disconnect them afterwards."""
    listeners = []

    def listen(auth: dict, cookie: str | None = None) -> Listener:
        listener = Listener(live_hub.url, auth, cookie)
        listeners.append(listener)
        return listener.connect()

    yield listen
    for listener in listeners:
        listener.close()


def issue(hub: HubProcess, service: str = "checkup") -> dict:
    answer = requests.post(
        f"{hub.url}/api/v1/tickets", json={"service": service}, timeout=WAIT
    )
    assert answer.status_code == 201, answer.text
    return answer.json()["ticket"]


def sign_in_dentist(hub: HubProcess, dentist: str = "karimova") -> requests.Session:
    """Sign a dentist in with the PIN the hub printed; send its CSRF token after."""
    session = requests.Session()
    answer = session.post(
        f"{hub.url}/api/v1/dentist/login",
        json={"dentist": dentist, "pin": hub.credentials()[dentist]},
        timeout=WAIT,
    )
    assert answer.status_code == 200, answer.text
    session.headers["X-CSRF-Token"] = answer.json()["csrf"]
    return session


def call_next(hub: HubProcess, session: requests.Session) -> dict:
    answer = session.post(f"{hub.url}/api/v1/dentist/call-next", timeout=WAIT)
    assert answer.status_code == 200, answer.text
    return answer.json()["ticket"]


def room_of(hub: HubProcess, dentist: str) -> str:
    return config_module.load(hub.config_path).dentist(dentist).room


def session_cookie(session: requests.Session) -> str:
    return f"session={session.cookies['session']}"


# -- the waiting-room display ----------------------------------------------------


def test_display_sees_issue_and_call_in_sequence(live_hub, listen):
    display = listen({"audience": "display"})
    snapshot = display.next("snapshot")
    assert snapshot["stream"] == "display"
    assert snapshot["recent"] == []
    assert set(snapshot["waiting"].values()) == {0}

    ticket = issue(live_hub)
    # Counts reach the displays coalesced (at most every 0.1 s), without the
    # ticket; only calls go out one by one.
    issued = display.next("queue")
    assert issued["action"] == "counts"
    assert issued["waiting"]["checkup"] == 1
    assert "ticket" not in issued

    dentist = sign_in_dentist(live_hub)
    call_next(live_hub, dentist)
    called = display.next("queue")
    assert called["action"] == "called"
    assert called["ticket"]["label"] == ticket["label"]
    assert called["ticket"]["room"] == room_of(live_hub, "karimova")
    assert called["waiting"]["checkup"] == 0

    assert [snapshot["seq"] + 1, snapshot["seq"] + 2] == [issued["seq"], called["seq"]]
    assert {issued["epoch"], called["epoch"]} == {snapshot["epoch"]}


def test_resync_answers_with_a_fresh_snapshot(live_hub, listen):
    display = listen({"audience": "display"})
    first = display.next("snapshot")
    issue(live_hub)
    display.next("queue")

    display.client.emit("resync", {"audience": "display"})
    again = display.next("snapshot")
    assert again["epoch"] == first["epoch"]
    assert again["seq"] == first["seq"] + 1
    assert again["waiting"]["checkup"] == 1

    # A display may not ask for the staff view by claiming to be staff.
    display.client.emit("resync", {"audience": "staff"})
    assert display.next("error") == {"code": "forbidden"}


# -- the patient's phone ------------------------------------------------------------


def test_phones_see_their_call_and_their_line_move(live_hub, listen):
    with pytest.raises(socketio.exceptions.ConnectionError):
        listen({"audience": "ticket", "token": "no-such-ticket"})

    first, second = issue(live_hub), issue(live_hub)
    called_phone = listen({"audience": "ticket", "token": first["token"]})
    waiting_phone = listen({"audience": "ticket", "token": second["token"]})
    assert called_phone.next("snapshot")["ticket"]["ahead"] == 0
    before = waiting_phone.next("snapshot")
    assert before["ticket"]["ahead"] == 1
    assert before["waiting"] == [first["label"], second["label"]]

    call_next(live_hub, sign_in_dentist(live_hub))

    mine = called_phone.next("ticket")
    assert (mine["label"], mine["state"]) == (first["label"], "called")
    assert mine["room"] == room_of(live_hub, "karimova")
    assert "token" not in mine
    # Lines are sent at most every 0.1 s: one sent just before the call may
    # still arrive first, so read until the call shows (a handful at most).
    for _ in range(5):
        line = waiting_phone.next("line")
        assert line["service"] == "checkup"
        if first["label"] not in line["waiting"]:
            break
    assert line["waiting"] == [second["label"]]
    assert len(line["waits"]) == 1


# -- staff pages --------------------------------------------------------------------


def test_staff_socket_needs_a_login_and_accepts_a_dentists_session(live_hub, listen):
    with pytest.raises(socketio.exceptions.ConnectionError):
        listen({"audience": "staff"})

    cookie = session_cookie(sign_in_dentist(live_hub))
    staff = listen({"audience": "staff"}, cookie=cookie)

    snapshot = staff.next("snapshot")
    assert set(snapshot["seqs"]) == {"staff:checkup", "staff:treatment"}
    assert [p["id"] for p in snapshot["printers"]] == ["lobby-printer"]

    issue(live_hub, "hygiene")  # not one of karimova's services
    ticket = issue(live_hub)
    issued = staff.next("queue")
    assert issued["action"] == "issued"
    assert (issued["stream"], issued["seq"]) == ("staff:checkup", 1)
    assert issued["ticket"]["label"] == ticket["label"]
    assert issued["ticket"]["kiosk"] is None
    assert "token" not in issued["ticket"]


# -- a hub restart ------------------------------------------------------------------


def test_display_reconnects_to_a_restarted_hub_and_gets_the_truth(live_hub, listen):
    display = listen({"audience": "display"})
    before = display.next("snapshot")
    first, second = issue(live_hub), issue(live_hub)
    dentist = sign_in_dentist(live_hub)
    call_next(live_hub, dentist)

    live_hub.stop()
    assert display.disconnected.wait(WAIT), "the client did not notice the hub stop"
    live_hub.start()

    after = display.next("snapshot", timeout=RESTART_WAIT)
    assert after["epoch"] != before["epoch"]
    assert after["seq"] == 0
    assert after["waiting"]["checkup"] == 1
    latest = after["recent"][0]
    assert (latest["label"], latest["state"]) == (first["label"], "called")
    assert latest["room"] == room_of(live_hub, "karimova")

    # The dentist's session survives the restart and the new stream counts on.
    finish = dentist.post(f"{live_hub.url}/api/v1/dentist/done", timeout=WAIT)
    assert finish.status_code == 200, finish.text
    call_next(live_hub, dentist)
    # "done" only moves counts: it may arrive, coalesced, before or after the
    # call, or be folded into the next counts message.
    messages = [display.next("queue")]
    if messages[0]["action"] != "called":
        messages.append(display.next("queue"))
    called = messages[-1]
    assert (called["action"], called["ticket"]["label"]) == ("called", second["label"])
    assert [m["seq"] for m in messages] == list(range(1, len(messages) + 1))
    assert {m["epoch"] for m in messages} == {after["epoch"]}
