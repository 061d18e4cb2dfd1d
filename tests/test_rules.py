"""The pure queue rules: call order, fairness and the wait estimate."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.rules import (
    Chair,
    Fairness,
    Waiting,
    candidates_for,
    estimate_waits,
    forecast_waits,
    next_streak,
    order_key,
    pick,
    wait_band,
)

T0 = datetime(2026, 12, 4, 7, 0)
FAIR = Fairness(max_wait=timedelta(minutes=45), max_priority_streak=3)
DURATIONS = {
    "checkup": timedelta(minutes=20),
    "treatment": timedelta(minutes=40),
    "hygiene": timedelta(minutes=45),
}


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def ticket(id: int, priority: str = "normal", minute: float = 0, **kwargs) -> Waiting:
    kwargs.setdefault("service", "checkup")
    return Waiting(id, priority=priority, issued_at=at(minute), **kwargs)


def ids(tickets) -> list[int]:
    return [t.id for t in tickets]


def in_order(*tickets: Waiting) -> list[Waiting]:
    return sorted(tickets, key=order_key)


# -- order_key -----------------------------------------------------------------


def test_order_is_class_then_issue_time_then_id():
    tickets = [
        ticket(1, "normal", 0),
        ticket(2, "priority", 5),
        ticket(3, "appointment", 9),
        ticket(4, "emergency", 12),
        ticket(5, "priority", 1),
        ticket(6, "normal", 0),  # same instant as 1: the lower id first
    ]

    assert ids(in_order(*tickets)) == [4, 3, 5, 2, 1, 6]


def test_order_key_rejects_an_unknown_class():
    with pytest.raises(KeyError):
        order_key(ticket(1, "vip"))


# -- candidates_for --------------------------------------------------------------


def test_candidates_are_the_dentists_services_in_call_order():
    waiting = [
        ticket(1, "normal", 0, service="checkup"),
        ticket(2, "normal", 1, service="hygiene"),
        ticket(3, "priority", 2, service="treatment"),
        ticket(4, "normal", 3, service="extraction"),
    ]

    chosen = candidates_for(waiting, "karimova", ("checkup", "treatment"))

    assert ids(chosen) == [3, 1]


def test_a_reserved_ticket_goes_only_to_its_dentist():
    waiting = [
        ticket(1, minute=0, reserved_for="rahimov"),
        ticket(2, minute=1),
        ticket(3, minute=2, reserved_for="karimova"),
    ]

    assert ids(candidates_for(waiting, "karimova", ("checkup",))) == [2, 3]
    assert ids(candidates_for(waiting, "rahimov", ("checkup",))) == [1, 2]
    assert ids(candidates_for(waiting, "yusupov", ("checkup",))) == [2]


def test_a_reservation_does_not_widen_the_dentists_services():
    waiting = [ticket(1, service="hygiene", reserved_for="karimova")]

    assert candidates_for(waiting, "karimova", ("checkup",)) == []


# -- pick ------------------------------------------------------------------------


def choose(*tickets: Waiting, now: float = 10, streak: int = 0, fairness=FAIR):
    chosen = pick(in_order(*tickets), at(now), fairness, streak)
    return chosen.id if chosen else None


def test_nobody_to_pick():
    assert pick([], at(0), FAIR, 0) is None


PICKS = [
    # (what waits, minutes now, streak, the id picked)
    ([ticket(1, "normal", 0), ticket(2, "emergency", 5)], 10, 0, 2),
    ([ticket(1, "normal", 0), ticket(2, "priority", 5)], 10, 0, 2),
    ([ticket(1, "normal", 0), ticket(2, "appointment", 5)], 10, 0, 2),
    ([ticket(1, "priority", 0), ticket(2, "appointment", 5)], 10, 0, 2),
    ([ticket(1, "normal", 0), ticket(2, "normal", 1)], 10, 0, 1),
    ([ticket(1, "priority", 0), ticket(2, "priority", 1)], 10, 0, 1),
    # The oldest walk-in has waited max_wait: it goes before the classes ...
    ([ticket(1, "normal", 0), ticket(2, "appointment", 5)], 45, 0, 1),
    ([ticket(1, "normal", 0), ticket(2, "priority", 5)], 60, 0, 1),
    # ... but one second short of it, it does not.
    ([ticket(1, "normal", 0), ticket(2, "priority", 5)], 45 - 1 / 60, 0, 2),
    # ... and never before an emergency.
    ([ticket(1, "normal", 0), ticket(2, "emergency", 50)], 120, 0, 2),
    ([ticket(1, "normal", 0), ticket(2, "emergency", 50)], 120, 3, 2),
    # The streak cap: after 3 priority calls in a row the walk-in goes first.
    ([ticket(1, "normal", 0), ticket(2, "priority", 5)], 10, 2, 2),
    ([ticket(1, "normal", 0), ticket(2, "priority", 5)], 10, 3, 1),
    ([ticket(1, "normal", 0), ticket(2, "appointment", 5)], 10, 4, 1),
    # With no walk-in waiting, neither guard changes anything.
    ([ticket(1, "priority", 0), ticket(2, "appointment", 5)], 500, 9, 2),
    # The guard picks the oldest walk-in, not any overdue one.
    (
        [ticket(1, "normal", 3), ticket(2, "normal", 0), ticket(3, "priority", 5)],
        50,
        0,
        2,
    ),
    (
        [ticket(1, "normal", 3), ticket(2, "normal", 0), ticket(3, "priority", 5)],
        10,
        3,
        2,
    ),
]


@pytest.mark.parametrize(("waiting", "now", "streak", "expected"), PICKS)
def test_pick(waiting, now, streak, expected):
    assert choose(*waiting, now=now, streak=streak) == expected


def test_pick_follows_the_configured_limits():
    waiting = [ticket(1, "normal", 0), ticket(2, "priority", 5)]
    strict = Fairness(max_wait=timedelta(minutes=5), max_priority_streak=1)

    assert choose(*waiting, now=4, streak=0, fairness=strict) == 2
    assert choose(*waiting, now=5, streak=0, fairness=strict) == 1
    assert choose(*waiting, now=4, streak=1, fairness=strict) == 1


def test_pick_only_reads_the_candidates_it_is_given():
    """A walk-in reserved for someone else is not this dentist's to rescue."""
    waiting = [
        ticket(1, "normal", 0, reserved_for="rahimov"),
        ticket(2, "priority", 5),
    ]
    candidates = candidates_for(waiting, "karimova", ("checkup",))

    assert pick(candidates, at(120), FAIR, 5).id == 2


# -- next_streak ---------------------------------------------------------------


STREAKS = [
    # (streak before, class chosen, a walk-in among the candidates, streak after)
    (0, "normal", True, 0),
    (2, "normal", True, 0),
    (0, "priority", True, 1),
    (2, "appointment", True, 3),
    # Emergencies overtake walk-ins too, and count (README: "Fairness").
    (1, "emergency", True, 2),
    # Nobody was overtaken: the count stays.
    (0, "priority", False, 0),
    (2, "appointment", False, 2),
]


@pytest.mark.parametrize(("before", "chosen", "walk_in", "after"), STREAKS)
def test_next_streak(before, chosen, walk_in, after):
    picked = ticket(1, chosen, 5)
    candidates = [picked, ticket(2, "normal", 0)] if walk_in else [picked]

    assert next_streak(before, picked, candidates) == after


# -- estimate_waits ------------------------------------------------------------


def chair(id: str, *services: str, free_in: float = 0, streak: int = 0) -> Chair:
    return Chair(id, services or ("checkup",), at(free_in), streak)


def estimate(waiting, chairs, now: float = 0) -> dict[int, float | None]:
    waits = estimate_waits(waiting, chairs, DURATIONS, at(now), FAIR)
    return {
        key: None if wait is None else wait.total_seconds() / 60
        for key, wait in waits.items()
    }


def test_one_chair_takes_the_line_in_turn():
    waiting = [ticket(i, minute=i) for i in (1, 2, 3)]

    assert estimate(waiting, [chair("a")], now=5) == {1: 0, 2: 20, 3: 40}


def test_two_chairs_share_the_line():
    waiting = [ticket(i, minute=i) for i in (1, 2, 3, 4, 5)]

    waits = estimate(waiting, [chair("a"), chair("b")], now=5)

    assert waits == {1: 0, 2: 0, 3: 20, 4: 20, 5: 40}


def test_a_busy_chair_starts_when_it_is_free():
    waiting = [ticket(1, minute=0), ticket(2, minute=1)]

    assert estimate(waiting, [chair("a", free_in=15)]) == {1: 15, 2: 35}


def test_a_chair_free_in_the_past_starts_now():
    waiting = [ticket(1, minute=0), ticket(2, minute=1)]

    assert estimate(waiting, [chair("a", free_in=-30)], now=10) == {1: 0, 2: 20}


def test_the_estimate_follows_call_order():
    waiting = [
        ticket(1, "normal", 0),
        ticket(2, "priority", 2),
        ticket(3, "emergency", 4),
    ]

    assert estimate(waiting, [chair("a")], now=5) == {3: 0, 2: 20, 1: 40}


def test_the_estimate_applies_the_streak_cap():
    waiting = [
        ticket(1, "normal", 0),
        ticket(2, "priority", 1),
        ticket(3, "priority", 2),
    ]

    waits = estimate(waiting, [chair("a", streak=2)], now=5)

    # One more priority call reaches the cap of 3; then the walk-in goes.
    assert waits == {2: 0, 1: 20, 3: 40}


def test_the_estimate_applies_the_wait_limit_in_simulated_time():
    waiting = [ticket(1, "normal", 0)] + [
        ticket(i, "priority", 1) for i in (2, 3, 4, 5)
    ]
    fair = Fairness(max_wait=timedelta(minutes=30), max_priority_streak=99)

    waits = estimate_waits(waiting, [chair("a")], DURATIONS, at(0), fair)

    # At 0 and 20 min the walk-in is not yet overdue; at 40 min it is.
    assert waits[1] == timedelta(minutes=40)
    assert sorted(waits[i] for i in (2, 3, 4, 5)) == [
        timedelta(minutes=m) for m in (0, 20, 60, 80)
    ]


def test_chairs_take_only_their_services():
    waiting = [
        ticket(1, minute=0, service="treatment"),
        ticket(2, minute=1, service="checkup"),
        ticket(3, minute=2, service="treatment"),
        ticket(4, minute=3, service="checkup"),
    ]
    chairs = [chair("a", "checkup"), chair("b", "checkup", "treatment")]

    # b: treatment 1 (0-40), then treatment 3 (40-80); a: checkups 2 and 4.
    assert estimate(waiting, chairs, now=5) == {1: 0, 2: 0, 3: 40, 4: 20}


def test_a_reserved_ticket_waits_for_its_dentist():
    waiting = [
        ticket(1, minute=0, reserved_for="b"),
        ticket(2, minute=1),
    ]
    chairs = [chair("a"), chair("b", free_in=30)]

    assert estimate(waiting, chairs) == {1: 30, 2: 0}


def test_a_ticket_nobody_can_serve_has_no_estimate():
    waiting = [
        ticket(1, minute=0, service="hygiene"),
        ticket(2, minute=1),
        ticket(3, minute=2, reserved_for="someone-on-a-break"),
    ]

    assert estimate(waiting, [chair("a")], now=5) == {1: None, 2: 0, 3: None}


def test_no_working_chair_means_no_estimates():
    waiting = [ticket(1), ticket(2)]

    assert estimate(waiting, []) == {1: None, 2: None}


def test_the_simulation_leaves_the_callers_chairs_alone():
    chairs = [chair("a", free_in=5, streak=1)]

    estimate([ticket(1, "priority"), ticket(2)], chairs)

    assert chairs == [chair("a", free_in=5, streak=1)]


def replay(waiting, chairs, durations, now, fairness) -> dict:
    """The wait replay spelled out step by step: the reference for the fast one."""
    left = list(waiting)
    free = {c.id: max(c.free_at, now) for c in chairs}
    streaks = {c.id: c.streak for c in chairs}
    working = list(chairs)
    estimates = {t.id: None for t in waiting}
    while left and working:
        chair = min(working, key=lambda c: free[c.id])
        candidates = candidates_for(left, chair.id, chair.services)
        chosen = pick(candidates, free[chair.id], fairness, streaks[chair.id])
        if chosen is None:
            working.remove(chair)
            continue
        estimates[chosen.id] = free[chair.id] - now
        streaks[chair.id] = next_streak(streaks[chair.id], chosen, candidates)
        free[chair.id] += durations[chosen.service]
        left.remove(chosen)
    return estimates


SERVICES = tuple(DURATIONS)
CHAIRS = ("a", "b", "c")

waiting_lines = st.lists(
    st.tuples(
        st.sampled_from(SERVICES),
        st.sampled_from(("emergency", "appointment", "priority", "normal")),
        st.integers(0, 60),  # issued, minutes after T0: equal times are common
        st.sampled_from((None, None, None, *CHAIRS, "on-leave")),
    ),
    min_size=2,
    max_size=14,
).map(
    lambda rows: [
        Waiting(i, service, priority, at(minute), reserved)
        for i, (service, priority, minute, reserved) in enumerate(rows, start=1)
    ]
)
chair_sets = st.lists(
    st.tuples(
        st.lists(st.sampled_from(SERVICES), min_size=1, max_size=3, unique=True),
        st.integers(-10, 60),
        st.integers(0, 3),
    ),
    min_size=1,
    max_size=3,
).map(
    lambda rows: [
        chair(id, *services, free_in=free_in, streak=streak)
        for id, (services, free_in, streak) in zip(CHAIRS, rows, strict=False)
    ]
)


@settings(max_examples=300)
@given(
    waiting=waiting_lines,
    chairs=chair_sets,
    max_wait=st.integers(5, 240),
    cap=st.integers(1, 4),
)
def test_the_fast_replay_matches_the_step_by_step_one(waiting, chairs, max_wait, cap):
    fairness = Fairness(timedelta(minutes=max_wait), cap)

    fast = estimate_waits(waiting, chairs, DURATIONS, at(60), fairness)

    assert fast == replay(waiting, chairs, DURATIONS, at(60), fairness)


@settings(max_examples=300)
@given(
    waiting=waiting_lines,
    chairs=chair_sets,
    max_wait=st.integers(5, 240),
    cap=st.integers(1, 4),
)
def test_a_newcomers_wait_matches_a_replay_with_it(waiting, chairs, max_wait, cap):
    fairness = Fairness(timedelta(minutes=max_wait), cap)

    _, newcomers = forecast_waits(waiting, chairs, DURATIONS, at(60), fairness)

    for service, wait in newcomers.items():
        newcomer = Waiting(10**6, service, "normal", at(60))
        with_it = replay([*waiting, newcomer], chairs, DURATIONS, at(60), fairness)
        assert wait == with_it[newcomer.id]


def test_a_newcomer_is_known_for_every_served_service_when_all_are_walk_ins():
    waiting = [ticket(1), ticket(2, service="treatment"), ticket(3, minute=1)]
    chairs = [chair("a", "checkup", "treatment"), chair("b", "hygiene", free_in=10)]

    _, newcomers = forecast_waits(waiting, chairs, DURATIONS, at(5), FAIR)

    assert {s: w.total_seconds() / 60 for s, w in newcomers.items()} == {
        "checkup": 80,
        "treatment": 80,
        "hygiene": 5,
    }


# -- wait_band ----------------------------------------------------------------


BANDS = [
    (None, None),
    (0, (0, 5)),
    (4.99, (0, 5)),
    (5, (0, 10)),
    (10, (5, 15)),
    (20, (15, 25)),
    (30, (20, 40)),
    (45, (35, 60)),
    (60, (45, 75)),
    (100, (80, 125)),
]


@pytest.mark.parametrize(("minutes", "band"), BANDS)
def test_wait_band(minutes, band):
    wait = None if minutes is None else timedelta(minutes=minutes)

    assert wait_band(wait) == band


@given(st.floats(min_value=5, max_value=24 * 60))
def test_a_band_holds_its_estimate(minutes):
    low, high = wait_band(timedelta(minutes=minutes))

    assert low <= minutes <= high
    assert high - low >= 10
    assert low % 5 == 0 and high % 5 == 0
