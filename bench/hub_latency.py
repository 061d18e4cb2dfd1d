"""Measure call -> TV/phone latency and the rest of the hub's hot path.

For each async mode: start the hub as `make run` does on 127.0.0.1 with a
fresh SQLite file; connect displays, kiosks, phone pages and dentists'
tablets from a second process; let kiosks issue at a steady rate while the
dentists call, start and finish; then find the highest issue rate the hub
keeps up with; then do the steady part again on a copy of a database holding
a million past tickets. Prints a table and writes var/bench/latest.json.

    python bench/hub_latency.py --help
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import report  # noqa: E402
from bench.history import cached_history  # noqa: E402
from bench.hubproc import ROOT  # noqa: E402
from bench.phases import run_hub  # noqa: E402

logger = logging.getLogger("bench")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/hub_latency.py",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    add = parser.add_argument
    add("--modes", default="eventlet,threading", help="async modes, first is default")
    add("--displays", type=int, default=100, help="waiting-room TVs")
    add("--phones", type=int, default=200, help="phone pages, one per waiting ticket")
    add("--dentists", type=int, default=20, help="dentists, each with a tablet")
    add("--kiosks", type=int, default=10, help="kiosks, each with a printer")
    add("--issue-rate", type=float, default=20.0, help="tickets a second, steady")
    add("--call-rate", type=float, help="calls a second (default: the issue rate)")
    add(
        "--quiet-calls",
        type=int,
        default=5,
        help="tickets issued, then called, one at a time first",
    )
    add("--seconds", type=float, default=8.0, help="steady part, measured")
    add("--warmup", type=float, default=1.0, help="steady part, before measuring")
    add("--history-tickets", type=int, default=1_000_000, help="0 skips it")
    add("--history-per-day", type=int, default=500, help="past tickets per day")
    add(
        "--history-seconds",
        type=float,
        help="steady part with the history, measured (default: --seconds, so "
        "both p99s come from as many calls)",
    )
    add(
        "--sweep-rates",
        default="25,50,100,150,200,300,400,600,800",
        help="issue rates to try in turn until p99 passes the limit; '' skips",
    )
    add("--sweep-step", type=float, default=1.5, help="seconds at each rate")
    add("--sweep-limit-ms", type=float, default=100.0, help="p99 a rate must keep")
    add(
        "--printers",
        choices=("network", "none"),
        default="network",
        help="kiosk printers: fake network printers on 127.0.0.1, or none",
    )
    add("--profile", action="store_true", help="sample the hub with py-spy")
    add("--out", type=Path, default=ROOT / "var" / "bench", help="results folder")
    args = parser.parse_args(argv)
    args.modes = [m for m in args.modes.split(",") if m]
    args.sweep_rates = [float(r) for r in args.sweep_rates.split(",") if r]
    args.call_rate = args.call_rate or args.issue_rate
    args.history_seconds = args.history_seconds or args.seconds
    return args


# -- the whole run ---------------------------------------------------------------------


async def run_mode(args, mode: str, history: Path | None) -> dict:
    """Measure one async mode on an empty database, then with the history."""
    result = await run_hub(args, mode, args.out / f"run-{mode}", None)
    if history:
        with_history = await run_hub(
            args, mode, args.out / f"run-{mode}-history", history
        )
        with_history["tickets"] = args.history_tickets
        result["history"] = with_history
    return result


def notes(result: dict) -> str:
    """Say what else ran on the machine during one hub's steady part, or what failed."""
    where = f"{result['mode']}, {result['database']} database"
    if "error" in result:
        return f"{where}: stopped early: {result['error']}"
    steady = result["steady"]
    return (
        f"{where}: while steady, the hub used {steady['hub_cpu_pct']}% of a core, "
        f"the bench's clients {steady['bench_cpu_pct']}% of a core, other programs "
        f"{steady['other_cpu_pct_of_machine']}% of the machine's "
        f"{os.cpu_count()} cores"
    )


def machine() -> dict:
    with open("/proc/loadavg") as loadavg:
        load = loadavg.read().split()[:3]
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average_at_start": [float(v) for v in load],
    }


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="bench: %(message)s")
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    run = {
        "command": " ".join(["python bench/hub_latency.py", *(argv or sys.argv[1:])]),
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "settings": {
            k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()
        },
    }

    history = None
    if args.history_tickets:
        history = cached_history(
            args.out,
            args.history_tickets,
            args.history_per_day,
            args.dentists,
            "Asia/Tashkent",
        )

    details = {}
    for mode in args.modes:
        details[mode] = asyncio.run(run_mode(args, mode, history))

    figures = {mode: report.headline(details[mode]) for mode in args.modes}
    default, *others = args.modes
    latest = dict(figures[default], async_mode=default)
    for mode in others:
        latest[mode] = figures[mode]
    run["duration_s"] = round(time.monotonic() - started, 1)
    latest.update(
        targets={mode: report.verdicts(figures[mode]) for mode in args.modes},
        run=run,
        details=details,
    )

    text = json.dumps(latest, indent=2)
    (args.out / "latest.json").write_text(text + "\n")
    stamp = run["started_at"].replace(":", "").replace("+0000", "Z")
    (args.out / f"hub-latency-{stamp}.json").write_text(text + "\n")

    print()
    print(
        f"Navbat hub, {args.displays} displays, {args.phones} phones, "
        f"{args.dentists} tablets, {args.kiosks} kiosks; {args.issue_rate:g} "
        f"tickets/s and {args.call_rate:g} calls/s for {args.seconds:g} s "
        f"({run['duration_s']:g} s in all)"
    )
    lowest = args.sweep_rates[0] if args.sweep_rates else None
    print(report.table(figures, lowest))
    for mode in args.modes:
        for result in (details[mode], details[mode].get("history")):
            if result:
                print(notes(result))
    missed = [
        f"{mode}: {key}"
        for mode, verdict in latest["targets"].items()
        for key, value in verdict.items()
        if value == "missed"
    ]
    print("targets missed: " + (", ".join(missed) if missed else "none"))
    print(f"written: {args.out / 'latest.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
