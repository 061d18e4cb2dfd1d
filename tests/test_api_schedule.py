"""The schedule's API through Flask's test client: roles on every endpoint,
public booking by code, rate limits, check-in at the kiosk and at the desk."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from server.db import database
from server.models import Appointment
from tests.conftest import sign_in_staff, write_config
from tests.test_roles import become, everything

WHO = ("nobody", "admin", "receptionist", "dentist", "tablet")
DESK = {"admin", "receptionist"}
READERS = DESK | {"dentist"}


@pytest.fixture
def config_path(tmp_path):
    """A clinic where it is about noon now, so today still has free times."""
    offset = 12 - datetime.now(UTC).hour
    return write_config(
        tmp_path,
        server={"async_mode": "threading", "host": "127.0.0.1"},
        clinic={"timezone": f"Etc/GMT{-offset:+d}"},
        booking={"demo_schedule": False, "lookups_per_minute": 3},
    )


@pytest.fixture
def clinic(app, hub):
    """Every dentist works round the clock, every day."""
    for dentist in hub.config.dentists:
        for weekday in range(7):
            hub.bookings.set_week_plan(
                dentist.id, weekday, "00:00", "24:00", dentist.room
            )
    return hub


def tomorrow(hub) -> date:
    return hub.bookings.today() + timedelta(days=1)


def at(day: date, clock: str) -> str:
    return f"{day.isoformat()}T{clock}"


def book_as_desk(client, headers, hub, clock="10:00", **extra) -> dict:
    body = {
        "service": "checkup",
        "start": at(tomorrow(hub), clock),
        "dentist": "karimova",
        "patient_name": "Olim Qodirov",
        "phone": "+998 91 234 56 78",
        **extra,
    }
    answer = client.post("/api/v1/appointments", json=body, headers=headers)
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()["appointment"]


# -- roles --------------------------------------------------------------------------


def endpoints(hub, appointment_id: int) -> list[tuple[str, str, dict, set[str]]]:
    """(method, path, body, who may) for every schedule endpoint."""
    day = tomorrow(hub).isoformat()
    return [
        ("GET", f"/api/v1/schedule/day?day={day}", {}, READERS),
        ("GET", "/api/v1/schedule/week?dentist=karimova", {}, READERS),
        ("GET", f"/api/v1/schedule/slots?service=checkup&day={day}", {}, READERS),
        ("GET", "/api/v1/schedule/first-free?service=checkup", {}, READERS),
        ("GET", "/api/v1/schedule/plans", {}, READERS),
        (
            "POST",
            "/api/v1/appointments",
            {
                "service": "checkup",
                "start": at(tomorrow(hub), "11:00"),
                "patient_name": "Mallory",
                "phone": "90 111 22 33",
            },
            DESK,
        ),
        (
            "POST",
            f"/api/v1/appointments/{appointment_id}/move",
            {"start": at(tomorrow(hub), "12:00")},
            DESK,
        ),
        ("POST", f"/api/v1/appointments/{appointment_id}/cancel", {}, DESK),
        ("POST", f"/api/v1/appointments/{appointment_id}/check-in", {}, DESK),
        (
            "POST",
            "/api/v1/schedule/plans",
            {
                "dentist": "karimova",
                "weekday": 0,
                "starts": "09:00",
                "ends": "10:00",
                "room": "1",
            },
            DESK,
        ),
        (
            "POST",
            "/api/v1/schedule/exceptions",
            {"dentist": "karimova", "first_day": day, "kind": "off"},
            DESK,
        ),
        ("POST", "/api/v1/schedule/holidays", {"day": day, "name": "X"}, DESK),
        (
            "POST",
            "/api/v1/schedule/blocks",
            {"dentist": "karimova", "weekday": 1, "starts": "09:00", "ends": "10:00"},
            DESK,
        ),
        ("POST", "/api/v1/schedule/holidays/1/delete", {}, DESK),
        ("GET", "/api/v1/dentist/today", {}, {"tablet"}),
    ]


@pytest.mark.parametrize("who", WHO)
def test_each_schedule_endpoint_for_each_role(app, clinic, who):
    desk = app.test_client()
    appointment = book_as_desk(desk, sign_in_staff(desk, "admin"), clinic)
    client = app.test_client()
    headers = become(app, client, who)

    for method, path, body, allowed in endpoints(clinic, appointment["id"]):
        before = everything()
        answer = client.open(path, method=method, json=body, headers=headers)
        if who in allowed:
            assert answer.status_code not in (401, 403), (who, path, answer.get_json())
        else:
            expected = (401,) if who == "nobody" else (401, 403)
            assert answer.status_code in expected, (who, path, answer.status_code)
            assert answer.get_json()["error"]["message"]
            assert everything() == before, (who, path)


def test_a_desk_change_needs_the_csrf_token(app, client, clinic):
    sign_in_staff(client, "receptionist")

    answer = client.post(
        "/api/v1/schedule/holidays", json={"day": "2030-01-01", "name": "New Year"}
    )

    assert (answer.status_code, answer.get_json()["error"]["code"]) == (403, "csrf")
    assert clinic.bookings.holidays() == []


# -- the desk ------------------------------------------------------------------


def test_desk_books_and_sees_the_day(client, clinic):
    headers = sign_in_staff(client, "receptionist")
    appointment = book_as_desk(client, headers, clinic)

    day = client.get(f"/api/v1/schedule/day?day={tomorrow(clinic)}").get_json()

    karimova = next(d for d in day["dentists"] if d["id"] == "karimova")
    assert [a["code"] for a in karimova["appointments"]] == [appointment["code"]]
    assert karimova["appointments"][0]["phone_display"] == "+998 91 234 56 78"
    starts = {s["start"][11:16] for s in karimova["free"]}
    assert "10:00" not in starts and "10:15" not in starts and "10:30" in starts


def test_desk_check_in_gives_an_appointment_ticket(client, clinic):
    headers = sign_in_staff(client, "receptionist")
    now = clinic.bookings.now()
    slot = clinic.bookings.first_free("checkup", "karimova")
    assert slot.start - now <= timedelta(minutes=15)
    appointment = book_as_desk(
        client, headers, clinic, start=slot.start.strftime("%Y-%m-%dT%H:%M")
    )

    answer = client.post(
        f"/api/v1/appointments/{appointment['id']}/check-in", headers=headers
    )

    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json()["ticket"]["priority"] == "appointment"
    assert answer.get_json()["walk_in"] is False


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"patient_name": ""}, "patient_name"),
        ({"phone": "123"}, "phone"),
        ({"start": "tomorrow at ten"}, "start"),
        ({"service": ""}, "service"),
    ],
)
def test_desk_booking_errors_name_the_field(client, clinic, change, field):
    headers = sign_in_staff(client, "receptionist")
    body = {
        "service": "checkup",
        "start": at(tomorrow(clinic), "10:00"),
        "patient_name": "Olim",
        "phone": "90 123 45 67",
        **change,
    }

    answer = client.post("/api/v1/appointments?lang=en", json=body, headers=headers)

    assert answer.status_code == 400
    assert answer.get_json()["error"]["field"] == field


# -- the public page -----------------------------------------------------------


def test_public_booking_move_and_cancel_by_code(client, clinic):
    slots = client.get(
        f"/api/v1/booking/slots?service=hygiene&day={tomorrow(clinic)}"
    ).get_json()["slots"]
    assert slots and set(slots[0]) == {"dentist", "start", "end"}

    answer = client.post(
        "/api/v1/booking",
        json={
            "service": "hygiene",
            "start": slots[0]["start"][:16],
            "patient_name": "Shahnoza",
            "phone": "93 777 66 55",
        },
    )
    assert answer.status_code == 201, answer.get_json()
    booked = answer.get_json()["appointment"]
    assert "phone" not in booked and "patient_name" not in booked
    code = booked["code"]

    moved = client.post(
        f"/api/v1/booking/{code.lower()}/move", json={"start": slots[4]["start"][:16]}
    ).get_json()["appointment"]
    assert moved["starts"] == slots[4]["start"]
    cancelled = client.post(f"/api/v1/booking/{code}/cancel", json={}).get_json()
    assert cancelled["appointment"]["state"] == "cancelled"


def test_public_booking_respects_the_lead_time(client, clinic):
    soon = clinic.bookings.now() + timedelta(minutes=20)

    answer = client.post(
        "/api/v1/booking?lang=en",
        json={
            "service": "checkup",
            "start": soon.strftime("%Y-%m-%dT%H:%M"),
            "dentist": "karimova",
            "patient_name": "Late",
            "phone": "93 777 66 55",
        },
    )

    assert answer.status_code == 409
    assert answer.get_json()["error"]["code"] == "slot_taken"


def test_wrong_codes_are_rate_limited_per_address(client, clinic):
    codes = [
        client.get("/api/v1/booking/AAAAAA").get_json()["error"]["code"]
        for _ in range(4)
    ]

    assert codes == ["unknown_appointment"] * 3 + ["too_many_requests"]
    answer = client.get(
        "/api/v1/booking/AAAAAA", environ_overrides={"REMOTE_ADDR": "127.0.0.9"}
    )
    assert answer.get_json()["error"]["code"] == "unknown_appointment"


def test_public_bookings_are_limited_per_address(app, client, clinic):
    day = tomorrow(clinic)
    statuses = []
    for hour in range(7):
        answer = client.post(
            "/api/v1/booking",
            json={
                "service": "checkup",
                "start": at(day, f"{10 + hour}:00"),
                "patient_name": f"Patient {hour}",
                "phone": "93 777 66 55",
            },
        )
        statuses.append(answer.status_code)

    assert statuses == [201] * 5 + [429] * 2
    with database.connection_context():
        assert Appointment.select().count() == 5


def test_public_booking_can_be_switched_off(tmp_path):
    from server import config as config_module
    from server.app import create_app

    path = write_config(
        tmp_path,
        server={"async_mode": "threading", "host": "127.0.0.1"},
        booking={"public": False},
    )
    client = create_app(config_module.load(path)).test_client()

    assert client.get("/book/").status_code == 404
    answer = client.get("/api/v1/booking/options")
    assert answer.get_json()["error"]["code"] == "booking_closed"
    database.close()


@pytest.mark.parametrize("lang", ["uz", "ru", "en"])
def test_the_booking_page_in_each_language(client, clinic, lang):
    page = client.get(f"/book/?lang={lang}")

    assert page.status_code == 200
    assert f'<html lang="{lang}">' in page.get_data(as_text=True)


# -- the kiosk -----------------------------------------------------------------


def test_kiosk_check_in_by_phone(client, clinic):
    headers = sign_in_staff(client, "receptionist")
    slot = clinic.bookings.first_free("treatment", "rahimov")
    book_as_desk(
        client,
        headers,
        clinic,
        service="treatment",
        dentist="rahimov",
        start=slot.start.strftime("%Y-%m-%dT%H:%M"),
    )
    kiosk = client.application.test_client()

    answer = kiosk.post(
        "/api/v1/checkin",
        json={"kiosk": "lobby", "code": "91 234-56-78", "lang": "ru"},
    )

    assert answer.status_code == 201, answer.get_json()
    data = answer.get_json()
    assert data["ticket"]["priority"] == "appointment"
    assert data["ticket"]["label"] == "B-001"
    assert data["message"].startswith("Вы отмечены")
    assert set(data["appointment"]) >= {"starts", "dentist"}
    # By phone, the booking code is not given away, nor the phone or name.
    assert not {"code", "phone", "patient_name"} & set(data["appointment"])


def test_a_dentist_sees_only_their_own_patients(app, clinic):
    desk = app.test_client()
    headers = sign_in_staff(desk, "receptionist")
    book_as_desk(desk, headers, clinic, dentist="karimova")
    book_as_desk(desk, headers, clinic, dentist="rahimov", phone="90 765 43 21")
    client = app.test_client()
    sign_in_staff(client, "dentist", "karimova")

    day = client.get(f"/api/v1/schedule/day?day={tomorrow(clinic)}").get_json()

    seen = {d["id"]: d["appointments"][0] for d in day["dentists"] if d["appointments"]}
    assert seen["karimova"]["patient_name"] == "Olim Qodirov"
    assert "patient_name" not in seen["rahimov"] and "phone" not in seen["rahimov"]


def test_a_check_in_is_not_refused_by_walk_in_hours(tmp_path):
    """A service that stopped taking walk-ins still takes its booked visits."""
    from server import config as config_module
    from server.app import create_app
    from tests.conftest import base_raw_config

    offset = 12 - datetime.now(UTC).hour
    # Every service stopped issuing walk-in tickets minutes after midnight.
    services = [
        dict(s, opens="00:00", closes="00:05") for s in base_raw_config()["services"]
    ]
    path = write_config(
        tmp_path,
        server={"async_mode": "threading", "host": "127.0.0.1"},
        clinic={"timezone": f"Etc/GMT{-offset:+d}"},
        booking={"demo_schedule": False},
        services=services,
    )
    config = config_module.load(path)
    app = create_app(config)
    hub = app.extensions["navbat"]
    hub.bookings.set_week_plan(
        "karimova", hub.bookings.today().weekday(), "00:00", "24:00", "1"
    )
    client = app.test_client()
    headers = sign_in_staff(client, "receptionist")
    slot = hub.bookings.first_free("checkup", "karimova")
    appointment = book_as_desk(
        client, headers, hub, start=slot.start.strftime("%Y-%m-%dT%H:%M")
    )
    assert (
        client.post("/api/v1/tickets", json={"service": "checkup"}).status_code == 409
    )

    answer = client.post(
        f"/api/v1/appointments/{appointment['id']}/check-in", headers=headers
    )

    assert answer.status_code == 201, answer.get_json()
    database.close()


def test_housekeeping_marks_missed_appointments_and_tells_staff(app, clinic):
    from server.realtime import socketio, tidy_up

    desk = app.test_client()
    headers = sign_in_staff(desk, "receptionist")
    appointment = book_as_desk(desk, headers, clinic)
    staff = socketio.test_client(
        app, flask_test_client=desk, auth={"audience": "staff"}
    )
    staff.get_received()
    with database.connection_context():
        Appointment.update(
            starts_at=datetime.now(UTC).replace(tzinfo=None) - timedelta(hours=1)
        ).where(Appointment.id == appointment["id"]).execute()

    with app.app_context():
        tidy_up()

    assert clinic.bookings.find(appointment["id"]).state == "missed"
    assert "appointments" in [m["name"] for m in staff.get_received()]
    staff.disconnect()


def test_a_day_off_over_booked_visits_says_how_many(client, clinic):
    headers = sign_in_staff(client, "receptionist")
    book_as_desk(client, headers, clinic, dentist="karimova")
    day = tomorrow(clinic).isoformat()

    off = client.post(
        "/api/v1/schedule/exceptions",
        json={"dentist": "karimova", "first_day": day, "kind": "off"},
        headers=headers,
    )
    holiday = client.post(
        "/api/v1/schedule/holidays", json={"day": day}, headers=headers
    )

    assert off.get_json()["affected"] == 1
    assert holiday.get_json()["affected"] == 1


def test_a_booked_patient_with_a_card_gets_the_visit_on_it(app, client, clinic):
    from tests.test_api_patients import CARD

    headers = sign_in_staff(client, "receptionist")
    card = client.post(
        "/api/v1/patients", json=dict(CARD, confirm_new=True), headers=headers
    ).get_json()["patient"]
    slot = clinic.bookings.first_free("checkup", "karimova")
    book_as_desk(
        client,
        headers,
        clinic,
        phone=CARD["phone"],
        start=slot.start.strftime("%Y-%m-%dT%H:%M"),
    )
    karimova, rahimov = app.test_client(), app.test_client()
    sign_in_staff(karimova, "dentist", "karimova")
    sign_in_staff(rahimov, "dentist", "rahimov")
    path = f"/api/v1/patients/{card['number']}"

    # Booked with her: the dentist may read the card before the visit.
    assert karimova.get(path).status_code == 200
    assert rahimov.get(path).status_code == 403

    answer = app.test_client().post(
        "/api/v1/checkin", json={"kiosk": "lobby", "code": CARD["phone"]}
    )

    ticket = answer.get_json()["ticket"]
    visits = client.get(path).get_json()["patient"]["visits"]
    assert [(v["label"], v["source"]) for v in visits] == [
        (ticket["label"], "appointment")
    ]


def test_phone_check_ins_that_fail_count_towards_the_limit(client, clinic):
    headers = sign_in_staff(client, "receptionist")
    book_as_desk(client, headers, clinic)  # tomorrow: "not today" by phone
    kiosk = client.application.test_client()

    answers = [
        kiosk.post(
            "/api/v1/checkin", json={"kiosk": "lobby", "code": "91 234 56 78"}
        ).status_code
        for _ in range(5)
    ]

    # The fixture allows 3 lookups a minute.
    assert 429 not in answers[:3]
    assert answers[3:] == [429, 429]


@pytest.mark.parametrize("kind", ["holidays", "exceptions", "blocks"])
def test_deleting_what_is_not_there_says_so(client, clinic, kind):
    headers = sign_in_staff(client, "admin")

    answer = client.post(f"/api/v1/schedule/{kind}/424242/delete", headers=headers)

    assert answer.status_code == 404
    assert answer.get_json()["error"]["code"] == "unknown_entry"
