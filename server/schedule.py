"""Pure schedule rules: who works when and where, and which slots are free.

Nothing here touches the database or Flask. Times of day ("09:00") are read
in the clinic's zone, whatever the server's own zone is; every instant the
functions return is an aware datetime in that zone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

_CLOCK = re.compile(r"(?:[01][0-9]|2[0-3]):[0-5][0-9]|24:00")
KINDS = ("off", "hours")


@dataclass(frozen=True)
class Span:
    """A half-open stretch of time [start, end)."""

    start: datetime
    end: datetime

    def overlaps(self, other: Span) -> bool:
        return self.start < other.end and other.start < self.end

    def contains(self, other: Span) -> bool:
        return self.start <= other.start and other.end <= self.end


@dataclass(frozen=True)
class WeeklyPlan:
    """A dentist's hours on one weekday (0 = Monday), in one room."""

    dentist: str
    weekday: int
    starts: str
    ends: str
    room: str
    breaks: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class PlanChange:
    """Days off or changed hours for a dentist from first to last day."""

    dentist: str
    first: date
    last: date
    kind: str  # "off" or "hours"
    starts: str = ""
    ends: str = ""
    room: str = ""  # "" keeps the weekly plan's room

    def covers(self, day: date) -> bool:
        return self.first <= day <= self.last


@dataclass(frozen=True)
class Block:
    """Emergency capacity: on every such weekday, or on one date."""

    dentist: str
    starts: str
    ends: str
    weekday: int | None = None
    day: date | None = None

    def applies(self, day: date) -> bool:
        return self.day == day if self.day else self.weekday == day.weekday()


@dataclass(frozen=True)
class DayPlan:
    """One dentist's working day as it stands after exceptions."""

    dentist: str
    day: date
    room: str
    hours: Span
    breaks: tuple[Span, ...] = ()
    emergency: tuple[Span, ...] = ()

    def working(self) -> list[Span]:
        """Return the working hours with the breaks cut out."""
        spans = [self.hours]
        for pause in sorted(self.breaks, key=lambda s: s.start):
            cut = []
            for span in spans:
                if not span.overlaps(pause):
                    cut.append(span)
                    continue
                if span.start < pause.start:
                    cut.append(Span(span.start, pause.start))
                if pause.end < span.end:
                    cut.append(Span(pause.end, span.end))
            spans = cut
        return spans


@dataclass(frozen=True)
class Slot:
    """A free start time for one visit with one dentist in one room."""

    dentist: str
    room: str
    start: datetime
    end: datetime
    emergency: bool = False  # inside an emergency block


@dataclass(frozen=True)
class Busy:
    """What is already taken on a day: per dentist and per room."""

    dentists: dict[str, list[Span]] = field(default_factory=dict)
    rooms: dict[str, list[Span]] = field(default_factory=dict)


# -- reading times -------------------------------------------------------------


def is_clock(text: str) -> bool:
    """Tell whether text is a 24-hour time of day such as 09:00 (or 24:00)."""
    return isinstance(text, str) and bool(_CLOCK.fullmatch(text))


def minutes_of(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def at(day: date, clock: str, zone: ZoneInfo) -> datetime:
    """Return the instant of a clock time on a clinic day, in the clinic's zone."""
    midnight = datetime.combine(day, time(0), tzinfo=zone)
    return midnight + timedelta(minutes=minutes_of(clock))


def parse_breaks(text: str) -> tuple[tuple[str, str], ...]:
    """Read "13:00-14:00, 16:00-16:15" into pairs; raise ValueError if bad."""
    pairs = []
    for part in (p.strip() for p in (text or "").split(",")):
        if not part:
            continue
        starts, _, ends = part.partition("-")
        starts, ends = starts.strip(), ends.strip()
        if not (is_clock(starts) and is_clock(ends)) or starts >= ends:
            raise ValueError(part)
        pairs.append((starts, ends))
    return tuple(sorted(pairs))


def format_breaks(pairs: Iterable[tuple[str, str]]) -> str:
    return ",".join(f"{s}-{e}" for s, e in pairs)


# -- the plan of a day -----------------------------------------------------------


def day_plan(
    dentist: str,
    day: date,
    zone: ZoneInfo,
    plans: Sequence[WeeklyPlan],
    changes: Sequence[PlanChange] = (),
    holidays: Iterable[date] = (),
    blocks: Sequence[Block] = (),
) -> DayPlan | None:
    """Resolve a dentist's working day: weekly plan, then exceptions and holidays.

    A holiday or a day off wins over everything. Changed hours replace the
    weekly hours (and may move the dentist to another room); the weekly
    breaks that fall inside the changed hours still apply.
    """
    if day in set(holidays):
        return None
    weekly = next(
        (p for p in plans if p.dentist == dentist and p.weekday == day.weekday()),
        None,
    )
    mine = [c for c in changes if c.dentist == dentist and c.covers(day)]
    if any(c.kind == "off" for c in mine):
        return None
    changed = next((c for c in mine if c.kind == "hours"), None)
    if changed is None and weekly is None:
        return None

    if changed is not None:
        starts, ends = changed.starts, changed.ends
        room = changed.room or (weekly.room if weekly else "")
    else:
        starts, ends, room = weekly.starts, weekly.ends, weekly.room
    if not room:
        return None
    hours = Span(at(day, starts, zone), at(day, ends, zone))
    breaks = tuple(
        Span(at(day, s, zone), at(day, e, zone))
        for s, e in (weekly.breaks if weekly else ())
    )
    emergency = tuple(
        Span(at(day, b.starts, zone), at(day, b.ends, zone))
        for b in blocks
        if b.dentist == dentist and b.applies(day)
    )
    return DayPlan(dentist, day, room, hours, breaks, emergency)


# -- free slots -------------------------------------------------------------------


def free_slots(
    plan: DayPlan,
    minutes: int,
    step: int,
    busy: Busy,
    *,
    not_before: datetime,
    now: datetime,
    urgent: bool = False,
    release: timedelta = timedelta(0),
) -> list[Slot]:
    """List the start times where a visit of `minutes` fits the dentist's day.

    A slot lies inside working hours (not across a break), starts no earlier
    than not_before, and overlaps nothing booked for the same dentist or the
    same room. A slot touching an emergency block is offered only to an urgent
    case, until `release` before the block starts; from then on to anyone.
    """
    length = timedelta(minutes=minutes)
    working = plan.working()
    taken = busy.dentists.get(plan.dentist, []) + busy.rooms.get(plan.room, [])
    slots = []
    for start in _starts(plan, working, step):
        span = Span(start, start + length)
        if start < not_before or not any(w.contains(span) for w in working):
            continue
        if any(span.overlaps(other) for other in taken):
            continue
        blocks = [b for b in plan.emergency if span.overlaps(b)]
        if blocks and not urgent and any(now < b.start - release for b in blocks):
            continue
        slots.append(Slot(plan.dentist, plan.room, span.start, span.end, bool(blocks)))
    return slots


def _starts(plan: DayPlan, working: list[Span], step: int) -> list[datetime]:
    """Start times on the step grid from the day's start, and each span's start."""
    grid = []
    moment, delta = plan.hours.start, timedelta(minutes=step)
    while moment < plan.hours.end:
        grid.append(moment)
        moment += delta
    return sorted(set(grid) | {span.start for span in working})


def fits(slots: Sequence[Slot], start: datetime) -> Slot | None:
    """Return the free slot that starts exactly at start, if there is one."""
    return next((s for s in slots if s.start == start), None)


# -- checking plans ------------------------------------------------------------


def room_clashes(plans: Sequence[WeeklyPlan]) -> list[tuple[WeeklyPlan, WeeklyPlan]]:
    """Find pairs of weekly plans that put two dentists in one room at once."""
    clashes = []
    for index, first in enumerate(plans):
        for second in plans[index + 1 :]:
            if (
                first.dentist != second.dentist
                and first.weekday == second.weekday
                and first.room == second.room
                and _clock_overlap(first.starts, first.ends, second.starts, second.ends)
            ):
                clashes.append((first, second))
    return clashes


def day_clashes(plans: Sequence[DayPlan]) -> list[tuple[DayPlan, DayPlan]]:
    """Find pairs of one day's resolved plans sharing a room at the same time."""
    clashes = []
    for index, first in enumerate(plans):
        for second in plans[index + 1 :]:
            if (
                first.dentist != second.dentist
                and first.room == second.room
                and first.hours.overlaps(second.hours)
            ):
                clashes.append((first, second))
    return clashes


def _clock_overlap(a_start: str, a_end: str, b_start: str, b_end: str) -> bool:
    return a_start < b_end and b_start < a_end
