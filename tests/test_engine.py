"""The queue engine on a real SQLite file, without Flask."""

from __future__ import annotations

import os
import random
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from server import config as config_module
from server.db import database, open_sqlite
from server.engine import Queue, sync_dentists
from server.errors import QueueError
from server.models import Ticket, TicketEvent, create_tables
from tests.conftest import base_raw_config, write_config

# Noon in Tashkent (UTC+5): far from the clinic's midnight.
NOON = datetime(2026, 12, 4, 7, 0, tzinfo=UTC)


class Clock:
    """A clock the test moves by hand; returns aware UTC times."""

    def __init__(self, start: datetime = NOON):
        self.at = start
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self.at

    def tick(self, seconds: float = 1) -> None:
        with self._lock:
            self.at += timedelta(seconds=seconds)


class RunningClock:
    """A clock that starts at a fixed instant and runs with real time."""

    def __init__(self, start: datetime = NOON):
        self.start = start
        self.began = time.monotonic()

    def __call__(self) -> datetime:
        return self.start + timedelta(seconds=time.monotonic() - self.began)


def open_queue(config, folder, clock=None) -> Queue:
    open_sqlite(folder / "engine.sqlite3")
    create_tables()
    sync_dentists(config)
    return Queue(config, clock=clock or Clock())


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def queue(config, tmp_path, clock):
    yield open_queue(config, tmp_path, clock)
    database.close()


def issue(queue: Queue, service: str, **kwargs):
    kwargs.setdefault("kiosk_id", "lobby")
    kwargs.setdefault("lang", "uz")
    return queue.issue(service, **kwargs)


def dump() -> tuple[list[dict], list[dict]]:
    """Return every Ticket and TicketEvent row, to prove a refusal changed nothing."""
    with database.connection_context():
        tickets = list(Ticket.select().order_by(Ticket.id).dicts())
        events = list(TicketEvent.select().order_by(TicketEvent.id).dicts())
    return tickets, events


def events_of(ticket_id: int) -> list[tuple]:
    with database.connection_context():
        rows = TicketEvent.select().where(TicketEvent.ticket == ticket_id)
        return [
            (e.action, e.from_state, e.to_state, e.actor)
            for e in rows.order_by(TicketEvent.id)
        ]


# -- numbering -----------------------------------------------------------------


def test_numbers_count_per_service(queue):
    labels = [
        issue(queue, service).ticket.label
        for service in ("checkup", "checkup", "treatment", "checkup", "hygiene")
    ]

    assert labels == ["A-001", "A-002", "B-001", "A-003", "D-001"]


def test_ticket_records_kiosk_language_and_clinic_day(queue, clock):
    ticket = issue(queue, "treatment", lang="ru").ticket

    assert ticket.kiosk == "lobby"
    assert ticket.lang == "ru"
    assert ticket.state == "waiting"
    assert ticket.day == "2026-12-04"
    assert ticket.issued_at == clock().isoformat()


def test_unknown_language_falls_back_to_clinic_default(queue):
    ticket = issue(queue, "checkup", lang="de").ticket

    assert ticket.lang == "uz"


def at_utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# (UTC time, expected clinic day in Tashkent, expected label)
MIDNIGHT_RUN = [
    ("2026-12-04T00:30:00", "2026-12-04", "A-001"),  # 05:30 in Tashkent
    ("2026-12-04T18:59:59", "2026-12-04", "A-002"),  # 23:59:59
    ("2026-12-04T19:00:00", "2026-12-05", "A-001"),  # midnight: a new day
    ("2026-12-04T23:59:59", "2026-12-05", "A-002"),  # UTC midnight is not a reset
    ("2026-12-05T00:00:00", "2026-12-05", "A-003"),
    ("2026-12-05T18:59:59", "2026-12-05", "A-004"),
    ("2026-12-05T19:00:00", "2026-12-06", "A-001"),
]


def run_through_midnight(queue: Queue, clock: Clock) -> None:
    for utc_time, day, label in MIDNIGHT_RUN:
        clock.at = at_utc(utc_time)
        ticket = issue(queue, "checkup").ticket
        assert (ticket.day, ticket.label) == (day, label), utc_time


def test_numbers_restart_at_clinic_midnight(queue, clock):
    run_through_midnight(queue, clock)


def test_clinic_day_ignores_server_time_zone(queue, clock):
    saved = os.environ.get("TZ")
    os.environ["TZ"] = "America/New_York"
    time.tzset()
    try:
        assert time.localtime().tm_gmtoff != 5 * 3600
        run_through_midnight(queue, clock)
    finally:
        if saved is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = saved
        time.tzset()


def test_yesterdays_waiting_tickets_are_not_called(queue, clock):
    clock.at = at_utc("2026-12-04T18:00:00")
    issue(queue, "checkup")
    clock.at = at_utc("2026-12-04T19:30:00")

    with pytest.raises(QueueError) as caught:
        queue.call_next("karimova")

    assert caught.value.code == "nobody_waiting"
    assert queue.waiting() == []


# -- state changes -------------------------------------------------------------


def test_full_visit_and_its_history(queue, clock):
    issued = issue(queue, "checkup")
    ticket_id = issued.ticket.id

    clock.tick()
    called, events = queue.call_next("karimova")
    assert (called.id, called.state, called.room) == (ticket_id, "called", "1")
    assert called.dentist == "karimova"
    assert called.called_at == clock().isoformat()
    assert [e.action for e in events] == ["called"]
    assert queue.current("karimova") == called

    clock.tick()
    started, _ = queue.start("karimova")
    assert started.state == "serving"
    clock.tick()
    finished, _ = queue.finish("karimova")
    assert finished.state == "done"
    assert queue.current("karimova") is None

    assert events_of(ticket_id) == [
        ("issued", None, "waiting", "kiosk:lobby"),
        ("called", "waiting", "called", "dentist:karimova"),
        ("started", "called", "serving", "dentist:karimova"),
        ("done", "serving", "done", "dentist:karimova"),
    ]
    history = queue.history(ticket_id)
    assert [(h["action"], h["from_state"], h["to_state"]) for h in history] == [
        (a, f, t) for a, f, t, _ in events_of(ticket_id)
    ]
    assert history[-1]["at"] == clock().isoformat()


def test_called_ticket_can_be_done_without_start(queue):
    ticket_id = issue(queue, "checkup").ticket.id
    queue.call_next("rahimov")

    finished, _ = queue.finish("rahimov")

    assert finished.state == "done"
    assert events_of(ticket_id)[-1] == ("done", "called", "done", "dentist:rahimov")


def test_no_show(queue):
    ticket_id = issue(queue, "extraction").ticket.id
    queue.call_next("yusupov")

    closed, _ = queue.no_show("yusupov")

    assert closed.state == "no_show"
    assert events_of(ticket_id)[-1] == (
        "no_show",
        "called",
        "no_show",
        "dentist:yusupov",
    )
    assert queue.current("yusupov") is None


def test_recall_counts_up_to_the_limit(queue):
    ticket_id = issue(queue, "hygiene").ticket.id
    queue.call_next("nazarova")

    for expected in range(1, queue.config.queue.recall_limit + 1):
        recalled, events = queue.recall("nazarova")
        assert recalled.recalls == expected
        assert events[0].action == "recalled"
    before = dump()

    with pytest.raises(QueueError) as caught:
        queue.recall("nazarova")

    assert caught.value.code == "recall_limit"
    assert caught.value.params == {
        "ticket": "D-001",
        "limit": queue.config.queue.recall_limit,
    }
    assert dump() == before
    recalls = [e for e in events_of(ticket_id) if e[0] == "recalled"]
    assert recalls == [("recalled", "called", "called", "dentist:nazarova")] * 3


def test_recent_calls_show_calls_and_recalls(queue):
    issue(queue, "checkup")
    queue.call_next("karimova")
    queue.recall("karimova")

    recent = queue.recent_calls()

    assert [(r["label"], r["recall"], r["room"]) for r in recent] == [
        ("A-001", True, "1"),
        ("A-001", False, "1"),
    ]


# -- refusals ------------------------------------------------------------------


def setup_nothing(queue):
    pass


def setup_waiting(queue):
    issue(queue, "checkup")


def setup_called(queue):
    issue(queue, "checkup")
    issue(queue, "checkup")
    queue.call_next("karimova")


def setup_serving(queue):
    setup_called(queue)
    queue.start("karimova")


def setup_other_dentists_ticket(queue):
    issue(queue, "checkup")
    queue.call_next("rahimov")


def setup_other_services(queue):
    issue(queue, "extraction")
    issue(queue, "hygiene")


REFUSALS = [
    pytest.param(
        setup_nothing,
        lambda q: q.call_next("karimova"),
        "nobody_waiting",
        id="call-next-nobody",
    ),
    pytest.param(
        setup_called,
        lambda q: q.call_next("karimova"),
        "finish_current_first",
        id="call-next-while-called",
    ),
    pytest.param(
        setup_serving,
        lambda q: q.call_next("karimova"),
        "finish_current_first",
        id="call-next-while-serving",
    ),
    pytest.param(
        setup_other_services,
        lambda q: q.call_next("karimova"),
        "nobody_waiting",
        id="call-next-other-service",
    ),
    pytest.param(
        setup_waiting,
        lambda q: q.finish("karimova"),
        "no_current_ticket",
        id="done-none",
    ),
    pytest.param(
        setup_waiting,
        lambda q: q.start("karimova"),
        "no_current_ticket",
        id="start-none",
    ),
    pytest.param(
        setup_waiting,
        lambda q: q.recall("karimova"),
        "no_current_ticket",
        id="recall-none",
    ),
    pytest.param(
        setup_waiting,
        lambda q: q.no_show("karimova"),
        "no_current_ticket",
        id="no-show-none",
    ),
    pytest.param(
        setup_other_dentists_ticket,
        lambda q: q.finish("karimova"),
        "no_current_ticket",
        id="done-other-dentists-ticket",
    ),
    pytest.param(
        setup_serving,
        lambda q: q.no_show("karimova"),
        "cannot_no_show",
        id="no-show-while-serving",
    ),
    pytest.param(
        setup_serving,
        lambda q: q.start("karimova"),
        "cannot_started",
        id="start-while-serving",
    ),
    pytest.param(
        setup_serving,
        lambda q: q.recall("karimova"),
        "cannot_recalled",
        id="recall-while-serving",
    ),
    pytest.param(
        setup_waiting,
        lambda q: q.call_next("dr-nobody"),
        "unknown_dentist",
        id="unknown-dentist",
    ),
    pytest.param(
        setup_called,
        lambda q: q.finish("dr-nobody"),
        "unknown_dentist",
        id="unknown-dentist-done",
    ),
    pytest.param(
        setup_waiting,
        lambda q: issue(q, "braces"),
        "unknown_service",
        id="unknown-service",
    ),
    pytest.param(
        setup_waiting,
        lambda q: q.ticket_status("no-such-token"),
        "unknown_ticket",
        id="unknown-token",
    ),
]


@pytest.mark.parametrize(("setup", "action", "code"), REFUSALS)
def test_refusal_changes_nothing(queue, setup, action, code):
    setup(queue)
    before = dump()

    with pytest.raises(QueueError) as caught:
        action(queue)

    assert caught.value.code == code
    assert dump() == before


def test_refusal_names_the_ticket(queue):
    setup_serving(queue)

    with pytest.raises(QueueError) as caught:
        queue.no_show("karimova")

    assert caught.value.params == {"ticket": "A-001"}
    assert caught.value.status == 409


# -- order ---------------------------------------------------------------------


def test_dentist_gets_only_their_services(queue, clock):
    for service in ("extraction", "checkup", "hygiene", "extraction"):
        issue(queue, service)
        clock.tick()

    ticket, _ = queue.call_next("nazarova")
    assert ticket.service == "hygiene"
    queue.finish("nazarova")

    with pytest.raises(QueueError) as caught:
        queue.call_next("nazarova")
    assert caught.value.code == "nobody_waiting"
    assert {t.service for t in queue.waiting()} == {"extraction", "checkup"}


def test_oldest_ticket_first_across_services(queue, clock):
    # yusupov lists extraction before checkup; the order must still be by time.
    labels = []
    for service in ("checkup", "extraction", "treatment", "checkup", "extraction"):
        labels.append(issue(queue, service).ticket.label)
        clock.tick(30)

    called = []
    for _ in range(4):
        ticket, _ = queue.call_next("yusupov")
        called.append(ticket.label)
        queue.finish("yusupov")

    assert called == ["A-001", "C-001", "A-002", "C-002"]
    assert [t.label for t in queue.waiting()] == ["B-001"]


def test_same_second_keeps_issue_order(queue):
    labels = [issue(queue, s).ticket.label for s in ("extraction", "checkup") * 2]

    assert [t.label for t in queue.waiting(["checkup", "extraction"])] == labels


def test_ahead_counts_the_same_service_only(queue, clock):
    aheads = []
    for service in ("checkup", "treatment", "checkup", "checkup"):
        aheads.append(issue(queue, service).ahead)
        clock.tick()

    assert aheads == [0, 0, 1, 2]
    queue.call_next("karimova")
    third = queue.waiting(["checkup"])[-1]
    assert queue.ahead(third) == 1


# -- double tap ----------------------------------------------------------------


def test_same_request_key_gives_one_ticket(queue, clock):
    first = issue(queue, "treatment", request_key="tap-7f3a9c21")
    clock.tick()
    second = issue(queue, "treatment", request_key="tap-7f3a9c21")
    other = issue(queue, "treatment", request_key="tap-0000aaaa")

    assert (first.created, second.created, other.created) == (True, False, True)
    assert second.ticket == first.ticket
    assert second.events == []
    assert other.ticket.label == "B-002"
    tickets, events = dump()
    assert len(tickets) == 2
    assert [e["action"] for e in events] == ["issued", "issued"]


# -- many at once --------------------------------------------------------------


def many_dentists_config(folder, count: int):
    services = [s["id"] for s in base_raw_config()["services"]]
    rooms = [
        {
            "id": f"r{i}",
            "name": {"uz": f"{i}-xona", "ru": f"Каб {i}", "en": f"Room {i}"},
        }
        for i in range(count)
    ]
    dentists = [
        {
            "id": f"d{i}",
            "name": f"Dr. {i}",
            "room": f"r{i}",
            # Most take every service (contention); a few take one.
            "services": services if i % 5 else [services[i // 5 % len(services)]],
        }
        for i in range(count)
    ]
    path = write_config(folder, rooms=rooms, dentists=dentists)
    return config_module.load(path)


EXPECTED_REFUSALS = {"nobody_waiting"}


def test_twenty_dentists_at_once(tmp_path):
    threads_count, rounds = 20, 12
    config = many_dentists_config(tmp_path, threads_count)
    queue = open_queue(config, tmp_path, RunningClock())
    service_ids = [s.id for s in config.services]
    issued, finished, errors = [], [], []
    start = threading.Barrier(threads_count)
    lock = threading.Lock()

    def work(index: int) -> None:
        dentist = f"d{index}"
        rng = random.Random(index)
        try:
            start.wait()
            for _ in range(rounds):
                result = queue.issue(
                    rng.choice(service_ids), kiosk_id="lobby", lang="uz"
                )
                with lock:
                    issued.append(result.ticket.id)
                try:
                    queue.call_next(dentist)
                except QueueError as err:
                    if err.code not in EXPECTED_REFUSALS:
                        raise
                    continue
                if rng.random() < 0.5:
                    queue.start(dentist)
                ticket, _ = queue.finish(dentist)
                with lock:
                    finished.append(ticket.id)
        except Exception as err:  # noqa: BLE001 - collected and asserted below
            with lock:
                errors.append(f"{dentist}: {err!r}")

    threads = [threading.Thread(target=work, args=(i,)) for i in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(t.is_alive() for t in threads), "a worker hung"
    assert errors == []

    drain(queue, config, finished)

    try:
        check_served_once(issued, finished, threads_count * rounds)
    finally:
        database.close()


def drain(queue: Queue, config, finished: list[int]) -> None:
    """Let every dentist call and finish until nobody is waiting."""
    busy = True
    while busy:
        busy = False
        for dentist in config.dentists:
            try:
                queue.call_next(dentist.id)
            except QueueError as err:
                assert err.code == "nobody_waiting", err.code
                continue
            finished.append(queue.finish(dentist.id)[0].id)
            busy = True


def check_served_once(issued: list[int], finished: list[int], expected: int) -> None:
    tickets, events = dump()

    assert len(issued) == len(set(issued)) == expected
    assert sorted(t["id"] for t in tickets) == sorted(issued)
    numbers = Counter((t["day"], t["service"], t["number"]) for t in tickets)
    assert max(numbers.values()) == 1
    for service in {t["service"] for t in tickets}:
        got = sorted(t["number"] for t in tickets if t["service"] == service)
        assert got == list(range(1, len(got) + 1)), service

    assert sorted(finished) == sorted(issued), "a ticket was served twice or never"
    assert {t["state"] for t in tickets} == {"done"}
    per_ticket = Counter((e["ticket"], e["action"]) for e in events)
    for ticket_id in issued:
        assert per_ticket[(ticket_id, "issued")] == 1
        assert per_ticket[(ticket_id, "called")] == 1, ticket_id
        assert per_ticket[(ticket_id, "done")] == 1, ticket_id
    called_by = {e["ticket"]: e["actor"] for e in events if e["action"] == "called"}
    done_by = {e["ticket"]: e["actor"] for e in events if e["action"] == "done"}
    assert called_by == done_by


def test_two_kiosks_never_repeat_a_number(tmp_path):
    raw = base_raw_config()
    kiosks = [*raw["kiosks"], {"id": "upstairs", "printer": "lobby-printer"}]
    config = config_module.load(write_config(tmp_path, kiosks=kiosks))
    queue = open_queue(config, tmp_path, RunningClock())
    per_thread, threads_count = 15, 16
    labels, errors = [], []
    start = threading.Barrier(threads_count)
    lock = threading.Lock()

    def kiosk(index: int) -> None:
        kiosk_id = ("lobby", "upstairs")[index % 2]
        try:
            start.wait()
            for _ in range(per_thread):
                ticket = queue.issue("checkup", kiosk_id=kiosk_id, lang="ru").ticket
                with lock:
                    labels.append(ticket.label)
        except Exception as err:  # noqa: BLE001 - collected and asserted below
            with lock:
                errors.append(repr(err))

    threads = [threading.Thread(target=kiosk, args=(i,)) for i in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    try:
        assert errors == []
        total = per_thread * threads_count
        assert sorted(labels) == [f"A-{n:03d}" for n in range(1, total + 1)]
        tickets, _ = dump()
        assert Counter(t["kiosk"] for t in tickets) == {
            "lobby": total // 2,
            "upstairs": total // 2,
        }
    finally:
        database.close()


def test_one_visit_closed_by_mistake_does_not_promise_no_wait(queue, clock):
    configured = queue.config.service("hygiene").minutes
    issue(queue, "hygiene")
    queue.call_next("nazarova")
    clock.tick(5)
    queue.finish("nazarova")  # a Done pressed by mistake: a 5 s "visit"
    issue(queue, "hygiene")
    queue.call_next("nazarova")

    waiting = issue(queue, "hygiene").ticket
    wait = queue.estimated_wait(waiting.id)

    # 1 real visit of 5 s against the configured length counted as 3 visits.
    assert wait.total_seconds() / 60 > configured * 0.6
    assert wait.total_seconds() / 60 < configured


def test_recent_calls_keep_the_room_of_the_call_after_a_move(queue):
    ticket = issue(queue, "checkup")
    queue.call_next("karimova")
    queue.no_show("karimova")
    queue.reinstate(ticket.ticket.id, actor="staff:1")

    [call] = queue.recent_calls()

    assert (call["label"], call["room"], call["state"]) == ("A-001", "1", "waiting")
