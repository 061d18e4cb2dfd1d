"""The command line an operator uses: start-up guards, resets."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

import pytest
import requests

from tests.conftest import ROOT, free_port, start_hub, write_config


def run_cli(config_path, *args):
    return subprocess.run(
        [sys.executable, "-m", "server", "--config", str(config_path), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_second_hub_on_the_same_database_is_refused(tmp_path):
    hub = start_hub(tmp_path, "threading")
    try:
        second = run_cli(hub.config_path, "run", "--port", str(free_port()))

        assert second.returncode == 2
        assert "another hub is already running" in second.stderr
        assert requests.get(hub.url + "/health", timeout=5).ok
    finally:
        hub.stop()


def test_a_port_in_use_is_refused_with_a_clear_line(tmp_path):
    (tmp_path / "first").mkdir()
    (tmp_path / "second").mkdir()
    hub = start_hub(tmp_path / "first", "eventlet")  # listens with SO_REUSEPORT
    other = write_config(tmp_path / "second", server={"host": "127.0.0.1"})
    try:
        second = run_cli(other, "run", "--port", str(hub.port))

        assert second.returncode == 2
        assert f"cannot listen on 127.0.0.1:{hub.port}" in second.stderr
    finally:
        hub.stop()


def test_reset_password_refuses_an_unknown_user(tmp_path):
    path = write_config(tmp_path)
    hub_db = tmp_path / "navbat.sqlite3"

    typo = run_cli(path, "reset-password", "admn")

    assert typo.returncode == 2
    assert "there is no staff user 'admn'" in typo.stderr
    if hub_db.exists():
        with sqlite3.connect(hub_db) as db:
            names = [row[0] for row in db.execute("select username from staffuser")]
        assert "admn" not in names


@pytest.mark.parametrize("command", [["reset-pin", "karimova"]])
def test_reset_pin_prints_a_new_pin(tmp_path, command):
    path = write_config(tmp_path)

    result = run_cli(path, *command)

    assert result.returncode == 0
    pin = result.stdout.strip().rsplit(" ", 1)[-1]
    assert pin.isdigit() and len(pin) == 6


def test_an_older_database_gets_new_columns(tmp_path):
    from server import config as config_module
    from server.db import database, open_sqlite
    from server.models import create_tables

    db_path = tmp_path / "old.sqlite3"
    with sqlite3.connect(db_path) as db:
        db.execute(
            "create table dentist (id varchar(32) primary key, active integer, "
            "pin_hash varchar(255), failed_pins integer, locked_until datetime)"
        )
        db.execute("insert into dentist values ('karimova', 1, '', 0, null)")
    config_module.load(write_config(tmp_path))

    open_sqlite(db_path)
    create_tables()

    with database.connection_context():
        columns = {c.name for c in database.get_columns("dentist")}
    assert "session_epoch" in columns
    with sqlite3.connect(db_path) as db:
        assert db.execute("select session_epoch from dentist").fetchall() == [(0,)]


def _network_printer_config(folder, port: int):
    raw_printer = {
        "id": "lobby-printer",
        "type": "network",
        "host": "127.0.0.1",
        "port": port,
        "timeout": 1.0,
        "width_mm": 58,
    }
    return write_config(folder, printers=[raw_printer])


def test_printer_test_prints_every_language_a_qr_and_a_cut(tmp_path):
    from tests.escpos_decode import decode
    from tests.fakes.escpos_printer import FakePrinter

    with FakePrinter() as printer:
        result = run_cli(
            _network_printer_config(tmp_path, printer.port), "printer-test", "lobby"
        )
        assert printer.wait_for_jobs(1, timeout=5)
        paper = decode(printer.jobs[0])

    assert result.returncode == 0, result.stderr
    assert "Test page sent to lobby-printer (network)" in result.stdout
    text = " ".join(paper.lines)  # 58 mm paper wraps the longer lines
    assert "Русский: Съешь же ещё этих мягких булок" in text
    assert "O'zbekcha: O'g'il, g'isht, ma'no, sho'x" in text
    assert "?" not in text
    assert paper.images >= 1, "the Uzbek Cyrillic line goes out as an image"
    assert paper.qr_payloads and paper.qr_payloads[0].endswith("/t/test")
    assert paper.cuts == 1


def test_printer_test_says_why_nothing_printed(tmp_path):
    port = free_port()  # nothing listens there

    result = run_cli(_network_printer_config(tmp_path, port), "printer-test", "lobby")

    assert result.returncode == 1
    assert "Test page NOT printed" in result.stderr
    assert f"127.0.0.1:{port}" in result.stderr


def test_add_user_creates_an_admin_who_can_sign_in(tmp_path):
    path = write_config(tmp_path)

    added = run_cli(
        path, "add-user", "Owner", "--role", "admin", "--name", "Clinic Owner"
    )
    again = run_cli(path, "add-user", "owner", "--role", "admin")

    assert added.returncode == 0, added.stderr
    password = added.stdout.strip().rsplit(" ", 1)[-1]
    assert again.returncode == 2
    assert "exists" in again.stderr
    hub = start_hub(tmp_path, "threading")
    try:
        login = requests.post(
            hub.url + "/api/v1/staff/login",
            json={"username": "owner", "password": password},
            timeout=5,
        )
        assert login.json()["role"] == "admin"
    finally:
        hub.stop()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["x", "--role", "admin"], "3 to 32"),
        (["doc", "--role", "dentist"], "--dentist goes with --role dentist"),
        (["doc", "--role", "receptionist", "--dentist", "karimova"], "--dentist goes"),
        (["doc", "--role", "dentist", "--dentist", "nobody"], "no dentist 'nobody'"),
    ],
)
def test_add_user_refuses_bad_details(tmp_path, args, message):
    path = write_config(tmp_path)

    result = run_cli(path, "add-user", *args)

    assert result.returncode == 2
    assert message in result.stderr


def test_run_flags_reach_the_printed_addresses_and_the_tickets(tmp_path):
    from tests.conftest import HubProcess

    path = write_config(
        tmp_path, server={"host": "0.0.0.0", "port": 5000, "async_mode": "threading"}
    )
    port = free_port()
    hub = HubProcess(path, port, "threading").start()  # run --host 127.0.0.1 --port
    try:
        issued = requests.post(
            f"{hub.url}/api/v1/tickets",
            json={"service": "checkup", "kiosk": "lobby", "lang": "en"},
            timeout=5,
        ).json()
        assert f"127.0.0.1:{port}/kiosk/" in hub.log()
        assert issued["url"].startswith(f"http://127.0.0.1:{port}/t/")
    finally:
        hub.stop()
