"""Start the hub as `make run` does, on 127.0.0.1, and read its CPU and memory.

The bench's config is the repo's config.toml with the clinic grown to the
bench's size: a room and a tablet per dentist, and a kiosk with its own
network printer (a fake one in the bench process) per kiosk.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from server.config import WEEKDAYS

# The tests' config writer serves the bench too: one TOML writer, one free port.
from tests.conftest import ROOT, toml_text
from tests.conftest import base_raw_config as _base

HOST = "127.0.0.1"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def dentist_ids(count: int) -> list[str]:
    return [f"dentist-{n:02d}" for n in range(1, count + 1)]


def kiosk_ids(count: int) -> list[str]:
    return [f"kiosk-{n:02d}" for n in range(1, count + 1)]


def service_ids() -> list[str]:
    return [s["id"] for s in _base()["services"]]


def write_config(
    folder: Path,
    *,
    port: int,
    async_mode: str,
    dentists: int,
    kiosks: int,
    printer_port: int | None,
) -> Path:
    """Write the bench's config.toml into folder and return its path."""
    raw = _base()
    services = [s["id"] for s in raw["services"]]
    raw["clinic"]["public_url"] = f"http://{HOST}:{port}"
    raw["server"] = {
        "host": HOST,
        "port": port,
        "async_mode": async_mode,
        "database": str(folder / "navbat.sqlite3"),
    }
    # Ten kiosks share 127.0.0.1 here: the per-address ticket limit is off.
    raw.setdefault("queue", {})["tickets_per_minute_per_address"] = 0
    # Open round the clock, whatever the hour the bench runs at.
    for service in raw["services"]:
        if "opens" in service:
            service.update(opens="00:00", closes="24:00", days=list(WEEKDAYS))
    raw["rooms"] = [
        {"id": str(n), "name": {lang: f"Room {n}" for lang in ("uz", "ru", "en")}}
        for n in range(1, dentists + 1)
    ]
    # Each service gets the same share of dentists, so calls keep pace with
    # tickets issued round-robin over the services.
    raw["dentists"] = [
        {
            "id": dentist_id,
            "name": f"Bench dentist {n}",
            "room": str(n),
            "services": [services[(n - 1) % len(services)]],
        }
        for n, dentist_id in enumerate(dentist_ids(dentists), start=1)
    ]
    kiosk_list = kiosk_ids(kiosks)
    if printer_port:
        raw["kiosks"] = [
            {"id": k, "name": k, "printer": f"{k}-printer"} for k in kiosk_list
        ]
        raw["printers"] = [
            {
                "id": f"{k}-printer",
                "type": "network",
                "host": HOST,
                "port": printer_port,
            }
            for k in kiosk_list
        ]
    else:
        raw["kiosks"] = [{"id": k, "name": k} for k in kiosk_list]
        raw["printers"] = [
            {"id": "unused", "type": "file", "path": str(folder / "print")}
        ]
    path = folder / "config.toml"
    path.write_text(toml_text(raw), encoding="utf-8")
    return path


@dataclass
class ProcessSample:
    """CPU seconds so far and peak resident memory of one process."""

    cpu_s: float
    peak_rss_mb: float
    rss_mb: float


def sample_process(pid: int) -> ProcessSample:
    """Read a process's CPU time (/proc/pid/stat) and VmHWM, VmRSS (status)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    cpu = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    status = Path(f"/proc/{pid}/status").read_text()
    kib = {
        m.group(1): int(m.group(2))
        for m in re.finditer(r"^(VmHWM|VmRSS):\s+(\d+) kB", status, re.M)
    }
    return ProcessSample(cpu, kib["VmHWM"] / 1024, kib["VmRSS"] / 1024)


def machine_busy_s() -> float:
    """Return the CPU seconds the whole machine has been busy since boot."""
    ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = ticks[3] + ticks[4]  # idle, iowait
    return (sum(ticks[:8]) - idle) / CLOCK_TICKS


class Hub:
    """`python -m server --config X run` on 127.0.0.1, as `make run` starts it."""

    def __init__(self, folder: Path, config_path: Path, port: int, async_mode: str):
        self.folder = folder
        self.async_mode = async_mode
        self.config_path = config_path
        self.port = port
        self.log_path = folder / "hub.log"
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def start(self, timeout: float = 60.0) -> Hub:
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "server",
                    "--config",
                    str(self.config_path),
                    "run",
                    "--host",
                    HOST,
                    "--port",
                    str(self.port),
                ],
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the hub exited at start:\n{self.log()[-3000:]}")
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=1) as answer:
                    if answer.status == 200:
                        return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the hub did not answer within {timeout:g} s")

    def sample(self) -> ProcessSample:
        return sample_process(self.pid)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def credentials(self) -> dict[str, str]:
        """Read the first-run PINs the hub printed once at start."""
        pattern = re.compile(r"^\s+(?:staff user|dentist)\s+(\S+)\s.*:\s+(\S+)$")
        return dict(
            match.groups()
            for line in self.log().splitlines()
            if (match := pattern.match(line))
        )
