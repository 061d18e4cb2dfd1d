"""Shared fixtures: a fresh SQLite file per test, the app, and a real hub process."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from server import config as config_module
from server.config import WEEKDAYS, Config

ROOT = Path(__file__).resolve().parent.parent
BASE_CONFIG = ROOT / "config.toml"


def toml_text(table: dict, prefix: str = "") -> str:
    """Write a dict as TOML (enough for config.toml: tables, arrays, scalars)."""
    lines, nested, arrays = [], [], []
    for key, value in table.items():
        if isinstance(value, dict) and not _inline(value):
            nested.append((key, value))
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            arrays.append((key, value))
        else:
            lines.append(f"{key} = {_toml_value(value)}")
    out = "\n".join(lines) + "\n"
    for key, value in nested:
        out += f"\n[{prefix}{key}]\n" + toml_text(value, f"{prefix}{key}.")
    for key, items in arrays:
        for item in items:
            out += f"\n[[{prefix}{key}]]\n" + toml_text(item, f"{prefix}{key}.")
    return out


def _inline(value: dict) -> bool:
    return all(not isinstance(v, dict | list) for v in value.values()) and (
        set(value) <= {"uz", "ru", "en"}
    )


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return (
            "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
        )
    raise TypeError(f"cannot write {value!r} as TOML")


def base_raw_config() -> dict:
    return tomllib.loads(BASE_CONFIG.read_text(encoding="utf-8"))


def write_config(folder: Path, **sections) -> Path:
    """Write a config.toml in folder: the repo's, with sections replaced."""
    raw = base_raw_config()
    raw["server"]["database"] = str(folder / "navbat.sqlite3")
    for printer in raw["printers"]:
        if printer["type"] == "file":
            printer["path"] = str(folder / "print")
    # Tests run at any hour of any day: every service is open round the clock
    # unless a test says otherwise.
    for service in raw["services"]:
        service.update(opens="00:00", closes="24:00", days=list(WEEKDAYS))
    raw.setdefault("queue", {})["stop_issuing_minutes_before_close"] = 0
    # Tests issue many tickets from one address; the limit has its own test.
    raw["queue"]["tickets_per_minute_per_address"] = 0
    for name, value in sections.items():
        if isinstance(value, dict) and isinstance(raw.get(name), dict):
            raw[name] = {**raw[name], **value}
        else:
            raw[name] = value
    path = folder / "config.toml"
    path.write_text(toml_text(raw), encoding="utf-8")
    return path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    return write_config(
        tmp_path,
        server={"async_mode": "threading", "host": "127.0.0.1"},
        clinic={"public_url": "http://127.0.0.1:5000"},
    )


@pytest.fixture
def config(config_path: Path) -> Config:
    return config_module.load(config_path)


@pytest.fixture
def app(config: Config):
    from server.app import create_app

    app = create_app(config)
    app.config["TESTING"] = True
    yield app
    from server.db import database

    database.close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def hub(app):
    return app.extensions["navbat"]


STAFF_PASSWORD = "a-long-staff-password"


def sign_in_staff(client, role: str, dentist: str | None = None) -> dict:
    """Create a staff user with role, sign client in as them; return CSRF headers."""
    from server import auth
    from server.models import StaffUser

    username = f"{role}.{dentist}" if dentist else f"{role}.user"
    if not StaffUser.select().where(StaffUser.username == username).exists():
        auth.create_user(username, STAFF_PASSWORD, role, f"Test {role}", dentist)
    answer = client.post(
        "/api/v1/staff/login?lang=en",
        json={"username": username, "password": STAFF_PASSWORD},
    )
    assert answer.status_code == 200, answer.get_json()
    return {"X-CSRF-Token": answer.get_json()["csrf"]}


@pytest.fixture(scope="session")
def chromium():
    """Debian's Chromium, started once for every browser test."""
    from playwright.sync_api import sync_playwright

    from tests.browser import chromium_path, launch

    if chromium_path() is None:
        pytest.skip("Debian's Chromium is not installed (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = launch(playwright)
        yield browser
        browser.close()


# -- a real hub process ---------------------------------------------------------


@dataclass
class HubProcess:
    """A hub started with `python -m server run`, as `make run` starts it."""

    config_path: Path
    port: int
    async_mode: str
    process: subprocess.Popen | None = None
    log_path: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> HubProcess:
        self.log_path = self.config_path.parent / f"hub-{self.port}.log"
        log = self.log_path.open("ab")
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "server",
                "--config",
                str(self.config_path),
                "run",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        log.close()
        try:
            self.wait_ready()
        except BaseException:
            self.stop()  # a hub that never came up must not outlive the test
            raise
        return self

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"hub exited early:\n{self.log()}")
            try:
                if requests.get(self.url + "/health", timeout=1).ok:
                    return
            except requests.ConnectionError:
                time.sleep(0.1)
        raise RuntimeError(f"hub did not answer within {timeout} s:\n{self.log()}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path else ""

    def credentials(self) -> dict[str, str]:
        """Read the first-run PINs and password the hub printed once."""
        pattern = re.compile(r"^\s+(?:staff user|dentist)\s+(\S+)\s.*:\s+(\S+)$")
        return dict(
            match.groups()
            for line in self.log().splitlines()
            if (match := pattern.match(line))
        )


def start_hub(folder: Path, async_mode: str, **sections) -> HubProcess:
    port = free_port()
    sections.setdefault("clinic", {})
    sections["clinic"] = {
        "public_url": f"http://127.0.0.1:{port}",
        **sections["clinic"],
    }
    sections["server"] = {
        "async_mode": async_mode,
        "host": "127.0.0.1",
        "port": port,
        **sections.get("server", {}),
    }
    path = write_config(folder, **sections)
    return HubProcess(path, port, async_mode).start()


@pytest.fixture(params=["eventlet", "threading"])
def live_hub(request, tmp_path) -> Iterator[HubProcess]:
    """A real hub process, once per async mode."""
    hub = start_hub(tmp_path, request.param)
    yield hub
    hub.stop()
