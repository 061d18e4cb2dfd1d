"""config.toml: the repo's file loads, and every mistake names its key."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from server import config as config_module
from server.config import ConfigError
from tests.conftest import ROOT, base_raw_config, free_port, toml_text

VENV_PYTHON = ROOT / ".venv" / "bin" / "python"


def test_repo_config_loads():
    config = config_module.load()

    assert config.source == ROOT / "config.toml"
    assert len(config.services) >= 3
    assert len(config.dentists) == 4
    for dentist in config.dentists:
        assert config.room(dentist.room) is not None, dentist
        assert dentist.services, dentist
        for service_id in dentist.services:
            assert config.service(service_id) is not None, (dentist, service_id)
    assert len(config.kiosks) == 1
    assert config.printer(config.kiosks[0].printer) is not None
    assert config.clinic.timezone == "Asia/Tashkent"


def test_loaded_values_are_typed():
    config = config_module.load()

    assert isinstance(config.server.port, int)
    assert all(isinstance(p.timeout, float) for p in config.printers)
    for service in config.services:
        assert set(service.name) == {"uz", "ru", "en"}, service


# -- broken files --------------------------------------------------------------


def _set(path: str, value):
    """Return a change that sets one key, by a dotted path with list indexes."""

    def change(raw: dict) -> None:
        *parents, last = path.split(".")
        node = raw
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        node[last] = value

    return change


def _delete(path: str):
    def change(raw: dict) -> None:
        *parents, last = path.split(".")
        node = raw
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        del node[last]

    return change


def _network_printer_without_host(raw: dict) -> None:
    raw["printers"][0] = {"id": "lobby-printer", "type": "network"}


def _duplicate_service_id(raw: dict) -> None:
    raw["services"][1]["id"] = raw["services"][0]["id"]


def _duplicate_prefix(raw: dict) -> None:
    raw["services"][1]["prefix"] = raw["services"][0]["prefix"]


BROKEN = [
    pytest.param(
        _set("bogus", {"x": 1}), "bogus", "unknown section", id="unknown-section"
    ),
    pytest.param(
        _set("clinic.colour", "blue"),
        "clinic.colour",
        "unknown key",
        id="unknown-clinic-key",
    ),
    pytest.param(
        _set("server.port", "abc"),
        "server.port",
        "must be a whole number, got 'abc'",
        id="port-text",
    ),
    pytest.param(
        _set("server.port", True),
        "server.port",
        "must be a whole number, got True",
        id="port-bool",
    ),
    pytest.param(
        _set("server.port", 70000),
        "server.port",
        "70000 is not a TCP port",
        id="port-range",
    ),
    pytest.param(
        _set("server.tablet_lock_minutes", -1),
        "server.tablet_lock_minutes",
        "-1 must be 0 (never) to 720 minutes",
        id="tablet-lock-range",
    ),
    pytest.param(
        _set("printers.0.width_mm", 70),
        "printers[0].width_mm",
        "70 must be 58 or 80",
        id="width-70",
    ),
    pytest.param(
        _set("printers.0.timeout", 0),
        "printers[0].timeout",
        "must be more than 0 seconds",
        id="timeout-0",
    ),
    pytest.param(
        lambda raw: raw.setdefault("printing", {}).update(retry_max_seconds=0),
        "printing.retry_max_seconds",
        "must be more than 0 seconds",
        id="retry-0",
    ),
    pytest.param(
        _set("clinic.announcement", "Please wait"),
        "clinic.announcement",
        "must be a table",
        id="announcement-text",
    ),
    pytest.param(
        _set("printers.0.timeout", float("nan")),
        "printers[0].timeout",
        "must be a finite number",
        id="timeout-nan",
    ),
    pytest.param(
        _set("server.host", "not a host"),
        "server.host",
        "is not an IP address",
        id="host-words",
    ),
    pytest.param(
        _set("printers.0.profile", "NoSuchPrinter"),
        "printers[0].profile",
        "'NoSuchPrinter' is not a python-escpos printer profile",
        id="profile-unknown",
    ),
    pytest.param(
        _set("printers.0.timeout", "3"),
        "printers[0].timeout",
        "must be a number",
        id="timeout-text",
    ),
    pytest.param(
        _set("server.async_mode", "gevent"),
        "server.async_mode",
        "'gevent' is not one of eventlet, threading",
        id="async-mode",
    ),
    pytest.param(
        _set("clinic.timezone", "Asia/Samarkand-ish"),
        "clinic.timezone",
        "not a known time zone",
        id="timezone-unknown",
    ),
    pytest.param(
        _set("clinic.timezone", "../../etc/passwd"),
        "clinic.timezone",
        "not a known time zone",
        id="timezone-path",
    ),
    pytest.param(
        _set("dentists.0.room", "99"),
        "dentists[0].room",
        "room '99' is not in [[rooms]]",
        id="dentist-room",
    ),
    pytest.param(
        _set("dentists.1.services", ["checkup", "braces"]),
        "dentists[1].services",
        "service 'braces' is not in [[services]]",
        id="dentist-service",
    ),
    pytest.param(
        _set("kiosks.0.printer", "upstairs"),
        "kiosks[0].printer",
        "printer 'upstairs' is not in [[printers]]",
        id="kiosk-printer",
    ),
    pytest.param(
        _duplicate_service_id,
        "services[1].id",
        "is used twice",
        id="duplicate-service-id",
    ),
    pytest.param(
        _duplicate_prefix,
        "services[1].prefix",
        "'A' is used by two services",
        id="duplicate-prefix",
    ),
    pytest.param(
        _set("services.0.prefix", "a"),
        "services[0].prefix",
        "'a' must be 1 to 3 capital Latin letters",
        id="lowercase-prefix",
    ),
    pytest.param(
        _delete("services.2.name.ru"),
        "services[2].name.ru",
        "is missing",
        id="name-without-ru",
    ),
    pytest.param(
        _set("rooms.0.name", {"uz": "1-xona", "ru": " ", "en": "Room 1"}),
        "rooms[0].name.ru",
        "is missing",
        id="name-blank-ru",
    ),
    pytest.param(
        _network_printer_without_host,
        "printers[0].host",
        "is needed for a network printer",
        id="network-printer-without-host",
    ),
    pytest.param(
        _set("clinic.public_url", "navbat.local"),
        "clinic.public_url",
        "must start with http:// or https://",
        id="public-url-scheme",
    ),
    pytest.param(
        _delete("clinic.name"), "clinic.name", "is missing", id="clinic-name-missing"
    ),
]


def write_raw(folder: Path, raw: dict) -> Path:
    path = folder / "config.toml"
    path.write_text(toml_text(raw), encoding="utf-8")
    return path


@pytest.mark.parametrize(("change", "key", "problem"), BROKEN)
def test_broken_config_names_key_and_problem(tmp_path, change, key, problem):
    raw = base_raw_config()
    change(raw)
    path = write_raw(tmp_path, raw)

    with pytest.raises(ConfigError) as caught:
        config_module.load(path)

    message = str(caught.value)
    assert message.startswith(f"config.toml: {key}: "), message
    assert problem in message, message
    assert "\n" not in message


def test_unchanged_copy_loads(tmp_path):
    """The broken cases fail for their change, not for how the file is written."""
    path = write_raw(tmp_path, base_raw_config())

    assert config_module.load(path).services == config_module.load().services


def test_not_toml_names_the_file(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("[clinic\nname = 1\n", encoding="utf-8")

    with pytest.raises(ConfigError, match=r"^config\.toml: not valid TOML"):
        config_module.load(path)


def test_a_byte_order_mark_is_accepted(tmp_path):
    path = write_raw(tmp_path, base_raw_config())
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())

    assert config_module.load(path).clinic.name == config_module.load().clinic.name


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.write_text("[clinic]\n", encoding="utf-16"), "is not UTF-8 text"),
        (lambda p: p.mkdir(), "is a folder"),
    ],
    ids=["utf-16", "folder"],
)
def test_an_unreadable_file_gets_one_line(tmp_path, make, message):
    path = tmp_path / "config.toml"
    make(path)

    with pytest.raises(ConfigError, match=message):
        config_module.load(path)


# -- the command line ----------------------------------------------------------


def _bad_config(folder: Path) -> Path:
    raw = base_raw_config()
    # If the check were missed, `run` must still only ever listen on loopback.
    raw["server"].update(host="127.0.0.1", port=free_port(), async_mode="threading")
    raw["server"]["database"] = str(folder / "navbat.sqlite3")
    raw["clinic"]["colour"] = "blue"
    return write_raw(folder, raw)


@pytest.mark.parametrize("command", ["check-config", "run"])
def test_cli_refuses_bad_config_in_one_line(tmp_path, command):
    path = _bad_config(tmp_path)

    result = subprocess.run(
        [str(VENV_PYTHON), "-m", "server", "--config", str(path), command],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )

    assert result.returncode == 2, result
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "clinic.colour" in lines[0]
    assert "unknown key" in lines[0]
    assert not (tmp_path / "navbat.sqlite3").exists()


def test_cli_accepts_good_config(tmp_path):
    raw = base_raw_config()
    raw["server"]["database"] = str(tmp_path / "navbat.sqlite3")
    path = write_raw(tmp_path, raw)

    result = subprocess.run(
        [str(VENV_PYTHON), "-m", "server", "--config", str(path), "check-config"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"{path}: ok"
    assert result.stderr == ""
