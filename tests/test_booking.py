"""Appointments on a real SQLite file: booking, races, check-in windows, plans."""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from server import config as config_module
from server.booking import Bookings, clean_code, format_code
from server.db import database
from server.errors import BookingError, HubError, InputError
from server.models import Appointment, Ticket
from tests.conftest import write_config
from tests.test_engine import NOON, Clock, open_queue

TASHKENT = ZoneInfo("Asia/Tashkent")
TODAY = date(2026, 12, 4)  # a Friday; NOON is 12:00 in Tashkent
TOMORROW = TODAY + timedelta(days=1)
PHONE = "+998901234567"


def local(day: date, clock: str) -> datetime:
    hours, minutes = map(int, clock.split(":"))
    return datetime(day.year, day.month, day.day, hours, minutes, tzinfo=TASHKENT)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def bookings(config, tmp_path, clock):
    """Bookings with every dentist working 09:00-18:00 (lunch 13-14) all week."""
    queue = open_queue(config, tmp_path, clock)
    bookings = Bookings(config, queue)
    for dentist in config.dentists:
        for weekday in range(7):
            bookings.set_week_plan(
                dentist.id, weekday, "09:00", "18:00", dentist.room, "13:00-14:00"
            )
    yield bookings
    database.close()


def book(bookings, when: datetime, service="checkup", dentist="karimova", **kw):
    kw.setdefault("name", "Aziza Karimova")
    kw.setdefault("phone", "90 123 45 67")
    kw.setdefault("lang", "uz")
    kw.setdefault("actor", "staff:1")
    return bookings.book(service, when, dentist_id=dentist, **kw)


def active_rows() -> list[Appointment]:
    with database.connection_context():
        return list(Appointment.select().where(Appointment.state != "cancelled"))


def refused(call) -> HubError:
    with pytest.raises(HubError) as caught:
        call()
    return caught.value


# -- booking -----------------------------------------------------------------


def test_book_keeps_patient_phone_and_time(bookings):
    appointment = book(bookings, local(TOMORROW, "10:00"))

    assert appointment.dentist == "karimova" and appointment.room == "1"
    assert appointment.starts == "2026-12-05T10:00:00+05:00"
    assert appointment.ends == "2026-12-05T10:20:00+05:00"  # checkup: 20 min
    assert appointment.phone == PHONE
    assert appointment.state == "booked"
    assert len(clean_code(appointment.code)) == 6
    assert "phone" not in appointment.public()
    assert "patient_name" not in appointment.public()


def test_a_taken_time_is_refused_with_its_time(bookings):
    book(bookings, local(TOMORROW, "10:00"), service="treatment")  # to 10:40

    error = refused(lambda: book(bookings, local(TOMORROW, "10:30")))

    assert (error.code, error.params) == ("slot_taken", {"time": "10:30"})
    assert len(active_rows()) == 1


def test_any_dentist_takes_the_first_free_one(bookings):
    book(bookings, local(TOMORROW, "10:00"), dentist="karimova")

    second = book(bookings, local(TOMORROW, "10:00"), dentist=None)

    assert second.dentist == "rahimov"


def test_first_free_slot_for_a_service_with_any_dentist(bookings, clock):
    slot = bookings.first_free("extraction")

    assert (slot.dentist, slot.start) == ("yusupov", local(TODAY, "12:00"))
    clock.at = NOON + timedelta(minutes=50)  # 12:50: no 30 min before lunch
    assert bookings.first_free("extraction").start == local(TODAY, "14:00")


def test_cancel_frees_the_time_and_move_keeps_the_code(bookings):
    first = book(bookings, local(TOMORROW, "10:00"))
    bookings.cancel(first.id, actor="staff:1")
    second = book(bookings, local(TOMORROW, "10:00"))

    moved = bookings.move(second.code, local(TOMORROW, "15:00"), actor="patient")

    assert (moved.code, moved.starts) == (second.code, "2026-12-05T15:00:00+05:00")
    assert bookings.find(first.id).state == "cancelled"
    assert refused(lambda: bookings.cancel(first.id, actor="x")).code == "not_booked"


def test_codes_are_read_as_people_type_them(bookings):
    appointment = book(bookings, local(TOMORROW, "10:00"))
    typed = appointment.code.lower().replace("-", " ")

    assert bookings.find(typed).id == appointment.id
    assert format_code(clean_code(typed)) == appointment.code


# (when, public, code)
LIMITS = [
    pytest.param(local(TODAY, "11:00"), False, "slot_taken", id="in-the-past"),
    pytest.param(local(TODAY, "12:30"), True, "slot_taken", id="within-the-lead"),
    pytest.param(local(TODAY, "13:00"), True, "slot_taken", id="lunch"),
    pytest.param(local(TODAY, "18:00"), False, "slot_taken", id="after-hours"),
    pytest.param(local(TODAY, "09:00") - timedelta(days=1), False, "day_in_past"),
    pytest.param(local(TODAY + timedelta(days=31), "10:00"), True, "day_too_far"),
]


@pytest.mark.parametrize(("when", "public", "code"), LIMITS)
def test_booking_limits(bookings, when, public, code):
    assert refused(lambda: book(bookings, when, public=public)).code == code
    assert active_rows() == []


def test_staff_may_book_within_the_patients_lead(bookings):
    assert book(bookings, local(TODAY, "12:30")).state == "booked"


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("patient_name", {"name": "  "}),
        ("phone", {"phone": "12"}),
    ],
)
def test_bad_patient_details(bookings, field, kwargs):
    error = refused(lambda: book(bookings, local(TOMORROW, "10:00"), **kwargs))

    assert isinstance(error, InputError) and error.field == field


# -- races ----------------------------------------------------------------------


def test_two_people_booking_the_last_slot_one_wins(config, tmp_path, clock):
    """Threads with their own connections book one time on one SQLite file."""
    queue = open_queue(config, tmp_path, clock)
    bookings = Bookings(config, queue)
    bookings.set_week_plan("nazarova", TOMORROW.weekday(), "09:00", "09:45", "4")
    threads_count = 8
    start = threading.Barrier(threads_count)
    results: list[object] = []
    lock = threading.Lock()

    def patient(index: int) -> None:
        start.wait()
        try:
            outcome = book(
                bookings,
                local(TOMORROW, "09:00"),
                service="hygiene",
                dentist=None,
                phone=f"90 123 45 {10 + index}",
                public=True,
            )
        except BookingError as err:
            outcome = err.code
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=patient, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    codes = sorted(r for r in results if isinstance(r, str))
    assert codes == ["slot_taken"] * (threads_count - 1)
    assert len(active_rows()) == 1
    database.close()


def _book_in_a_process(config_path, database_path, ready, go, results, index):
    """Book the last hygiene slot from a separate process (no shared lock)."""
    from server.db import open_sqlite
    from server.engine import Queue

    config = config_module.load(config_path)
    open_sqlite(database_path)
    bookings = Bookings(config, Queue(config, clock=Clock()))
    ready.wait()
    go.wait()
    try:
        book(
            bookings,
            local(TOMORROW, "09:00"),
            service="hygiene",
            dentist="nazarova",
            phone=f"90 123 45 {20 + index}",
        )
        results.put("booked")
    except BookingError as err:
        results.put(err.code)


def test_two_processes_booking_the_last_slot_one_wins(config_path, tmp_path):
    """Only SQLite's BEGIN IMMEDIATE stands between two hub processes."""
    import multiprocessing

    config = config_module.load(config_path)
    queue = open_queue(config, tmp_path, Clock())
    Bookings(config, queue).set_week_plan(
        "nazarova", TOMORROW.weekday(), "09:00", "09:45", "4"
    )
    database.close()
    spawn = multiprocessing.get_context("spawn")
    ready, go = spawn.Barrier(3), spawn.Barrier(3)
    results = spawn.Queue()
    workers = [
        spawn.Process(
            target=_book_in_a_process,
            args=(config_path, tmp_path / "engine.sqlite3", ready, go, results, i),
        )
        for i in range(2)
    ]
    for worker in workers:
        worker.start()
    ready.wait(60)
    go.wait(60)
    outcomes = sorted(results.get(timeout=60) for _ in workers)
    for worker in workers:
        worker.join(30)

    assert outcomes == ["booked", "slot_taken"]
    open_queue(config, tmp_path, Clock())
    assert len(active_rows()) == 1
    database.close()


def test_the_last_slot_across_dentists_and_rooms(bookings):
    """Two dentists in one room at different hours: the room is never shared."""
    bookings.clear_week_plan("rahimov", TOMORROW.weekday())
    bookings.set_week_plan("rahimov", TOMORROW.weekday(), "09:00", "10:00", "2")
    book(bookings, local(TOMORROW, "09:00"), dentist="rahimov")

    error = refused(
        lambda: bookings.set_week_plan(
            "karimova", TOMORROW.weekday(), "09:30", "12:00", "2"
        )
    )

    assert error.code == "room_taken"
    assert error.params["room"] == "2"


# -- check-in ------------------------------------------------------------------------


# (minutes from the appointment's start, outcome: priority or refusal code)
WINDOWS = [
    pytest.param(-31, "checkin_too_early", id="too-early"),
    pytest.param(-30, "appointment", id="early"),
    pytest.param(0, "appointment", id="on-time"),
    pytest.param(15, "appointment", id="late"),
    pytest.param(16, "normal", id="too-late-walk-in"),
]


@pytest.mark.parametrize(("offset", "outcome"), WINDOWS)
def test_check_in_windows(bookings, clock, offset, outcome):
    appointment = book(bookings, local(TODAY, "15:00"), service="treatment")
    clock.at = local(TODAY, "15:00") + timedelta(minutes=offset)

    try:
        result = bookings.check_in(appointment.code, kiosk_id="lobby", lang="ru")
    except BookingError as err:
        assert err.code == outcome
        assert err.params == {"time": "15:00", "opens": "14:30"}
        assert bookings.find(appointment.id).state == "booked"
        return

    ticket = result.issued.ticket
    assert ticket.priority == outcome
    assert ticket.service == "treatment" and ticket.lang == "ru"
    assert ticket.dentist == ("karimova" if outcome == "appointment" else None)
    assert result.walk_in == (outcome == "normal")
    after = bookings.find(appointment.id)
    assert after.state == ("checked_in" if outcome == "appointment" else "missed")
    assert after.ticket == ticket.label


def test_checking_in_twice_gives_no_second_ticket(bookings, clock):
    appointment = book(bookings, local(TODAY, "12:30"))
    first = bookings.check_in(appointment.code, kiosk_id="lobby", lang="uz")

    error = refused(lambda: bookings.check_in(PHONE, kiosk_id="lobby", lang="uz"))

    assert (error.code, error.params) == (
        "already_checked_in",
        {"ticket": first.issued.ticket.label},
    )
    with database.connection_context():
        assert Ticket.select().count() == 1


def test_check_in_by_phone_as_typed(bookings):
    book(bookings, local(TODAY, "12:15"))

    result = bookings.check_in("+998 (90) 123-45-67", kiosk_id="lobby", lang="uz")

    assert result.issued.ticket.priority == "appointment"


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("AAAAAA", "unknown_appointment"),
        ("90 765 43 21", "no_appointment_today"),
        ("12", "phone_invalid"),
    ],
)
def test_check_in_refusals(bookings, typed, code):
    book(bookings, local(TODAY, "12:30"))

    assert (
        refused(lambda: bookings.check_in(typed, kiosk_id="lobby", lang="uz")).code
        == code
    )


def test_an_appointment_on_another_day(bookings):
    appointment = book(bookings, local(TOMORROW, "10:00"))

    error = refused(
        lambda: bookings.check_in(appointment.code, kiosk_id="lobby", lang="uz")
    )

    assert (error.code, error.params) == (
        "appointment_not_today",
        {"day": "05.12.2026"},
    )


def test_the_appointment_goes_before_earlier_walk_ins(bookings, clock):
    queue = bookings.queue
    walk_in = queue.issue("checkup", kiosk_id="lobby", lang="uz")
    clock.tick(60)
    appointment = book(bookings, local(TODAY, "12:15"))
    checked_in = bookings.check_in(appointment.code, kiosk_id="lobby", lang="uz")

    called, _ = queue.call_next("karimova")

    assert called.label == checked_in.issued.ticket.label
    assert queue.call_next("rahimov")[0].label == walk_in.ticket.label


def test_the_appointment_waits_for_its_own_dentist(bookings):
    appointment = book(bookings, local(TODAY, "12:15"), dentist="karimova")
    bookings.check_in(appointment.code, kiosk_id="lobby", lang="uz")

    error = refused(lambda: bookings.queue.call_next("rahimov"))

    assert error.code == "nobody_waiting"


def test_missed_appointments_are_marked_and_counted(bookings, clock):
    book(bookings, local(TODAY, "12:30"))
    kept = book(bookings, local(TODAY, "14:00"))
    clock.at = local(TODAY, "12:45")
    assert bookings.mark_missed() == 0

    clock.at = local(TODAY, "12:46")

    assert bookings.mark_missed() == 1
    assert bookings.counts(TODAY) == {"missed": 1, "booked": 1}
    assert bookings.find(kept.id).state == "booked"


# -- plans ---------------------------------------------------------------------


def test_exceptions_and_holidays_close_days(bookings):
    bookings.add_exception("karimova", TOMORROW, TOMORROW, "off")
    bookings.add_holiday(TOMORROW + timedelta(days=1), "Mustaqillik")

    assert bookings.free_slots("checkup", TOMORROW, "karimova") == []
    assert bookings.free_slots("checkup", TOMORROW, "rahimov") != []
    assert bookings.free_slots("checkup", TOMORROW + timedelta(days=1)) == []


def test_changed_hours_into_a_busy_room_are_refused(bookings):
    error = refused(
        lambda: bookings.add_exception(
            "karimova", TOMORROW, TOMORROW, "hours", "10:00", "12:00", "2"
        )
    )

    assert error.code == "room_taken"
    assert bookings.exceptions() == []


def test_an_emergency_block_is_for_urgent_cases(bookings, clock):
    bookings.add_block("yusupov", "09:00", "10:00", day=TOMORROW)
    starts = {s.start for s in bookings.free_slots("extraction", TOMORROW)}
    urgent = {s.start for s in bookings.free_slots("extraction", TOMORROW, urgent=True)}

    assert local(TOMORROW, "09:00") not in starts
    assert local(TOMORROW, "09:00") in urgent
    appointment = book(
        bookings,
        local(TOMORROW, "09:00"),
        service="extraction",
        dentist=None,
        urgent=True,
    )
    assert appointment.dentist == "yusupov" and appointment.urgent


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("karimova", 0, "9:00", "18:00", "1"), "starts"),
        (("karimova", 0, "18:00", "09:00", "1"), "ends"),
        (("karimova", 7, "09:00", "18:00", "1"), "weekday"),
        (("karimova", 0, "09:00", "18:00", "9"), "room"),
        (("karimova", 0, "09:00", "18:00", "1", "13-14"), "breaks"),
        (("karimova", 0, "09:00", "12:00", "1", "13:00-14:00"), "breaks"),
    ],
)
def test_bad_plans_name_the_field(bookings, args, field):
    error = refused(lambda: bookings.set_week_plan(*args))

    assert isinstance(error, InputError) and error.field == field


def test_demo_schedule_is_seeded_once(tmp_path):
    from server.booking import seed_demo_schedule
    from server.db import open_sqlite
    from server.models import WorkPlan, create_tables

    config = config_module.load(write_config(tmp_path, booking={"demo_schedule": True}))
    open_sqlite(tmp_path / "demo.sqlite3")
    create_tables()

    assert seed_demo_schedule(config) is True
    assert seed_demo_schedule(config) is False
    with database.connection_context():
        assert WorkPlan.select().count() == len(config.dentists) * 6
    database.close()


# -- config.toml's [booking] ---------------------------------------------------


@pytest.mark.parametrize(
    ("booking", "key", "problem"),
    [
        ({"slot_step_minutes": 7}, "booking.slot_step_minutes", "must be one of"),
        ({"days_ahead": 0}, "booking.days_ahead", "must be 1 to 366"),
        ({"checkin_late_minutes": -1}, "booking.checkin_late_minutes", "0 to 240"),
        ({"public": "yes"}, "booking.public", "must be true or false"),
        ({"lookups_per_minute": 1.5}, "booking.lookups_per_minute", "whole number"),
        ({"slots": 3}, "booking.slots", "unknown key"),
    ],
)
def test_bad_booking_config_names_the_key(tmp_path, booking, key, problem):
    path = write_config(tmp_path, booking=booking)

    with pytest.raises(config_module.ConfigError) as caught:
        config_module.load(path)

    message = str(caught.value)
    assert f"config.toml: {key}: " in message and problem in message, message
    assert "\n" not in message
