"""Replay a simulated clinic day and score the wait estimate against reality.

Patients arrive at random, with random priorities; dentists call, treat and
finish them through the real queue engine on a fresh SQLite file, with a
simulated clock. Each ticket's estimate when it was issued is compared with
the wait it actually had. Prints a table and writes var/bench/estimate.json.

Run: .venv/bin/python bench/estimate_replay.py [--seed 7] [--days 3]
"""

from __future__ import annotations

import argparse
import heapq
import json
import random
import statistics
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from server import config as config_module  # noqa: E402
from server.db import open_sqlite  # noqa: E402
from server.engine import Queue, sync_dentists  # noqa: E402
from server.errors import QueueError  # noqa: E402
from server.models import create_tables  # noqa: E402
from server.rules import wait_band  # noqa: E402

OUT = ROOT / "var" / "bench"
# Arrivals per hour (about 90 % of the demo clinic's capacity) and the share
# of each priority: a busy walk-in day.
ARRIVALS = {"checkup": 3.5, "treatment": 1.8, "extraction": 1.0, "hygiene": 1.0}
PRIORITY_SHARE = {"emergency": 0.04, "priority": 0.10}
NO_SHOW_SHARE = 0.05
DAY_START, DAY_END = 9, 17  # clinic hours for arrivals, local time


@dataclass(order=True)
class Happening:
    at: datetime
    order: int
    kind: str = field(compare=False)
    data: dict = field(compare=False, default_factory=dict)


@dataclass
class Record:
    label: str
    priority: str
    estimate: float | None  # minutes, when issued
    band: tuple[int, int] | None
    actual: float | None = None


class Day:
    """One simulated clinic day driving the real engine."""

    def __init__(self, queue: Queue, clock: dict, rng: random.Random):
        self.queue, self.clock, self.rng = queue, clock, rng
        self.happenings: list[Happening] = []
        self.counter = 0
        self.records: dict[int, Record] = {}
        self.busy: set[str] = set()

    def at(self, when: datetime, kind: str, **data) -> None:
        self.counter += 1
        heapq.heappush(self.happenings, Happening(when, self.counter, kind, data))

    def plan_arrivals(self, start: datetime, end: datetime) -> None:
        for service, per_hour in ARRIVALS.items():
            when = start
            while True:
                when += timedelta(hours=self.rng.expovariate(per_hour))
                if when >= end:
                    break
                self.at(when, "arrive", service=service)

    def run(self) -> None:
        while self.happenings:
            happening = heapq.heappop(self.happenings)
            self.clock["now"] = happening.at
            getattr(self, happening.kind)(**happening.data)
            self.offer_free_dentists()

    def arrive(self, service: str) -> None:
        roll = self.rng.random()
        priority = "normal"
        if roll < PRIORITY_SHARE["emergency"]:
            priority, service = "emergency", "extraction"
        elif roll < PRIORITY_SHARE["emergency"] + PRIORITY_SHARE["priority"]:
            priority = "priority"
        issued = self.queue.issue(
            service, kiosk_id="lobby", lang="en", priority=priority, by_staff=True
        )
        ticket = issued.ticket
        wait = self.queue.estimated_wait(ticket.id)
        self.records[ticket.id] = Record(
            ticket.label,
            priority,
            None if wait is None else wait.total_seconds() / 60,
            wait_band(wait),
        )

    def offer_free_dentists(self) -> None:
        for dentist in self.queue.config.dentists:
            if dentist.id in self.busy:
                continue
            try:
                ticket, _ = self.queue.call_next(dentist.id)
            except QueueError:
                continue
            record = self.records[ticket.id]
            issued = datetime.fromisoformat(ticket.issued_at)
            record.actual = (self.clock["now"] - issued).total_seconds() / 60
            self.busy.add(dentist.id)
            if self.rng.random() < NO_SHOW_SHARE:
                self.at(self.later(2), "no_show", dentist=dentist.id)
            else:
                self.at(
                    self.later(1), "start", dentist=dentist.id, service=ticket.service
                )

    def later(self, minutes: float) -> datetime:
        return self.clock["now"] + timedelta(minutes=minutes)

    def start(self, dentist: str, service: str) -> None:
        self.queue.start(dentist)
        typical = self.queue.config.service(service).minutes
        minutes = self.rng.lognormvariate(0, 0.35) * typical
        self.at(self.later(minutes), "finish", dentist=dentist)

    def finish(self, dentist: str) -> None:
        self.queue.finish(dentist)
        self.busy.discard(dentist)

    def no_show(self, dentist: str) -> None:
        self.queue.no_show(dentist)
        self.busy.discard(dentist)


def simulate(days: int, seed: int) -> list[Record]:
    folder = Path(tempfile.mkdtemp(prefix="navbat-estimate-"))
    config = config_module.load(
        overrides={"server": {"database": str(folder / "replay.sqlite3")}}
    )
    open_sqlite(config.database_path)
    create_tables()
    sync_dentists(config)
    clock = {"now": datetime(2026, 3, 2, 4, 0, tzinfo=UTC)}  # 09:00 in Tashkent
    queue = Queue(config, clock=lambda: clock["now"])
    rng = random.Random(seed)
    records: list[Record] = []
    for day in range(days):
        start = datetime(2026, 3, 2, 4, 0, tzinfo=UTC) + timedelta(days=day)
        clock["now"] = start
        simulated = Day(queue, clock, rng)
        simulated.plan_arrivals(start, start + timedelta(hours=DAY_END - DAY_START))
        simulated.run()
        records.extend(simulated.records.values())
    return records


def score(records: list[Record]) -> dict:
    scored = [r for r in records if r.actual is not None and r.estimate is not None]
    errors = [abs(r.estimate - r.actual) for r in scored]
    in_band = [r for r in scored if r.band and r.band[0] <= r.actual <= r.band[1]]
    normal = [abs(r.estimate - r.actual) for r in scored if r.priority == "normal"]
    return {
        "tickets": len(records),
        "scored": len(scored),
        "mean_actual_wait_min": round(statistics.mean(r.actual for r in scored), 1),
        "estimate_mae_min": round(statistics.mean(errors), 1),
        "estimate_median_error_min": round(statistics.median(errors), 1),
        "normal_walk_in_mae_min": round(statistics.mean(normal), 1),
        "within_band_pct": round(100 * len(in_band) / len(scored), 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=3, help="clinic days to replay")
    parser.add_argument("--seed", type=int, default=7, help="random seed")
    args = parser.parse_args()

    figures = score(simulate(args.days, args.seed))
    figures.update(days=args.days, seed=args.seed)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "estimate.json").write_text(json.dumps(figures, indent=2) + "\n")

    print("\nWait estimate against a replayed clinic day")
    for key, value in figures.items():
        print(f"  {key:28} {value}")
    print(f"written to {OUT / 'estimate.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
