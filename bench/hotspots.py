"""Sample the running hub with py-spy and say where its time goes."""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

_LINE = re.compile(r"^(.*) (\d+)$")
_FRAME = re.compile(r"^(.*) \((.*?)(?::\d+)?\)$")


def py_spy() -> str:
    """Return the py-spy command, or explain how to get it."""
    found = shutil.which("py-spy", path=str(Path(sys.executable).parent))
    if not found:
        raise SystemExit(
            "--profile needs py-spy: make setup installs it from requirements-dev.txt"
        )
    return found


def record(pid: int, seconds: float, output: Path, *, threads: bool, rate: int = 100):
    """Start sampling pid for seconds into output (py-spy's raw stack format).

    A hub in threading mode runs a thread per client; pausing hundreds of
    threads a hundred times a second would slow it far more than the load
    does, so there only the thread holding the GIL is read, without pausing
    (SQLite's own time, spent without the GIL, then goes unseen).
    """
    light = ["--gil", "--nonblocking"] if threads else []
    return subprocess.Popen(
        [
            py_spy(),
            "record",
            *light,
            "--pid",
            str(pid),
            "--duration",
            str(max(1, round(seconds))),
            "--rate",
            str(rate),
            "--format",
            "raw",
            "--output",
            str(output),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def finish(profiler: subprocess.Popen, raw: Path, timeout: float = 5.0) -> dict:
    """Let py-spy write its samples (interrupting it as ^C does); summarize them."""
    try:
        profiler.wait(timeout)
    except subprocess.TimeoutExpired:
        profiler.send_signal(signal.SIGINT)
        profiler.wait()
    if not raw.exists():
        return {"error": f"py-spy wrote nothing (exit status {profiler.returncode})"}
    return summarize(raw)


def summarize(raw: Path, top: int = 20) -> dict:
    """Rank functions by own time and by time spent in or under them."""
    own, inside, ours = Counter(), Counter(), Counter()
    samples = 0
    for line in raw.read_text(errors="replace").splitlines():
        match = _LINE.match(line)
        if not match:
            continue
        count = int(match.group(2))
        frames = [_name(f) for f in match.group(1).split(";")]
        samples += count
        own[frames[-1]] += count
        for name in set(frames):
            inside[name] += count
            if _is_ours(name):
                ours[name] += count

    def ranked(counter: Counter) -> list[list]:
        return [
            [name, round(100 * n / samples, 1)] for name, n in counter.most_common(top)
        ]

    return {
        "samples": samples,
        "own_pct": ranked(own),
        "inclusive_pct": ranked(inside),
        "navbat_inclusive_pct": ranked(ours),
    }


def _name(frame: str) -> str:
    """Turn 'func (path/file.py:12)' into 'func (path/file.py)'."""
    match = _FRAME.match(frame.strip())
    if not match:
        return frame.strip()
    function, path = match.groups()
    for marker in ("site-packages/", "lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{function} ({path})"


def _is_ours(name: str) -> bool:
    return any(
        f"({folder}/" in name or f"/{folder}/" in name
        for folder in ("server", "printers")
    )
