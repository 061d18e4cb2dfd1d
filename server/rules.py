"""Pure queue rules: who goes first, and how long each patient will wait.

Nothing here touches the database. The engine feeds these functions plain
values, so call next, the people-ahead count and the wait estimate all follow
the same order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

# Lower ranks are called first.
PRIORITIES = ("emergency", "appointment", "priority", "normal")
RANK = {name: rank for rank, name in enumerate(PRIORITIES)}


@dataclass(frozen=True)
class Waiting:
    """A waiting ticket as the rules see it."""

    id: int
    service: str
    priority: str
    issued_at: datetime
    reserved_for: str | None = None  # a dentist, after a transfer to them


@dataclass(frozen=True)
class Fairness:
    """The anti-starvation guard: limits on how long priorities may overtake."""

    max_wait: timedelta
    max_priority_streak: int


def order_key(ticket: Waiting) -> tuple:
    """Sort by priority class, then by original issue time."""
    return (RANK[ticket.priority], ticket.issued_at, ticket.id)


def candidates_for(
    waiting: Sequence[Waiting], dentist: str, services: Sequence[str]
) -> list[Waiting]:
    """List the tickets a dentist may be given, in call order."""
    return sorted(
        (
            t
            for t in waiting
            if t.service in services and t.reserved_for in (None, dentist)
        ),
        key=order_key,
    )


def pick(
    candidates: Sequence[Waiting], now: datetime, fairness: Fairness, streak: int
) -> Waiting | None:
    """Choose the next ticket among candidates already in call order.

    Emergencies always go first. Otherwise a normal walk-in who has waited
    longer than max_wait, or who has been overtaken by max_priority_streak
    priority calls in a row, goes before the appointment and priority classes.
    """
    if not candidates:
        return None
    oldest = next((t for t in candidates if t.priority == "normal"), None)
    return choose(candidates[0], oldest, now, fairness, streak)


def choose(
    best: Waiting,
    oldest_normal: Waiting | None,
    now: datetime,
    fairness: Fairness,
    streak: int,
) -> Waiting:
    """Apply the fairness rule to the first ticket in call order and the oldest
    normal walk-in among the same candidates."""
    if best.priority in ("emergency", "normal") or oldest_normal is None:
        return best
    overdue = now - oldest_normal.issued_at >= fairness.max_wait
    if overdue or streak >= fairness.max_priority_streak:
        return oldest_normal
    return best


def next_streak(streak: int, chosen: Waiting, candidates: Sequence[Waiting]) -> int:
    """Count priority calls made while a normal walk-in was waiting."""
    if chosen.priority == "normal":
        return 0
    if any(t.priority == "normal" for t in candidates):
        return streak + 1
    return streak


@dataclass
class Chair:
    """A working dentist in the wait simulation."""

    id: str
    services: tuple[str, ...]
    free_at: datetime
    streak: int = 0


def estimate_waits(
    waiting: Sequence[Waiting],
    chairs: Sequence[Chair],
    durations: dict[str, timedelta],
    now: datetime,
    fairness: Fairness,
) -> dict[int, timedelta | None]:
    """Estimate each waiting ticket's time until it is called.

    Replays call next: the chair that frees up first takes its next ticket by
    the same rules, and is busy for that service's typical duration. A ticket
    that no working chair can take gets None.
    """
    return forecast_waits(waiting, chairs, durations, now, fairness)[0]


def forecast_waits(
    waiting: Sequence[Waiting],
    chairs: Sequence[Chair],
    durations: dict[str, timedelta],
    now: datetime,
    fairness: Fairness,
) -> tuple[dict[int, timedelta | None], dict[str, timedelta | None]]:
    """Estimate each waiting ticket's wait, and a newcomer's per service.

    A normal walk-in issued now is last in call order everywhere, so a chair
    takes it only once nothing else it may take is left: its wait is when
    the first chair of its service runs out of work. That holds unless some
    chair of the service chose while no normal walk-in waited for it (the
    newcomer would then be the oldest one and fairness could move it up);
    such services are left out of the newcomers, for a replay of their own.
    """
    lines = _Lines(waiting)
    working = [Chair(c.id, c.services, max(c.free_at, now), c.streak) for c in chairs]
    estimates: dict[int, timedelta | None] = {t.id: None for t in waiting}
    idle_from: dict[str, datetime] = {}
    unsure: set[str] = set()
    while lines.left and working:
        chair = min(working, key=lambda c: c.free_at)
        best, oldest = lines.heads(chair)
        if best is None:
            working.remove(chair)  # nothing more this chair can take
            idle_from[chair.id] = chair.free_at
            continue
        if oldest is None:
            unsure.update(chair.services)
        chosen = choose(best, oldest, chair.free_at, fairness, chair.streak)
        estimates[chosen.id] = chair.free_at - now
        if chosen.priority == "normal":
            chair.streak = 0
        elif oldest is not None:
            chair.streak += 1
        chair.free_at += durations[chosen.service]
        lines.take(chosen)
    for chair in working:
        idle_from[chair.id] = chair.free_at
    return estimates, _newcomer_waits(idle_from, chairs, unsure, now)


def _newcomer_waits(idle_from, chairs, unsure, now) -> dict[str, timedelta | None]:
    """Give each service the time its first chair runs out of work, from now."""
    first_idle: dict[str, datetime | None] = {}
    for chair in chairs:
        for service in chair.services:
            known = first_idle.get(service)
            idle = idle_from[chair.id]
            first_idle[service] = idle if known is None else min(known, idle)
    return {
        service: idle - now
        for service, idle in first_idle.items()
        if service not in unsure
    }


class _Lines:
    """The waiting tickets per service, in call order, for the replay.

    Finding a chair's next ticket looks only at the heads of its services'
    lines, so a day of a few hundred tickets replays in milliseconds.
    """

    def __init__(self, waiting: Sequence[Waiting]):
        self.left = len(waiting)
        self.taken: set[int] = set()
        self.ordered: dict[str, list[Waiting]] = {}
        self.normals: dict[str, list[Waiting]] = {}
        for ticket in sorted(waiting, key=order_key):
            self.ordered.setdefault(ticket.service, []).append(ticket)
            if ticket.priority == "normal":
                self.normals.setdefault(ticket.service, []).append(ticket)
        self.skip: dict[tuple[str, str], int] = {}

    def heads(self, chair: Chair) -> tuple[Waiting | None, Waiting | None]:
        """Return the chair's first ticket in call order and its oldest normal."""
        best = oldest = None
        for service in chair.services:
            first = self._first("all", service, self.ordered, chair.id)
            if first is not None and (
                best is None or order_key(first) < order_key(best)
            ):
                best = first
            normal = self._first("normal", service, self.normals, chair.id)
            if normal is not None and (
                oldest is None or order_key(normal) < order_key(oldest)
            ):
                oldest = normal
        return best, oldest

    def _first(self, kind, service, lists, chair_id) -> Waiting | None:
        line = lists.get(service, [])
        start = self.skip.get((kind, service), 0)
        while start < len(line) and line[start].id in self.taken:
            start += 1  # taken tickets at the front are skipped for good
        self.skip[(kind, service)] = start
        for ticket in line[start:]:
            if ticket.id not in self.taken and ticket.reserved_for in (None, chair_id):
                return ticket
        return None

    def take(self, ticket: Waiting) -> None:
        self.taken.add(ticket.id)
        self.left -= 1


def wait_band(wait: timedelta | None) -> tuple[int, int] | None:
    """Round an estimate to a band a person can trust, in minutes ("10-20")."""
    if wait is None:
        return None
    minutes = wait.total_seconds() / 60
    if minutes < 5:
        return (0, 5)
    low = int(minutes * 0.8 // 5 * 5)
    high = max(low + 10, int(-(-minutes * 1.25 // 5) * 5))
    return (low, high)
