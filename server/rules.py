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
    best = candidates[0]
    if best.priority in ("emergency", "normal"):
        return best
    normals = [t for t in candidates if t.priority == "normal"]
    if not normals:
        return best
    oldest = normals[0]
    overdue = now - oldest.issued_at >= fairness.max_wait
    if overdue or streak >= fairness.max_priority_streak:
        return oldest
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
    left = list(waiting)
    chairs = [Chair(c.id, c.services, max(c.free_at, now), c.streak) for c in chairs]
    estimates: dict[int, timedelta | None] = {t.id: None for t in waiting}
    while left and chairs:
        chair = min(chairs, key=lambda c: c.free_at)
        candidates = candidates_for(left, chair.id, chair.services)
        chosen = pick(candidates, chair.free_at, fairness, chair.streak)
        if chosen is None:
            chairs.remove(chair)  # nothing more this chair can take
            continue
        estimates[chosen.id] = chair.free_at - now
        chair.streak = next_streak(chair.streak, chosen, candidates)
        chair.free_at += durations[chosen.service]
        left.remove(chosen)
    return estimates


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
