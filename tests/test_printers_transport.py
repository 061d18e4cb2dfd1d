"""Delivering tickets to printers that work, refuse, stall, drop or run dry."""

import os
import socket
import sys
import time
from dataclasses import replace

import pytest

from printers import (
    PrinterConfig,
    PrinterUnavailable,
    TicketPrint,
    query_status,
    render_escpos,
    render_png,
    save_preview,
    send,
    ticket_layout,
)
from tests.fakes.escpos_printer import FakePrinter

TIMEOUT = 0.5

TICKET = TicketPrint(
    clinic_name="Tabassum",
    number="A-001",
    service="Ogʻiz boʻshligʻi gigiyenasi",
    issued_at="04.12.2026 15:40",
    ahead="Oldinda: 3 kishi",
    qr_url="http://127.0.0.1:5000/t/7Qm2xK9p",
    qr_hint="Navbatni kuzatish uchun skanerlang",
)
JOB = render_escpos(ticket_layout(TICKET))


@pytest.fixture
def fake():
    with FakePrinter() as printer:
        yield printer


@pytest.fixture
def lobby(fake):
    return PrinterConfig(
        id="lobby", type="network", host="127.0.0.1", port=fake.port, timeout=TIMEOUT
    )


def send_timed(cfg: PrinterConfig, data: bytes) -> tuple[PrinterUnavailable, float]:
    """Send, expect PrinterUnavailable, and return it with the seconds it took."""
    started = time.monotonic()
    with pytest.raises(PrinterUnavailable) as caught:
        send(cfg, data, name="A-001")
    return caught.value, time.monotonic() - started


def test_send_delivers_the_exact_bytes_one_job_per_ticket(fake, lobby):
    second = render_escpos(ticket_layout(replace(TICKET, number="A-002")))

    send(lobby, JOB, name="A-001")
    send(lobby, second, name="A-002")

    assert fake.wait_for_jobs(2) == [JOB, second]


def test_refused_connection_is_reported_and_the_printer_comes_back(fake, lobby):
    fake.mode = "refuse"

    error, _ = send_timed(lobby, JOB)

    assert "'lobby' at 127.0.0.1" in str(error)
    assert "connection refused" in str(error)
    assert "switched on" in str(error)
    assert error.printer_id == "lobby"

    fake.mode = "ok"
    send(lobby, JOB, name="A-001")
    assert fake.wait_for_jobs(1) == [JOB]


@pytest.mark.skipif(sys.platform != "linux", reason="relies on Linux SYN drops")
def test_printer_that_never_accepts_times_out_with_our_timeout():
    # Linux drops SYNs to a listener whose accept queue is full, just as a
    # switched-off printer whose address still routes never answers.
    with socket.create_server(("127.0.0.1", 0), backlog=0) as listener:
        port = listener.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port)):
            cfg = PrinterConfig(
                id="lobby", type="network", host="127.0.0.1", port=port, timeout=TIMEOUT
            )

            error, seconds = send_timed(cfg, JOB)

    assert f"does not answer (no reply within {TIMEOUT:g} s)" in str(error)
    assert seconds < 10 * TIMEOUT


@pytest.mark.parametrize(
    "size",
    [
        # A ticket fits in the socket buffers of a printer that does not
        # read, so the write itself "succeeds"; only waiting for the printer
        # to close its side after our end of job catches the stall.
        pytest.param(len(JOB), id="ticket"),
        # 8 MB is more than loopback buffers hold (about 2.9 MB measured),
        # so here the write itself runs out of time.
        pytest.param(8_000_000, id="larger-than-socket-buffers"),
    ],
)
def test_stalled_printer_fails_within_the_timeout(fake, lobby, size):
    fake.mode = "stall"

    error, seconds = send_timed(lobby, JOB.ljust(size, b"\n"))

    assert f"within {TIMEOUT:g} s" in str(error)
    # Loose bound: proves our timeout is used, not python-escpos's 60 s.
    assert seconds < 10 * TIMEOUT


def test_python_escpos_alone_reports_success_to_a_stalled_printer(fake):
    # The pitfall that _await_end_of_job exists for.
    # Imported here: printers must be imported first (capabilities cache).
    from escpos.printer import Network

    fake.mode = "stall"
    printer = Network("127.0.0.1", fake.port, timeout=TIMEOUT)
    printer.open()

    printer._raw(JOB)

    printer.close()
    assert fake.jobs == []


@pytest.mark.parametrize("size", [len(JOB), 8_000_000], ids=["ticket", "large"])
def test_connection_dropped_mid_job_is_a_failure(fake, lobby, size):
    fake.mode = "drop"

    error, _ = send_timed(lobby, JOB.ljust(size, b"\n"))

    assert "dropped the connection" in str(error)
    assert fake.wait_for_jobs(1)[0] == JOB[: fake.drop_after]


@pytest.mark.parametrize(
    ("mode", "status"),
    [
        ("ok", "online"),
        ("offline", "offline"),
        ("paper_out", "paper_out"),
        ("paper_low", "paper_low"),
        ("stall", "unknown"),
        ("drop", "unknown"),
        ("refuse", "offline"),
    ],
)
def test_query_status_reads_the_printers_answer(fake, lobby, mode, status):
    fake.mode = mode

    assert query_status(lobby) == status


def test_status_queries_are_not_counted_as_jobs(fake, lobby):
    query_status(lobby)
    send(lobby, JOB, name="A-001")

    assert fake.wait_for_jobs(1) == [JOB]
    assert fake.status_queries == 1


def test_file_printer_creates_its_folder_and_writes_bin_and_png(tmp_path):
    folder = tmp_path / "var" / "print"
    cfg = PrinterConfig(id="desk", type="file", path=str(folder))
    png = render_png(ticket_layout(TICKET))

    send(cfg, JOB, name="2026-12-04_A-001")
    save_preview(cfg, png, name="2026-12-04_A-001")

    assert (folder / "2026-12-04_A-001.bin").read_bytes() == JOB
    assert (folder / "2026-12-04_A-001.png").read_bytes() == png
    assert sorted(p.name for p in folder.iterdir()) == [
        "2026-12-04_A-001.bin",
        "2026-12-04_A-001.png",
    ]
    assert query_status(cfg) == "online"


def test_file_printer_that_cannot_write_is_unavailable(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    cfg = PrinterConfig(id="desk", type="file", path=str(blocker))

    with pytest.raises(PrinterUnavailable, match="'desk' could not save A-001.bin"):
        send(cfg, JOB, name="A-001")
    assert query_status(cfg) == "offline"


@pytest.mark.parametrize("name", ["", "../escape", "a/b", ".hidden"])
def test_job_names_cannot_leave_the_folder(tmp_path, name):
    cfg = PrinterConfig(id="desk", type="file", path=str(tmp_path))

    with pytest.raises(ValueError, match="print job name"):
        send(cfg, JOB, name=name)


def test_previews_are_kept_only_for_file_printers(tmp_path, lobby, monkeypatch):
    monkeypatch.chdir(tmp_path)

    save_preview(lobby, b"png", name="A-001")

    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("cfg", "message"),
    [
        (PrinterConfig(id="p", type="network"), "has no address"),
        (PrinterConfig(id="p", type="file"), "has no folder"),
        (PrinterConfig(id="p", type="bluetooth"), "unknown type 'bluetooth'"),
        (
            PrinterConfig(id="p", type="usb", vendor_id=0x04B8, product_id=0x0202),
            "on USB 04b8:0202 does not answer",
        ),
        (
            PrinterConfig(id="p", type="serial", device="/dev/ttyNAVBAT9"),
            "on /dev/ttyNAVBAT9 does not answer",
        ),
    ],
)
def test_misconfigured_printers_say_what_to_fix(cfg, message):
    with pytest.raises(PrinterUnavailable, match=message):
        send(cfg, JOB, name="A-001")


# -- CUPS ----------------------------------------------------------------------------

FAKE_LP = """#!/bin/sh
# A stand-in for CUPS's lp: records its arguments and the job's bytes.
echo "$@" > "$(dirname "$0")/args"
cat > "$(dirname "$0")/job"
"""


def test_cups_hands_the_raw_bytes_to_lp(tmp_path, monkeypatch):
    lp = tmp_path / "lp"
    lp.write_text(FAKE_LP)
    lp.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    cfg = PrinterConfig(id="desk", type="cups", device="Receipt_80")

    send(cfg, JOB, name="A-001")

    assert (tmp_path / "job").read_bytes() == JOB
    assert (tmp_path / "args").read_text().split() == [
        "-d",
        "Receipt_80",
        "-t",
        "A-001",
        "-o",
        "raw",
    ]


def test_cups_without_lp_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty folder: no lp anywhere
    cfg = PrinterConfig(id="desk", type="cups", device="Receipt_80")

    with pytest.raises(PrinterUnavailable, match="apt-get install cups-client"):
        send(cfg, JOB, name="A-001")


def test_cups_refusal_is_reported(tmp_path, monkeypatch):
    lp = tmp_path / "lp"
    lp.write_text(
        '#!/bin/sh\necho "lp: The printer or class does not exist." >&2\nexit 1\n'
    )
    lp.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    cfg = PrinterConfig(id="desk", type="cups", device="Nope")

    with pytest.raises(PrinterUnavailable, match="does not exist"):
        send(cfg, JOB, name="A-001")
