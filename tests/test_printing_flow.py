"""Ticket paper from the API through the spool to a fake network printer."""

from __future__ import annotations

import queue
import sqlite3
import threading
import time
from pathlib import Path

import pytest
import requests
import socketio
from flask import Flask

from printers import for_paper
from server import auth
from server import config as config_module
from server.app import create_app
from server.db import database, reading, writing
from server.models import PrintJob, Ticket, utcnow
from server.realtime import socketio as hub_socketio
from tests.conftest import start_hub, write_config
from tests.escpos_decode import decode
from tests.fakes.escpos_printer import FakePrinter

PRINTER = "lobby-printer"
PUBLIC_URL = "http://127.0.0.1:5000"
STAFF_PASSWORD = "tidy-desk-2026"
WAIT = 10.0
"""Longest wait, in seconds, for something the hub does in the background."""


def network_printer(port: int, timeout: float = 1.0) -> list[dict]:
    """Return a [[printers]] section: the lobby kiosk's printer on the network."""
    return [
        {
            "id": PRINTER,
            "type": "network",
            "host": "127.0.0.1",
            "port": port,
            "timeout": timeout,
        }
    ]


@pytest.fixture
def fake_printer():
    with FakePrinter() as printer:
        yield printer


@pytest.fixture
def build(tmp_path: Path):
    """Build the hub in-process from the repo's config.toml with sections replaced."""

    def build(**sections) -> Flask:
        sections = {
            "server": {"async_mode": "threading", "host": "127.0.0.1"},
            "clinic": {"public_url": PUBLIC_URL},
            **sections,
        }
        app = create_app(config_module.load(write_config(tmp_path, **sections)))
        app.config["TESTING"] = True
        return app

    yield build
    database.close()


@pytest.fixture
def networked(build, fake_printer) -> Flask:
    return build(printers=network_printer(fake_printer.port))


def issue(client, lang: str = "uz") -> dict:
    answer = client.post(
        "/api/v1/tickets", json={"service": "checkup", "kiosk": "lobby", "lang": lang}
    )
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()


def job_of(issued: dict) -> PrintJob:
    """Return the newest print job of an issued ticket."""
    with reading():
        return (
            PrintJob.select()
            .join(Ticket)
            .where(Ticket.token == issued["ticket"]["token"])
            .order_by(PrintJob.id.desc())
            .get()
        )


def make_due() -> None:
    """Pretend the back-off delay has passed for every queued job."""
    with writing():
        PrintJob.update(next_attempt_at=utcnow()).where(
            PrintJob.state == "queued"
        ).execute()


def printed_labels(jobs: list[bytes]) -> list[str]:
    """Return the ticket number on each job, in the order they were printed."""
    return [line for job in jobs for line in decode(job).lines if line[:2] == "A-"]


def sign_in_staff(client) -> str:
    auth.create_user("admin", STAFF_PASSWORD, role="admin")
    answer = client.post(
        "/api/v1/staff/login", json={"username": "admin", "password": STAFF_PASSWORD}
    )
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()["csrf"]


# -- a printer that works ---------------------------------------------------------


@pytest.mark.parametrize("lang", ["uz", "ru", "en"])
def test_ticket_is_printed_once_in_the_patients_language(networked, fake_printer, lang):
    hub = networked.extensions["navbat"]
    issued = issue(networked.test_client(), lang)

    assert hub.spool.process_due() == 1

    assert len(fake_printer.jobs) == 1
    paper = decode(fake_printer.jobs[0])
    assert issued["ticket"]["label"] in paper.lines
    assert for_paper(hub.config.service("checkup").name[lang]) in paper.lines
    assert paper.qr_payloads == [issued["url"]]
    assert paper.cuts == 1
    job = job_of(issued)
    assert (job.state, job.attempts) == ("printed", 1)
    assert job.printed_at is not None
    assert hub.spool.state(PRINTER) == "online"


def test_file_printer_saves_the_bytes_and_a_preview(build, tmp_path):
    app = build()
    hub = app.extensions["navbat"]
    label = issue(app.test_client())["ticket"]["label"]

    assert hub.spool.process_due() == 1

    name = f"{hub.queue.today()}_{label}"
    folder = tmp_path / "print"
    assert sorted(p.name for p in folder.iterdir()) == [f"{name}.bin", f"{name}.png"]
    assert label in decode((folder / f"{name}.bin").read_bytes()).lines
    assert (folder / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# -- a printer that is down ---------------------------------------------------------


def paper_of(client, issued) -> str:
    token = issued["ticket"]["token"]
    return client.get(f"/api/v1/tickets/{token}/paper").get_json()["paper"]


def test_refused_printer_keeps_the_job_and_prints_it_once_when_back(
    networked, fake_printer
):
    hub = networked.extensions["navbat"]
    client = networked.test_client()
    sign_in_staff(client)
    staff = hub_socketio.test_client(
        networked, auth={"audience": "staff"}, flask_test_client=client
    )
    assert staff.is_connected()
    fake_printer.mode = "refuse"

    first = issue(client)
    assert first["printer"] == "unknown"
    assert paper_of(client, first) == "printing"
    assert hub.spool.process_due() == 1
    assert paper_of(client, first) == "failed", "the kiosk must stop waiting"

    job = job_of(first)
    assert (job.state, job.attempts) == ("queued", 1)
    assert job.next_attempt_at > utcnow()
    assert f"'{PRINTER}' at 127.0.0.1:{fake_printer.port}" in job.last_error
    assert "connection refused" in job.last_error
    [state] = hub.spool.states()
    assert (state["state"], state["last_error"]) == ("offline", job.last_error)
    assert state["jobs_waiting"] == 1

    # The next ticket is still issued at once, and the kiosk learns why no paper.
    second = issue(client)
    assert second["printer"] == "offline"
    assert hub.spool.process_due() == 1, "the first job is backing off"

    fake_printer.mode = "ok"
    make_due()
    assert hub.spool.process_due() == 2
    assert hub.spool.process_due() == 0
    labels = [first["ticket"]["label"], second["ticket"]["label"]]
    assert printed_labels(fake_printer.jobs) == labels
    assert paper_of(client, first) == paper_of(client, second) == "printed"
    [state] = hub.spool.states()
    assert (state["state"], state["jobs_waiting"]) == ("online", 0)

    alerts = [m["args"][0] for m in staff.get_received() if m["name"] == "printer"]
    assert [(a["id"], a["state"]) for a in alerts] == [
        (PRINTER, "offline"),
        (PRINTER, "online"),
    ]
    assert "connection refused" in alerts[0]["last_error"]


def test_job_is_given_up_when_the_printer_stays_down(build, fake_printer):
    app = build(
        printers=network_printer(fake_printer.port),
        printing={"retry_max_seconds": 0.05, "give_up_after_seconds": 0.3},
    )
    hub = app.extensions["navbat"]
    fake_printer.mode = "refuse"
    issued = issue(app.test_client())

    deadline = time.monotonic() + WAIT
    while job_of(issued).state == "queued" and time.monotonic() < deadline:
        hub.spool.process_due()
        time.sleep(0.05)

    job = job_of(issued)
    assert job.state == "failed"
    assert job.attempts >= 2
    assert "connection refused" in job.last_error
    [state] = hub.spool.states()
    assert (state["jobs_waiting"], state["jobs_failed"]) == (0, 1)

    fake_printer.mode = "ok"
    assert hub.spool.process_due() == 0
    assert fake_printer.jobs == []


def test_stalled_printer_times_out_without_holding_up_issuing(networked, fake_printer):
    """A printer that accepts but never reads gets the job into its buffers.

    python-escpos alone reports that as success; the transport ends its side
    and waits for the printer's, so the job fails within the printer's timeout.
    """
    hub = networked.extensions["navbat"]
    client = networked.test_client()
    fake_printer.mode = "stall"
    first = issue(client)

    worker = threading.Thread(target=hub.spool.process_due, daemon=True)
    worker.start()
    deadline = time.monotonic() + WAIT
    while job_of(first).state != "printing" and time.monotonic() < deadline:
        time.sleep(0.01)
    second = issue(client)
    assert job_of(first).state == "printing", "issuing waited for the printer"
    worker.join(WAIT)
    assert not worker.is_alive()

    for issued in (first, second):
        job = job_of(issued)
        assert (job.state, job.attempts) == ("queued", 1)
        assert "did not take the ticket within 1 s" in job.last_error
    assert hub.spool.state(PRINTER) == "offline"
    assert fake_printer.jobs == []


def test_one_round_tries_each_due_job_once(build, fake_printer):
    app = build(
        printers=network_printer(fake_printer.port),
        printing={"retry_max_seconds": 0.001, "give_up_after_seconds": 3.0},
    )
    hub = app.extensions["navbat"]
    client = app.test_client()
    fake_printer.mode = "refuse"
    tickets = [issue(client), issue(client)]

    assert hub.spool.process_due() == 2
    assert [job_of(t).attempts for t in tickets] == [1, 1]
    assert {job_of(t).state for t in tickets} == {"queued"}


def test_printer_that_cannot_render_fails_the_job_and_says_why(
    networked, fake_printer, monkeypatch
):
    # Fault injection: config.toml's checks stop the known causes (an unknown
    # profile), so a rendering crash is forced here to test the safety net.
    def broken_renderer(*args, **kwargs):
        raise ValueError("the renderer broke on this ticket")

    monkeypatch.setattr("server.printing.render_escpos", broken_renderer)
    hub = networked.extensions["navbat"]
    client = networked.test_client()
    tickets = [issue(client), issue(client)]

    assert hub.spool.process_due() == 2

    for issued in tickets:
        job = job_of(issued)
        assert job.state == "failed"
        assert job.last_error == "the renderer broke on this ticket"
    [state] = hub.spool.states()
    assert (state["state"], state["jobs_failed"]) == ("offline", 2)
    assert "renderer broke" in state["last_error"]
    assert fake_printer.jobs == []


# -- a hub restart ------------------------------------------------------------------


def test_interrupted_job_is_held_until_staff_reprint(networked, fake_printer):
    hub = networked.extensions["navbat"]
    client = networked.test_client()
    issued = issue(client)
    with writing():
        PrintJob.update(state="printing", attempts=1).execute()

    hub.spool.recover()

    job = job_of(issued)
    assert job.state == "failed"
    assert "interrupted by a restart" in job.last_error
    assert hub.spool.process_due() == 0
    assert fake_printer.jobs == []

    ticket_id = job.ticket_id
    refused = client.post(f"/api/v1/tickets/{ticket_id}/reprint")
    assert refused.status_code == 401
    csrf = sign_in_staff(client)
    answer = client.post(
        f"/api/v1/tickets/{ticket_id}/reprint", headers={"X-CSRF-Token": csrf}
    )
    assert answer.status_code == 202, answer.get_json()
    assert answer.get_json()["printer"] == PRINTER

    assert hub.spool.process_due() == 1
    assert hub.spool.process_due() == 0
    assert printed_labels(fake_printer.jobs) == [issued["ticket"]["label"]]


# -- the whole path through a real hub process --------------------------------------


def job_state(database_path: Path, token: str) -> str | None:
    """Read a ticket's newest print job state from the hub's SQLite file."""
    with sqlite3.connect(f"file:{database_path}?mode=ro", uri=True) as db:
        row = db.execute(
            f"SELECT j.state FROM {PrintJob._meta.table_name} j"
            f" JOIN {Ticket._meta.table_name} t ON t.id = j.ticket_id"
            " WHERE t.token = ? ORDER BY j.id DESC LIMIT 1",
            (token,),
        ).fetchone()
    return row[0] if row else None


@pytest.mark.hub
@pytest.mark.parametrize("async_mode", ["eventlet", "threading"])
def test_real_hub_prints_in_the_background(tmp_path, fake_printer, async_mode):
    # A long timeout costs nothing here (a stalled send is cut short by the
    # restart) and leaves room for a busy machine in the stalled phase.
    hub = start_hub(
        tmp_path,
        async_mode,
        printers=network_printer(fake_printer.port, timeout=3.0),
        printing={"retry_max_seconds": 0.2},
    )
    staff_session = requests.Session()
    staff = socketio.Client(reconnection=False)
    alerts: queue.Queue[dict] = queue.Queue()
    staff.on("printer", alerts.put)

    def issue_over_http() -> dict:
        answer = requests.post(
            f"{hub.url}/api/v1/tickets",
            json={"service": "checkup", "kiosk": "lobby"},
            timeout=WAIT,
        )
        assert answer.status_code == 201, answer.text
        return answer.json()

    try:
        answer = staff_session.post(
            f"{hub.url}/api/v1/staff/login",
            json={"username": "admin", "password": hub.credentials()["admin"]},
            timeout=WAIT,
        )
        assert answer.status_code == 200, answer.text
        cookie = f"session={staff_session.cookies['session']}"
        staff.connect(
            hub.url,
            auth={"audience": "staff"},
            headers={"Cookie": cookie},
            transports=["websocket"],
        )

        first = issue_over_http()
        assert printed_labels(fake_printer.wait_for_jobs(1, WAIT)) == [
            first["ticket"]["label"]
        ]
        # The spool asks the printer how it is at start, so "online" may have
        # been announced before this client connected: ask the API instead.
        printers = staff_session.get(f"{hub.url}/api/v1/printers", timeout=WAIT)
        assert printers.json()["printers"][0]["state"] == "online"
        while not alerts.empty():
            assert alerts.get()["state"] == "online"

        fake_printer.mode = "refuse"
        second = issue_over_http()
        down = alerts.get(timeout=WAIT)
        assert down["state"] == "offline"
        assert "connection refused" in down["last_error"]
        third = issue_over_http()
        assert third["printer"] == "offline"

        fake_printer.mode = "ok"
        jobs = fake_printer.wait_for_jobs(3, WAIT)
        labels = {t["ticket"]["label"] for t in (second, third)}
        assert printed_labels(jobs[:1]) == [first["ticket"]["label"]]
        assert sorted(printed_labels(jobs[1:])) == sorted(labels)
        assert alerts.get(timeout=WAIT)["state"] == "online"

        # While the spool waits on a stalled printer, the hub still answers.
        fake_printer.mode = "stall"
        fourth = issue_over_http()
        database_path = tmp_path / "navbat.sqlite3"
        token = fourth["ticket"]["token"]
        deadline = time.monotonic() + WAIT
        while job_state(database_path, token) != "printing":
            assert time.monotonic() < deadline, "the spool never took the job"
            time.sleep(0.01)
        fifth = issue_over_http()
        assert job_state(database_path, token) == "printing", "the hub was held up"

        # Stopped mid-send, the hub cannot know whether paper came out: after
        # the restart it holds that job for a reprint and prints the next one.
        hub.stop()
        fake_printer.mode = "ok"
        hub.start()
        jobs = fake_printer.wait_for_jobs(4, WAIT)
        assert printed_labels(jobs[3:]) == [fifth["ticket"]["label"]]
        assert job_state(database_path, token) == "failed"
        assert "1 print job(s) were interrupted by a restart" in hub.log()
    finally:
        staff.disconnect()
        hub.stop()


def test_the_paper_carries_the_wait_estimate(networked, fake_printer):
    hub = networked.extensions["navbat"]
    client = networked.test_client()
    issue(client, lang="en")
    second = issue(client, lang="en")
    low, high = second["wait"]

    hub.spool.process_due()

    paper = decode(fake_printer.jobs[1])
    assert f"Wait: about {low}-{high} min" in paper.lines
    assert high > low >= 0


def test_paper_out_keeps_the_ticket_until_a_new_roll(networked, fake_printer):
    hub = networked.extensions["navbat"]
    client = networked.test_client()
    fake_printer.mode = "paper_out"

    issued = issue(client)
    hub.spool.process_due()

    job = job_of(issued)
    assert (job.state, job.attempts) == ("queued", 1)
    assert "out of paper" in job.last_error
    assert fake_printer.jobs == [], "nothing is sent to a printer without paper"
    hub.spool.check_printers()
    [state] = hub.spool.states()
    assert (state["state"], state["problem"]) == ("paper_out", "paper_out")

    fake_printer.mode = "ok"
    hub.spool.check_printers()
    assert hub.spool.states()[0]["state"] == "online"
    make_due()
    hub.spool.process_due()
    assert printed_labels(fake_printer.jobs) == [issued["ticket"]["label"]]


def test_the_kiosk_start_screen_learns_the_printer_is_down(networked, fake_printer):
    hub = networked.extensions["navbat"]
    client = networked.test_client()
    assert client.get("/api/v1/services?kiosk=lobby").get_json()["printer"] == "unknown"
    fake_printer.mode = "refuse"
    issue(client)

    hub.spool.process_due()

    assert client.get("/api/v1/services?kiosk=lobby").get_json()["printer"] == "offline"
    assert client.get("/api/v1/services").get_json()["printer"] == "none"
    page = client.get("/kiosk/lobby").get_data(as_text=True)
    assert 'id="printer-notice"' in page and '"printer_notice": true' in page


def test_paper_running_low_warns_staff_and_keeps_printing(networked, fake_printer):
    hub = networked.extensions["navbat"]
    client = networked.test_client()
    fake_printer.mode = "paper_low"

    hub.spool.check_printers()
    issued = issue(client)
    hub.spool.process_due()

    [state] = hub.spool.states()
    assert state["state"] == "paper_low"
    assert state["problem"] == "paper_low"
    assert printed_labels(fake_printer.jobs) == [issued["ticket"]["label"]]
