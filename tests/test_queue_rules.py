"""Issue #4's queue rules through the real engine, a SQLite file and a hand clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from server import config as config_module
from server import rules
from server.db import database
from server.engine import Queue
from server.errors import QueueError
from server.models import Dentist, Ticket, TicketEvent
from tests.conftest import base_raw_config, write_config
from tests.test_engine import Clock, events_of, open_queue

TASHKENT = ZoneInfo("Asia/Tashkent")


def local(text: str) -> datetime:
    """Return a Tashkent wall-clock time ("2026-12-07 08:00") as aware UTC."""
    return datetime.fromisoformat(text).replace(tzinfo=TASHKENT).astimezone(UTC)


@pytest.fixture
def clock() -> Clock:
    return Clock(local("2026-12-04 12:00"))  # a Friday noon


@pytest.fixture
def build(tmp_path, clock):
    """Make the queue from config.toml with some sections replaced."""

    def build(**sections) -> Queue:
        config = config_module.load(write_config(tmp_path, **sections))
        return open_queue(config, tmp_path, clock)

    yield build
    database.close()


@pytest.fixture
def queue(build) -> Queue:
    return build()


def issue(queue: Queue, service="checkup", priority="normal", *, staff=False):
    """Issue from the lobby kiosk, or as staff with staff=True."""
    return queue.issue(
        service,
        kiosk_id=None if staff else "lobby",
        lang="en",
        priority=priority,
        by_staff=staff,
    ).ticket


def call(queue: Queue, dentist: str) -> str:
    ticket, _ = queue.call_next(dentist)
    return ticket.label


def serve_all(queue: Queue, dentist: str) -> list[str]:
    """Call and finish until nobody is waiting for the dentist; list the labels."""
    labels = []
    while True:
        try:
            labels.append(call(queue, dentist))
        except QueueError as err:
            assert err.code == "nobody_waiting"
            return labels
        queue.finish(dentist)


def snapshot() -> tuple[list[dict], ...]:
    """Every ticket, event and dentist row: a refusal must change none of them."""
    with database.connection_context():
        return (
            list(Ticket.select().order_by(Ticket.id).dicts()),
            list(TicketEvent.select().order_by(TicketEvent.id).dicts()),
            list(Dentist.select().order_by(Dentist.id).dicts()),
        )


def refused(code: str, action, *args, **kwargs) -> QueueError:
    """Run an action that must be refused with code, and prove it changed nothing."""
    before = snapshot()
    with pytest.raises(QueueError) as caught:
        action(*args, **kwargs)
    assert caught.value.code == code, caught.value.params
    assert snapshot() == before
    return caught.value


def row(ticket_id: int) -> Ticket:
    with database.connection_context():
        return Ticket.get_by_id(ticket_id)


def streak(dentist: str) -> int:
    with database.connection_context():
        return Dentist.get_by_id(dentist).priority_streak


# -- priority classes ------------------------------------------------------------


def test_call_next_goes_by_class_then_issue_time(build, clock):
    queue = build(queue={"max_priority_streak": 99})
    for service, priority, staff in [
        ("checkup", "normal", False),
        ("checkup", "priority", False),
        ("checkup", "appointment", True),
        ("extraction", "emergency", False),  # C-001
        ("checkup", "priority", False),
        ("checkup", "normal", False),
    ]:
        clock.tick(60)
        issue(queue, service, priority, staff=staff)

    order = serve_all(queue, "yusupov")

    assert order == ["C-001", "A-003", "A-002", "A-004", "A-001", "A-005"]


def test_a_dentist_gets_only_their_services_whatever_the_class(queue, clock):
    issue(queue, "hygiene", "emergency", staff=True)
    clock.tick(60)
    issue(queue, "checkup")

    assert call(queue, "karimova") == "A-001"
    queue.finish("karimova")
    refused("nobody_waiting", queue.call_next, "karimova")
    assert call(queue, "nazarova") == "D-001"


def test_staff_may_change_a_waiting_tickets_class(queue, clock):
    first = issue(queue)
    clock.tick(60)
    second = issue(queue)

    changed, events = queue.set_priority(second.id, "emergency", actor="staff:1")

    assert changed.priority == "emergency"
    assert events_of(second.id)[-1] == (
        "prioritised",
        "waiting",
        "waiting",
        "staff:1",
    )
    assert [t.id for t in queue.waiting()] == [second.id, first.id]
    refused("unknown_priority", queue.set_priority, first.id, "vip", actor="staff:1")
    queue.call_next("karimova")
    refused("not_waiting", queue.set_priority, second.id, "normal", actor="staff:1")


# -- fairness ------------------------------------------------------------------


def test_a_walk_in_overdue_by_time_goes_before_priorities(build, clock):
    queue = build(queue={"max_wait_minutes": 45, "max_priority_streak": 99})
    start = clock()
    issue(queue)  # A-001, a walk-in
    for _ in range(3):
        clock.tick(60)
        issue(queue, priority="priority")

    clock.at = start + timedelta(minutes=45) - timedelta(seconds=1)
    assert call(queue, "karimova") == "A-002"
    queue.finish("karimova")

    clock.tick(1)  # the walk-in has now waited 45 minutes
    assert call(queue, "karimova") == "A-001"
    queue.finish("karimova")
    assert serve_all(queue, "karimova") == ["A-003", "A-004"]


def test_an_emergency_still_goes_before_an_overdue_walk_in(build, clock):
    queue = build(queue={"max_wait_minutes": 45, "max_priority_streak": 1})
    issue(queue)
    clock.tick(2 * 3600)
    issue(queue, "extraction", "emergency")
    clock.tick(60)
    issue(queue, "extraction", "emergency")

    assert serve_all(queue, "yusupov") == ["C-001", "C-002", "A-001"]


def test_a_walk_in_overtaken_streak_times_goes_next(build, clock):
    queue = build(queue={"max_wait_minutes": 600, "max_priority_streak": 2})
    issue(queue)
    for _ in range(4):
        clock.tick(60)
        issue(queue, priority="appointment", staff=True)

    order = serve_all(queue, "karimova")

    assert order == ["A-002", "A-003", "A-001", "A-004", "A-005"]
    assert streak("karimova") == 0  # nobody is waiting who could be overtaken


def test_the_streak_is_counted_per_dentist(build, clock):
    queue = build(queue={"max_wait_minutes": 600, "max_priority_streak": 2})
    issue(queue)
    for _ in range(4):
        clock.tick(60)
        issue(queue, priority="priority")

    assert [call(queue, "karimova"), streak("karimova")] == ["A-002", 1]
    queue.finish("karimova")
    assert [call(queue, "karimova"), streak("karimova")] == ["A-003", 2]
    queue.finish("karimova")
    # rahimov has overtaken nobody yet: he still gets the next priority.
    assert [call(queue, "rahimov"), streak("rahimov")] == ["A-004", 1]
    assert [call(queue, "karimova"), streak("karimova")] == ["A-001", 0]


def test_priority_calls_with_no_walk_in_waiting_build_no_streak(build, clock):
    queue = build(queue={"max_wait_minutes": 600, "max_priority_streak": 2})
    for _ in range(2):
        clock.tick(60)
        issue(queue, priority="priority")
    assert serve_all(queue, "karimova") == ["A-001", "A-002"]
    assert streak("karimova") == 0

    issue(queue)  # A-003, a walk-in
    for _ in range(3):
        clock.tick(60)
        issue(queue, priority="priority")  # A-004 .. A-006

    assert serve_all(queue, "karimova") == ["A-004", "A-005", "A-003", "A-006"]


# -- call a chosen ticket ---------------------------------------------------------


def test_dentist_calls_a_chosen_ticket(queue, clock):
    issue(queue)
    issue(queue)
    chosen = issue(queue, "treatment")
    clock.tick(60)

    called, events = queue.call_ticket("karimova", chosen.id)

    assert (called.label, called.state, called.room) == ("B-001", "called", "1")
    assert called.dentist == "karimova"
    assert [e.action for e in events] == ["called"]
    assert events_of(chosen.id)[-1] == (
        "called",
        "waiting",
        "called",
        "dentist:karimova",
    )
    assert [t.label for t in queue.waiting()] == ["A-001", "A-002"]


def waiting_ticket(queue, clock):
    return issue(queue).id


def called_by_rahimov(queue, clock):
    ticket_id = issue(queue).id
    queue.call_next("rahimov")
    return ticket_id


def done(queue, clock):
    ticket_id = called_by_rahimov(queue, clock)
    queue.finish("rahimov")
    return ticket_id


def cancelled(queue, clock):
    ticket_id = issue(queue).id
    queue.cancel(ticket_id, actor="staff:1")
    return ticket_id


def yesterdays(queue, clock):
    clock.tick(-24 * 3600)
    ticket_id = issue(queue).id
    clock.tick(24 * 3600)
    return ticket_id


def hygiene(queue, clock):
    return issue(queue, "hygiene").id


def reserved_for_rahimov(queue, clock):
    ticket_id = issue(queue).id
    queue.transfer(ticket_id, "checkup", dentist_id="rahimov", actor="staff:1")
    return ticket_id


def karimova_paused(queue, clock):
    queue.pause("karimova")
    return issue(queue).id


def karimova_busy(queue, clock):
    issue(queue)
    queue.call_next("karimova")
    return issue(queue).id


CALL_TICKET_REFUSALS = [
    (called_by_rahimov, "not_waiting"),
    (done, "not_waiting"),
    (cancelled, "not_waiting"),
    (yesterdays, "not_waiting"),
    (hygiene, "not_your_service"),
    (reserved_for_rahimov, "not_your_service"),
    (karimova_paused, "paused"),
    (karimova_busy, "finish_current_first"),
]


@pytest.mark.parametrize(("setup", "code"), CALL_TICKET_REFUSALS)
def test_call_ticket_refusals_change_nothing(queue, clock, setup, code):
    ticket_id = setup(queue, clock)

    refused(code, queue.call_ticket, "karimova", ticket_id)


def test_call_ticket_of_an_unknown_ticket(queue):
    issue(queue)

    for ticket_id in (999, 0, -1, 2**63):
        err = refused("unknown_ticket", queue.call_ticket, "karimova", ticket_id)
        assert err.status == 404


def test_the_reserved_dentist_may_call_their_ticket(queue):
    ticket_id = reserved_for_rahimov(queue, None)

    called, _ = queue.call_ticket("rahimov", ticket_id)

    assert (called.id, called.dentist, called.room) == (ticket_id, "rahimov", "2")


# -- transfer ------------------------------------------------------------------


def test_transfer_keeps_issue_time_number_and_place(queue, clock):
    moved = issue(queue)
    for _ in range(2):
        clock.tick(60)
        issue(queue, "hygiene")  # D-001, D-002
    clock.tick(60)

    ticket, events = queue.transfer(moved.id, "hygiene", actor="staff:1")

    assert (ticket.label, ticket.service, ticket.state) == (
        "A-001",
        "hygiene",
        "waiting",
    )
    assert ticket.issued_at == moved.issued_at
    assert [e.action for e in events] == ["transferred"]
    assert events_of(moved.id)[-1] == (
        "transferred",
        "waiting",
        "waiting",
        "staff:1",
    )
    assert queue.lines()["hygiene"]["waiting"] == ["A-001", "D-001", "D-002"]
    assert queue.lines()["checkup"]["waiting"] == []
    assert call(queue, "nazarova") == "A-001"


def test_transfer_of_a_called_patient_frees_the_dentist(queue, clock):
    issue(queue)
    clock.tick(60)
    called, _ = queue.call_next("karimova")
    queue.recall("karimova")

    ticket, _ = queue.transfer(called.id, "treatment", actor="dentist:karimova")

    assert (ticket.state, ticket.room, ticket.dentist) == ("waiting", None, None)
    assert (ticket.recalls, ticket.called_at) == (0, None)
    assert queue.current("karimova") is None
    assert events_of(called.id)[-1] == (
        "transferred",
        "called",
        "waiting",
        "dentist:karimova",
    )


def test_transfer_of_a_patient_in_the_chair(queue):
    issue(queue)
    queue.call_next("karimova")
    serving, _ = queue.start("karimova")

    ticket, _ = queue.transfer(serving.id, "extraction", actor="dentist:karimova")

    assert ticket.state == "waiting"
    assert row(ticket.id).started_at is None
    assert call(queue, "yusupov") == "A-001"


def test_transfer_to_a_dentist_reserves_the_ticket(queue, clock):
    moved = issue(queue)  # A-001, the oldest
    clock.tick(60)
    issue(queue, "treatment")  # B-001

    ticket, _ = queue.transfer(
        moved.id, "treatment", dentist_id="rahimov", actor="staff:1"
    )

    assert ticket.dentist == "rahimov"
    assert [t.label for t in queue.waiting(["treatment"], dentist="karimova")] == [
        "B-001"
    ]
    assert serve_all(queue, "karimova") == ["B-001"]
    assert call(queue, "rahimov") == "A-001"


@pytest.mark.parametrize(
    ("service", "dentist", "code", "status"),
    [
        ("hygiene", "karimova", "dentist_lacks_service", 409),
        ("massage", None, "unknown_service", 404),
        ("checkup", "dr-nobody", "unknown_dentist", 404),
    ],
)
def test_transfer_refusals_change_nothing(queue, service, dentist, code, status):
    ticket_id = issue(queue).id

    err = refused(
        code, queue.transfer, ticket_id, service, dentist_id=dentist, actor="staff:1"
    )

    assert err.status == status


CLOSED = [done, cancelled, yesterdays]


@pytest.mark.parametrize("setup", CLOSED)
def test_a_closed_ticket_cannot_be_transferred(queue, clock, setup):
    ticket_id = setup(queue, clock)

    refused("cannot_transfer", queue.transfer, ticket_id, "hygiene", actor="staff:1")


def test_numbers_stay_unique_after_a_transfer(queue, clock):
    moved = issue(queue)
    queue.transfer(moved.id, "treatment", actor="staff:1")

    labels = [issue(queue, "treatment").label for _ in range(3)]
    labels.append(issue(queue).label)
    queue.transfer(moved.id, "checkup", actor="staff:1")
    labels.append(issue(queue).label)

    assert labels == ["B-001", "B-002", "B-003", "A-002", "A-003"]
    with database.connection_context():
        rows = list(Ticket.select())
    keys = [(t.day, t.series, t.number) for t in rows]
    assert len(set(keys)) == len(keys) == 6
    assert len({t.label for t in rows}) == 6
    assert row(moved.id).series == "checkup"


# -- recall, no-show and reinstate ----------------------------------------------------


@pytest.mark.parametrize("limit", [1, 2, 5])
def test_recall_limit_comes_from_config(build, limit):
    queue = build(queue={"recall_limit": limit})
    issue(queue)
    queue.call_next("karimova")

    counts = [queue.recall("karimova")[0].recalls for _ in range(limit)]
    err = refused("recall_limit", queue.recall, "karimova")

    assert counts == list(range(1, limit + 1))
    assert err.params == {"ticket": "A-001", "limit": limit}
    assert queue.no_show("karimova")[0].state == "no_show"


def no_show(queue: Queue, clock: Clock, service: str = "checkup") -> int:
    issue(queue, service)
    clock.tick(60)
    called, _ = queue.call_next("karimova")
    clock.tick(60)
    queue.no_show("karimova")
    return called.id


def test_reinstate_within_grace_keeps_the_place(queue, clock):
    ticket_id = no_show(queue, clock)
    issue(queue)  # A-002, a later walk-in
    clock.tick(30 * 60)  # exactly the grace

    ticket, events = queue.reinstate(ticket_id, actor="staff:1")

    assert (ticket.state, ticket.dentist, ticket.room) == ("waiting", None, None)
    assert (ticket.recalls, ticket.called_at) == (0, None)
    assert row(ticket_id).finished_at is None
    assert events_of(ticket_id)[-1] == (
        "reinstated",
        "no_show",
        "waiting",
        "staff:1",
    )
    assert [e.action for e in events] == ["reinstated"]
    assert call(queue, "rahimov") == "A-001"


def test_reinstate_after_grace_is_refused(queue, clock):
    ticket_id = no_show(queue, clock)
    clock.tick(30 * 60 + 1)

    err = refused("grace_over", queue.reinstate, ticket_id, actor="staff:1")

    assert err.params == {"ticket": "A-001", "minutes": 30}


def test_reinstate_is_refused_on_the_next_clinic_day(build, clock):
    queue = build(queue={"no_show_grace_minutes": 120})
    clock.at = local("2026-12-04 23:50")
    ticket_id = no_show(queue, clock)
    clock.at = local("2026-12-05 00:10")

    refused("grace_over", queue.reinstate, ticket_id, actor="staff:1")


def test_the_grace_refusal_names_a_grace_of_more_than_a_day(build, clock):
    queue = build(queue={"no_show_grace_minutes": 1500})
    ticket_id = no_show(queue, clock)
    clock.tick(24 * 3600)  # within the grace, but another clinic day

    err = refused("grace_over", queue.reinstate, ticket_id, actor="staff:1")

    assert err.params["minutes"] == 1500


@pytest.mark.parametrize("setup", [waiting_ticket, called_by_rahimov, done, cancelled])
def test_only_a_no_show_can_be_reinstated(queue, clock, setup):
    ticket_id = setup(queue, clock)

    refused("cannot_reinstate", queue.reinstate, ticket_id, actor="staff:1")


# -- cancel ----------------------------------------------------------------------


def test_patient_cancels_with_their_token(queue):
    ticket = issue(queue)

    cancelled_view, events = queue.cancel_by_token(ticket.token)

    assert cancelled_view.state == "cancelled"
    assert events_of(ticket.id)[-1] == ("cancelled", "waiting", "cancelled", "patient")
    assert [e.action for e in events] == ["cancelled"]
    assert row(ticket.id).finished_at is not None
    refused("nobody_waiting", queue.call_next, "karimova")


def test_staff_cancel_a_called_ticket_and_free_the_dentist(queue):
    first = issue(queue)
    issue(queue)
    queue.call_next("karimova")

    queue.cancel(first.id, actor="staff:7")

    assert events_of(first.id)[-1] == ("cancelled", "called", "cancelled", "staff:7")
    assert queue.current("karimova") is None
    assert call(queue, "karimova") == "A-002"


def serving(queue, clock):
    ticket_id = issue(queue).id
    queue.call_next("karimova")
    queue.start("karimova")
    return ticket_id


def no_show_ticket(queue, clock):
    return no_show(queue, clock)


def expired(queue, clock):
    ticket_id = yesterdays(queue, clock)
    queue.roll_day()
    return ticket_id


@pytest.mark.parametrize("setup", [serving, done, no_show_ticket, cancelled, expired])
def test_cancel_refuses_a_patient_in_the_chair_or_a_closed_ticket(queue, clock, setup):
    ticket_id = setup(queue, clock)
    token = row(ticket_id).token

    refused("cannot_cancel", queue.cancel, ticket_id, actor="staff:1")
    refused("cannot_cancel", queue.cancel_by_token, token)


def test_cancel_with_an_unknown_token(queue):
    issue(queue)

    err = refused("unknown_ticket", queue.cancel_by_token, "no-such-token")

    assert err.status == 404


# -- pause and resume ------------------------------------------------------------


def paused(dentist: str) -> bool:
    with database.connection_context():
        return Dentist.get_by_id(dentist).paused


def test_pause_is_refused_while_a_patient_is_with_the_dentist(queue):
    issue(queue)
    queue.call_next("karimova")

    err = refused("finish_before_pause", queue.pause, "karimova")

    assert err.params == {"ticket": "A-001"}
    queue.start("karimova")
    refused("finish_before_pause", queue.pause, "karimova")
    assert not paused("karimova")


def test_a_paused_dentist_gets_nobody_until_resumed(queue):
    ticket_id = issue(queue).id

    events = queue.pause("karimova")

    assert [(e.action, e.room, e.ticket) for e in events] == [("paused", "1", None)]
    assert queue.paused_rooms() == ["1"]
    refused("paused", queue.call_next, "karimova")
    refused("paused", queue.call_ticket, "karimova", ticket_id)

    queue.resume("karimova")

    assert queue.paused_rooms() == []
    assert call(queue, "karimova") == "A-001"


def test_a_paused_dentist_is_no_chair_in_the_estimate(queue):
    issue(queue, "hygiene")  # only nazarova does hygiene
    ticket_id = issue(queue, "hygiene").id

    assert queue.estimate(ticket_id) == rules.wait_band(timedelta(minutes=45))
    queue.pause("nazarova")
    assert queue.estimate(ticket_id) is None
    assert queue.lines()["hygiene"]["waits"] == [None, None]
    queue.resume("nazarova")
    assert queue.estimate(ticket_id) == rules.wait_band(timedelta(minutes=45))


# -- the clinic day ------------------------------------------------------------------


def test_roll_day_expires_yesterdays_open_tickets(queue, clock):
    clock.at = local("2026-12-04 18:00")
    ids = [issue(queue).id for _ in range(4)]
    queue.call_next("karimova")
    queue.finish("karimova")  # A-001 done
    queue.call_next("rahimov")  # A-002 called
    queue.call_next("yusupov")
    queue.start("yusupov")  # A-003 serving
    left = dict(zip(["done", "called", "serving", "waiting"], ids, strict=True))

    clock.at = local("2026-12-05 00:00")
    events = queue.roll_day()

    assert sorted((e.ticket.label, e.from_state) for e in events) == [
        ("A-002", "called"),
        ("A-003", "serving"),
        ("A-004", "waiting"),
    ]
    assert {e.action for e in events} == {"expired"}
    assert {e.actor for e in events} == {"system"}
    for state in ("called", "serving", "waiting"):
        assert row(left[state]).state == "expired"
        assert events_of(left[state])[-1] == ("expired", state, "expired", "system")
        assert row(left[state]).finished_at is not None
    assert row(left["done"]).state == "done"
    assert queue.roll_day() == []

    assert queue.current("rahimov") is None
    assert issue(queue).label == "A-001"
    assert issue(queue, "treatment").label == "B-001"
    assert call(queue, "rahimov") == "A-001"


def test_before_the_roll_over_yesterdays_tickets_wait_for_nobody(queue, clock):
    clock.at = local("2026-12-04 23:59")
    issue(queue)
    clock.at = local("2026-12-05 00:01")

    refused("nobody_waiting", queue.call_next, "karimova")
    assert queue.waiting() == [] and queue.lines()["checkup"]["waiting"] == []


# -- opening hours --------------------------------------------------------------------


def hours(
    opens="08:00", closes="18:00", days=("mon", "tue", "wed", "thu", "fri", "sat")
):
    services = base_raw_config()["services"]
    return [dict(s, opens=opens, closes=closes, days=list(days)) for s in services]


@pytest.fixture
def clinic_hours(build):
    return build(services=hours(), queue={"stop_issuing_minutes_before_close": 15})


HOURS = [
    # (Tashkent time, reason, issue's refusal)
    ("2026-12-06 12:00", "closed_today", "service_closed_today"),  # Sunday
    ("2026-12-07 07:59", "not_open_yet", "service_not_open_yet"),
    ("2026-12-07 08:00", "", None),
    ("2026-12-07 17:44", "", None),
    ("2026-12-07 17:45", "closing", "service_closing"),
    ("2026-12-07 19:00", "closing", "service_closing"),
    ("2026-12-05 12:00", "", None),  # Saturday
]


@pytest.mark.parametrize(("when", "reason", "code"), HOURS)
def test_opening_hours(clinic_hours, clock, when, reason, code):
    queue = clinic_hours
    clock.at = local(when)

    states = {s.id: s for s in queue.service_states()}

    assert {s.reason for s in states.values()} == {reason}
    assert states["checkup"].open is (reason == "")
    assert (states["checkup"].opens, states["checkup"].closes) == ("08:00", "18:00")
    if code is None:
        assert issue(queue).state == "waiting"
        return
    err = refused(code, issue, queue)
    assert err.params == {"opens": "08:00", "closes": "18:00"}
    refused(code, issue, queue, "extraction", "emergency")


def test_a_full_line_stops_walk_ins_but_not_emergencies(clinic_hours, clock):
    queue = clinic_hours
    clock.at = local("2026-12-07 15:59")
    # Only yusupov does extraction (30 min): 5 patients end by 18:29.
    for _ in range(5):
        clock.tick(1)
        issue(queue, "extraction")
    clock.tick(1)

    states = {s.id: s for s in queue.service_states()}
    assert (states["extraction"].open, states["extraction"].reason) == (False, "full")
    assert states["extraction"].wait == rules.wait_band(timedelta(minutes=150))
    assert states["checkup"].reason == ""
    refused("service_full", issue, queue, "extraction")
    refused("service_full", issue, queue, "extraction", "priority")

    assert issue(queue, "extraction", "emergency").label == "C-006"


def test_the_line_is_not_full_while_the_last_patient_fits(clinic_hours, clock):
    queue = clinic_hours
    clock.at = local("2026-12-07 15:59")
    for _ in range(4):
        clock.tick(1)
        issue(queue, "extraction")
    clock.tick(1)

    # The fifth is called at about 17:59, before closing.
    assert issue(queue, "extraction").label == "C-005"


def test_a_newcomer_waits_behind_tickets_of_the_same_instant(queue):
    for _ in range(3):
        issue(queue, "hygiene")  # the clock does not move

    states = {s.id: s for s in queue.service_states()}

    assert states["hygiene"].wait == rules.wait_band(timedelta(minutes=3 * 45))


# -- the kiosk's classes -------------------------------------------------------------


KIOSK = [
    # (service, priority, [queue] changes, refusal)
    ("checkup", "normal", {}, None),
    ("checkup", "priority", {}, None),
    ("checkup", "priority", {"kiosk_priority": False}, "priority_not_at_kiosk"),
    ("checkup", "appointment", {}, "priority_not_at_kiosk"),
    ("extraction", "appointment", {}, "priority_not_at_kiosk"),
    ("checkup", "emergency", {}, "priority_not_at_kiosk"),
    ("extraction", "emergency", {}, None),
    ("extraction", "emergency", {"emergency_service": ""}, "priority_not_at_kiosk"),
    ("hygiene", "emergency", {"emergency_service": "hygiene"}, None),
    ("checkup", "vip", {}, "unknown_priority"),
]


@pytest.mark.parametrize(("service", "priority", "settings", "code"), KIOSK)
def test_what_the_kiosk_may_issue(build, service, priority, settings, code):
    queue = build(queue=settings)

    if code is None:
        assert issue(queue, service, priority).priority == priority
        return
    err = refused(code, issue, queue, service, priority)
    assert err.status == {"priority_not_at_kiosk": 403, "unknown_priority": 400}[code]
    assert err.params == {"priority": priority}


@pytest.mark.parametrize("priority", rules.PRIORITIES)
def test_staff_may_issue_any_class(build, priority):
    queue = build(queue={"emergency_service": "", "kiosk_priority": False})

    ticket = issue(queue, "hygiene", priority, staff=True)

    assert ticket.priority == priority
    assert events_of(ticket.id) == [("issued", None, "waiting", "staff")]


# -- estimates ---------------------------------------------------------------------


def test_the_estimate_grows_with_the_place_in_line(queue, clock):
    ids = []
    for _ in range(4):
        clock.tick(1)
        ids.append(issue(queue, "hygiene").id)

    bands = [queue.estimate(i) for i in ids]

    assert bands == [rules.wait_band(timedelta(minutes=45 * n)) for n in range(4)]
    assert queue.lines()["hygiene"]["waits"] == bands


def test_the_estimate_shrinks_with_more_dentists(queue, clock):
    ids = []
    for _ in range(4):
        clock.tick(1)
        ids.append(issue(queue, "treatment").id)  # karimova and rahimov, 40 min
    queue.pause("rahimov")
    alone = [queue.estimate(i) for i in ids]

    queue.resume("rahimov")
    together = [queue.estimate(i) for i in ids]

    assert alone == [rules.wait_band(timedelta(minutes=m)) for m in (0, 40, 80, 120)]
    assert together == [rules.wait_band(timedelta(minutes=m)) for m in (0, 0, 40, 40)]


def test_a_patient_in_the_chair_delays_the_next(queue, clock):
    issue(queue, "hygiene")
    second = issue(queue, "hygiene").id
    queue.call_next("nazarova")
    queue.start("nazarova")

    clock.tick(30 * 60)

    assert queue.estimate(second) == rules.wait_band(timedelta(minutes=15))
    clock.tick(30 * 60)  # the visit overran: the next is due now
    assert queue.estimate(second) == rules.wait_band(timedelta(0))


def test_the_estimate_learns_from_real_visits(queue, clock):
    for minutes in (10, 30, 12):
        issue(queue, "hygiene")
        queue.call_next("nazarova")
        queue.start("nazarova")
        clock.tick(minutes * 60)
        queue.finish("nazarova")
    issue(queue, "hygiene")
    second = issue(queue, "hygiene").id

    # The median real visit (12 min, 3 visits) is blended with the configured
    # length, which counts as 3 visits of its own.
    configured = queue.config.service("hygiene").minutes
    typical = timedelta(minutes=(3 * 12 + 3 * configured) / 6)
    assert queue.durations()["hygiene"] == typical
    assert queue.estimate(second) == rules.wait_band(typical)


def test_a_ticket_nobody_serves_has_no_estimate(build):
    config = base_raw_config()
    dentists = [d for d in config["dentists"] if d["id"] != "nazarova"]
    queue = build(dentists=dentists)

    ticket_id = issue(queue, "hygiene").id

    assert queue.estimate(ticket_id) is None
    state = {s.id: s for s in queue.service_states()}["hygiene"]
    assert (state.open, state.wait) == (True, None)


# -- the audit log -------------------------------------------------------------------


def test_every_change_writes_one_audit_row(queue, clock):
    ticket_id = issue(queue).id
    steps = [
        lambda: queue.set_priority(ticket_id, "priority", actor="staff:1"),
        lambda: queue.transfer(ticket_id, "treatment", actor="staff:1"),
        lambda: queue.call_next("karimova"),
        lambda: queue.recall("karimova"),
        lambda: queue.no_show("karimova"),
        lambda: queue.reinstate(ticket_id, actor="staff:1"),
        lambda: queue.call_ticket("rahimov", ticket_id),
        lambda: queue.start("rahimov"),
        lambda: queue.finish("rahimov"),
    ]
    for step in steps:
        clock.tick(60)
        step()

    log = events_of(ticket_id)

    assert [(action, actor) for action, _, _, actor in log] == [
        ("issued", "kiosk:lobby"),
        ("prioritised", "staff:1"),
        ("transferred", "staff:1"),
        ("called", "dentist:karimova"),
        ("recalled", "dentist:karimova"),
        ("no_show", "dentist:karimova"),
        ("reinstated", "staff:1"),
        ("called", "dentist:rahimov"),
        ("started", "dentist:rahimov"),
        ("done", "dentist:rahimov"),
    ]
    for (_, _, to_state, _), (_, from_state, _, _) in pairwise(log):
        assert from_state == to_state
    assert log[-1][2] == row(ticket_id).state
