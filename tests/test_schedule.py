"""Slot computation: plans, breaks, exceptions, holidays, durations, rooms,
emergency blocks and the clinic's day, with the server's zone set elsewhere."""

from __future__ import annotations

import os
import time
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from server import schedule
from server.schedule import Block, Busy, PlanChange, Span, WeeklyPlan

TASHKENT = ZoneInfo("Asia/Tashkent")
FRIDAY = date(2026, 12, 4)
EARLY = datetime(2026, 12, 1, 8, 0, tzinfo=TASHKENT)  # days before, for "now"
FRIDAY_PLAN = WeeklyPlan("karimova", 4, "09:00", "12:00", "1", (("10:00", "10:30"),))


@pytest.fixture
def server_in_new_york():
    """Run a test with the server's own clock in another zone."""
    saved = os.environ.get("TZ")
    os.environ["TZ"] = "America/New_York"
    time.tzset()
    assert time.localtime().tm_gmtoff != 5 * 3600
    yield
    if saved is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = saved
    time.tzset()


def clocks(slots) -> list[str]:
    return [s.start.strftime("%H:%M") for s in slots]


def span(day: date, starts: str, ends: str) -> Span:
    return Span(schedule.at(day, starts, TASHKENT), schedule.at(day, ends, TASHKENT))


def slots_for(
    minutes: int,
    *,
    plans=(FRIDAY_PLAN,),
    changes=(),
    holidays=(),
    blocks=(),
    busy: Busy | None = None,
    day: date = FRIDAY,
    now: datetime = EARLY,
    not_before: datetime | None = None,
    urgent: bool = False,
    release: int = 0,
    step: int = 15,
    dentist: str = "karimova",
):
    plan = schedule.day_plan(dentist, day, TASHKENT, plans, changes, holidays, blocks)
    if plan is None:
        return None
    return schedule.free_slots(
        plan,
        minutes,
        step,
        busy or Busy(),
        not_before=not_before or now,
        now=now,
        urgent=urgent,
        release=timedelta(minutes=release),
    )


# (what, keyword arguments, expected start times or None for "no work")
CASES = [
    pytest.param(
        {"minutes": 30},
        ["09:00", "09:15", "09:30", "10:30", "10:45", "11:00", "11:15", "11:30"],
        id="plan-and-break",
    ),
    pytest.param(
        {"minutes": 60},
        ["09:00", "10:30", "10:45", "11:00"],
        id="long-visit-does-not-cross-the-break",
    ),
    pytest.param({"minutes": 90}, ["10:30"], id="ninety-minutes-after-the-break"),
    pytest.param({"minutes": 200}, [], id="longer-than-any-stretch"),
    pytest.param(
        {"minutes": 30, "step": 30},
        ["09:00", "09:30", "10:30", "11:00", "11:30"],
        id="step-of-30",
    ),
    pytest.param(
        {"minutes": 30, "day": FRIDAY + timedelta(days=1)}, None, id="no-plan"
    ),
    pytest.param({"minutes": 30, "holidays": [FRIDAY]}, None, id="holiday"),
    pytest.param(
        {"minutes": 30, "changes": [PlanChange("karimova", FRIDAY, FRIDAY, "off")]},
        None,
        id="day-off",
    ),
    pytest.param(
        {
            "minutes": 30,
            "changes": [
                PlanChange("karimova", FRIDAY - timedelta(days=3), FRIDAY, "off")
            ],
        },
        None,
        id="vacation-range",
    ),
    pytest.param(
        {
            "minutes": 30,
            "changes": [PlanChange("rahimov", FRIDAY, FRIDAY, "off")],
        },
        ["09:00", "09:15", "09:30", "10:30", "10:45", "11:00", "11:15", "11:30"],
        id="someone-elses-day-off",
    ),
    pytest.param(
        {
            "minutes": 30,
            "changes": [
                PlanChange("karimova", FRIDAY, FRIDAY, "hours", "10:00", "11:30")
            ],
        },
        ["10:30", "10:45", "11:00"],
        id="changed-hours-keep-the-break",
    ),
    pytest.param(
        {
            "minutes": 30,
            "plans": [],
            "changes": [
                PlanChange("karimova", FRIDAY, FRIDAY, "hours", "14:00", "15:00", "2")
            ],
        },
        ["14:00", "14:15", "14:30"],
        id="extra-day-in-a-room",
    ),
    pytest.param(
        {
            "minutes": 30,
            "busy": Busy(dentists={"karimova": [span(FRIDAY, "09:15", "09:45")]}),
        },
        ["10:30", "10:45", "11:00", "11:15", "11:30"],
        id="own-booking",
    ),
    pytest.param(
        {
            "minutes": 30,
            "busy": Busy(rooms={"1": [span(FRIDAY, "10:30", "11:30")]}),
        },
        ["09:00", "09:15", "09:30", "11:30"],
        id="room-taken-by-another-dentist",
    ),
    pytest.param(
        {"minutes": 30, "busy": Busy(rooms={"2": [span(FRIDAY, "09:00", "12:00")]})},
        ["09:00", "09:15", "09:30", "10:30", "10:45", "11:00", "11:15", "11:30"],
        id="another-room-is-no-conflict",
    ),
    pytest.param(
        {
            "minutes": 30,
            "not_before": datetime(2026, 12, 4, 10, 40, tzinfo=TASHKENT),
        },
        ["10:45", "11:00", "11:15", "11:30"],
        id="not-before-now-and-lead",
    ),
    pytest.param(
        {"minutes": 30, "blocks": [Block("karimova", "09:00", "09:30", weekday=4)]},
        ["09:30", "10:30", "10:45", "11:00", "11:15", "11:30"],
        id="emergency-block-kept-free",
    ),
    pytest.param(
        {
            "minutes": 30,
            "blocks": [Block("karimova", "09:00", "09:30", weekday=4)],
            "urgent": True,
        },
        ["09:00", "09:15", "09:30", "10:30", "10:45", "11:00", "11:15", "11:30"],
        id="urgent-case-books-the-block",
    ),
    pytest.param(
        {
            "minutes": 30,
            "blocks": [Block("karimova", "09:00", "09:30", day=FRIDAY)],
            "now": datetime(2026, 12, 4, 7, 0, tzinfo=TASHKENT),
            "release": 120,
        },
        ["09:00", "09:15", "09:30", "10:30", "10:45", "11:00", "11:15", "11:30"],
        id="block-opens-to-anyone-at-the-cut-off",
    ),
    pytest.param(
        {
            "minutes": 30,
            "blocks": [Block("karimova", "09:00", "09:30", day=FRIDAY)],
            "now": datetime(2026, 12, 4, 6, 59, tzinfo=TASHKENT),
            "release": 120,
        },
        ["09:30", "10:30", "10:45", "11:00", "11:15", "11:30"],
        id="block-closed-a-minute-before-the-cut-off",
    ),
    pytest.param(
        {
            "minutes": 30,
            "blocks": [Block("karimova", "09:00", "09:30", weekday=3)],
        },
        ["09:00", "09:15", "09:30", "10:30", "10:45", "11:00", "11:15", "11:30"],
        id="block-on-another-weekday",
    ),
]


@pytest.mark.parametrize(("kwargs", "expected"), CASES)
def test_free_slots(kwargs, expected):
    slots = slots_for(**kwargs)

    assert (None if slots is None else clocks(slots)) == expected


def test_slots_carry_dentist_room_and_end():
    slot = slots_for(40)[0]

    assert (slot.dentist, slot.room, slot.emergency) == ("karimova", "1", False)
    assert slot.end - slot.start == timedelta(minutes=40)
    assert slot.start.utcoffset() == timedelta(hours=5)


def test_urgent_slot_in_a_block_is_marked():
    blocks = [Block("karimova", "09:00", "09:30", weekday=4)]

    slots = slots_for(30, blocks=blocks, urgent=True)

    assert [s.emergency for s in slots[:3]] == [True, True, False]


def test_clinic_day_and_weekday_come_from_tashkent(server_in_new_york):
    """Late Friday evening in UTC is already Saturday morning in the clinic."""
    saturday_night = WeeklyPlan("karimova", 5, "00:00", "01:00", "1")
    saturday = date(2026, 12, 5)

    slots = slots_for(30, plans=[saturday_night], day=saturday, now=EARLY, step=30)

    assert clocks(slots) == ["00:00", "00:30"]
    first = slots[0].start.astimezone(ZoneInfo("UTC"))
    assert (first.day, first.hour) == (4, 19)  # Friday 19:00 UTC
    assert slots_for(30, plans=[saturday_night], day=FRIDAY) is None


def test_a_day_ends_at_midnight(server_in_new_york):
    late = WeeklyPlan("karimova", 4, "22:00", "24:00", "1")

    slots = slots_for(60, plans=[late], step=30)

    assert clocks(slots) == ["22:00", "22:30", "23:00"]
    assert slots[-1].end == datetime(2026, 12, 5, 0, 0, tzinfo=TASHKENT)


# -- checking plans -------------------------------------------------------------


ROOM_CASES = [
    pytest.param(
        [("karimova", 0, "09:00", "13:00", "1"), ("rahimov", 0, "13:00", "18:00", "1")],
        0,
        id="one-after-the-other",
    ),
    pytest.param(
        [("karimova", 0, "09:00", "13:00", "1"), ("rahimov", 0, "12:00", "18:00", "1")],
        1,
        id="overlap",
    ),
    pytest.param(
        [("karimova", 0, "09:00", "13:00", "1"), ("rahimov", 1, "09:00", "13:00", "1")],
        0,
        id="other-day",
    ),
    pytest.param(
        [("karimova", 0, "09:00", "13:00", "1"), ("rahimov", 0, "09:00", "13:00", "2")],
        0,
        id="other-room",
    ),
]


@pytest.mark.parametrize(("plans", "clashes"), ROOM_CASES)
def test_room_clashes(plans, clashes):
    weekly = [WeeklyPlan(*p) for p in plans]

    assert len(schedule.room_clashes(weekly)) == clashes


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ()),
        ("13:00-14:00", (("13:00", "14:00"),)),
        (" 16:00 - 16:15 , 13:00-14:00", (("13:00", "14:00"), ("16:00", "16:15"))),
    ],
)
def test_parse_breaks(text, expected):
    assert schedule.parse_breaks(text) == expected


@pytest.mark.parametrize("text", ["13:00", "14:00-13:00", "25:00-26:00", "1pm-2pm"])
def test_bad_breaks_are_refused(text):
    with pytest.raises(ValueError):
        schedule.parse_breaks(text)
