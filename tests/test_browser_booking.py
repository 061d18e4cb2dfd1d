"""Appointments in Chromium against a real hub: reception books, the patient
checks in at the kiosk with the code, the tablet calls them before an earlier
walk-in; and a patient books on the public page from a phone-sized window.

Expected words come from config.toml and server/translations.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests
from playwright.sync_api import Page, expect

from server import i18n
from server.booking import CODE_ALPHABET
from tests.conftest import HubProcess, start_hub
from tests.test_browser import (
    DENTISTS,
    KIOSK,
    KIOSK_ID,
    LIVE,
    PHONE,
    SERVICES,
    TABLET,
    Surfaces,
    api_session,
    expect_live,
    issue,
    sign_in,
)

pytestmark = pytest.mark.browser

DESK = {"width": 1366, "height": 768}
EN = i18n.catalog("en")
UZ = i18n.catalog("uz")


def midday_zone() -> str:
    """A fixed-offset zone where it is about noon now.

    The tests book the next free time today; in the clinic's own zone that
    may be just before midnight, when today has no time left.
    """
    offset = 12 - datetime.now(UTC).hour
    return f"Etc/GMT{-offset:+d}"


ZONE = ZoneInfo(midday_zone())


@pytest.fixture
def surfaces(chromium, tmp_path) -> Iterator[Surfaces]:
    hub: HubProcess = start_hub(tmp_path, "eventlet", clinic={"timezone": ZONE.key})
    opened = Surfaces(chromium, hub)
    yield opened
    opened.close()
    hub.stop()


def admin_api(hub: HubProcess) -> requests.Session:
    session = api_session()
    answer = session.post(
        hub.url + "/api/v1/staff/login",
        json={"username": "admin", "password": hub.credentials()["admin"]},
        timeout=5,
    )
    assert answer.ok, answer.text
    session.headers["X-CSRF-Token"] = answer.json()["csrf"]
    return session


def work_all_day(hub: HubProcess, dentist: str, day_offset: int = 0) -> None:
    """Give a dentist a round-the-clock plan on today's (or a later) weekday."""
    weekday = (datetime.now(ZONE) + timedelta(days=day_offset)).weekday()
    answer = admin_api(hub).post(
        hub.url + "/api/v1/schedule/plans",
        json={
            "dentist": dentist,
            "weekday": weekday,
            "starts": "00:00",
            "ends": "24:00",
            "room": DENTISTS[dentist]["room"],
        },
        timeout=5,
    )
    assert answer.ok, answer.text


def add_receptionist(hub: HubProcess) -> tuple[str, str]:
    answer = admin_api(hub).post(
        hub.url + "/api/v1/staff/users",
        json={"username": "dilfuza", "full_name": "Dilfuza", "role": "receptionist"},
        timeout=5,
    )
    assert answer.status_code == 201, answer.text
    return "dilfuza", answer.json()["password"]


def sign_in_desk(page: Page, username: str, password: str) -> None:
    page.get_by_label(EN["reception.username"]).fill(username)
    page.get_by_label(EN["reception.password"]).fill(password)
    page.get_by_role("button", name=EN["reception.submit"]).click()


def type_on_keypad(kiosk: Page, code: str) -> None:
    keypad = kiosk.locator("#keypad")
    for symbol in code.replace("-", ""):
        keypad.get_by_role("button", name=symbol, exact=True).tap()


# -- reception books, the kiosk checks in, the tablet calls -----------------------


def test_booked_patient_checks_in_and_goes_first(surfaces: Surfaces):
    hub = surfaces.hub
    work_all_day(hub, "karimova")
    walk_in = issue(hub, "checkup")["ticket"]["label"]  # A-001, waiting first
    username, password = add_receptionist(hub)

    # The receptionist books the first free check-up time with Dr. Karimova.
    desk = surfaces.open("/reception/?lang=en", DESK)
    sign_in_desk(desk, username, password)
    expect_live(desk)
    desk.get_by_role("link", name=EN["staff.menu_schedule"]).click()
    expect_live(desk)
    desk.locator("#dentist").select_option("karimova")
    desk.locator("#service").select_option("checkup")
    column = desk.locator('.sched-col[data-dentist="karimova"]')
    column.locator(".sched-free").first.click(timeout=LIVE)
    dialog = desk.locator("#book-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_label(EN["schedule.patient_name"]).fill("Madina Yusupova")
    dialog.get_by_label(EN["schedule.phone"]).fill("90 555 12 34")
    dialog.get_by_role("button", name=EN["schedule.book"], exact=True).click()
    expect(dialog).to_be_hidden(timeout=LIVE)
    booked = column.locator(".sched-appointment")
    expect(booked).to_contain_text("Madina Yusupova", timeout=LIVE)
    expect(booked).to_contain_text("+998 90 555 12 34")
    code = booked.locator(".sched-code").text_content()
    assert len(code) == 7 and all(c in CODE_ALPHABET for c in code.replace("-", ""))
    expect(desk.locator("#notice")).to_contain_text(code)

    # The dentist's tablet lists the appointment in today's panel.
    tablet = surfaces.open("/dentist/", TABLET)
    sign_in(tablet, "karimova", hub.credentials()["karimova"])
    expect(tablet.locator("#agenda-list")).to_contain_text(
        "Madina Yusupova", timeout=LIVE
    )

    # At the kiosk the patient taps "I have an appointment" and types the code.
    kiosk = surfaces.open(f"/kiosk/{KIOSK_ID}", KIOSK)
    expect_live(kiosk)
    kiosk.get_by_role("button", name=UZ["checkin.tile"]).tap()
    expect(kiosk.locator("#checkin")).to_be_visible()
    type_on_keypad(kiosk, code)
    expect(kiosk.locator("#checkin-code")).to_have_text(code.replace("-", ""))
    kiosk.get_by_role("button", name=UZ["checkin.submit"]).tap()
    expect(kiosk.locator("#result-number")).to_have_text("A-002", timeout=LIVE)
    expect(kiosk.locator("#result-priority")).to_have_text(UZ["priority.appointment"])
    expect(kiosk.locator("#result-service")).to_have_text(
        SERVICES["checkup"]["name"]["uz"]
    )

    # Twice: no second ticket, a clear message.
    kiosk.get_by_role("button", name=UZ["kiosk.done"]).tap()
    kiosk.get_by_role("button", name=UZ["checkin.tile"]).tap()
    type_on_keypad(kiosk, code)
    kiosk.get_by_role("button", name=UZ["checkin.submit"]).tap()
    expect(kiosk.locator("#checkin-error")).to_have_text(
        UZ["error.already_checked_in"].format(ticket="A-002"), timeout=LIVE
    )

    # The tablet shows the appointment first and Call next takes it before A-001.
    waiting = tablet.locator("#waiting li .waiting-number")
    expect(waiting).to_have_text(["A-002", walk_in], timeout=LIVE)
    tablet.locator('[data-action="call-next"]').tap()
    expect(tablet.locator("#current-number")).to_have_text("A-002", timeout=LIVE)
    expect(tablet.locator("#current-priority")).to_have_text(UZ["priority.appointment"])
    expect(tablet.locator("#agenda-list")).to_contain_text("A-002", timeout=LIVE)

    # Reception's schedule shows the patient checked in, without a reload.
    expect(booked).to_contain_text(EN["booking.state_checked_in"], timeout=LIVE)
    surfaces.check_clean()


# -- a patient books on the public page from a phone ----------------------------------


def test_patient_books_on_a_phone(surfaces: Surfaces):
    hub = surfaces.hub
    work_all_day(hub, "nazarova", day_offset=1)
    tomorrow = (datetime.now(ZONE) + timedelta(days=1)).date().isoformat()

    phone = surfaces.open("/book/?lang=en", PHONE, mobile=True)
    expect(phone.locator("h1")).to_have_text(EN["booking.title"])
    phone.get_by_label(EN["booking.service"]).select_option("hygiene")
    phone.get_by_label(EN["booking.dentist"]).select_option("nazarova")
    phone.get_by_label(EN["booking.day"]).fill(tomorrow)
    slot = phone.locator("#slots .book-slot").first
    expect(slot).to_be_visible(timeout=LIVE)
    time = slot.text_content()
    slot.tap()

    form = phone.locator("#confirm-form")
    expect(form).to_be_visible()
    form.get_by_label(EN["booking.your_phone"]).fill("12")
    form.get_by_role("button", name=EN["booking.confirm"]).tap()
    expect(phone.locator("#confirm-error")).to_have_text(
        EN["error.field_missing"].format(field=EN["field.patient_name"]), timeout=LIVE
    )
    form.get_by_label(EN["booking.your_name"]).fill("Shahnoza Aliyeva")
    form.get_by_role("button", name=EN["booking.confirm"]).tap()
    expect(phone.locator("#confirm-error")).to_have_text(
        EN["error.phone_invalid"], timeout=LIVE
    )
    form.get_by_label(EN["booking.your_phone"]).fill("+998 93 777 66 55")
    form.get_by_role("button", name=EN["booking.confirm"]).tap()

    done = phone.locator("#done")
    expect(done).to_be_visible(timeout=LIVE)
    code = phone.locator("#code").text_content()
    assert len(code) == 7, code
    expect(done).to_contain_text(time)
    expect(done).to_contain_text(DENTISTS["nazarova"]["name"])
    # Nothing wider than the phone: no sideways scrolling.
    width = phone.evaluate("document.scrollingElement.scrollWidth")
    assert width <= PHONE["width"], width

    # The code finds the booking; the patient cancels it from the phone.
    answer = api_session().get(f"{hub.url}/api/v1/booking/{code}", timeout=5)
    assert answer.json()["appointment"]["state"] == "booked"
    assert "phone" not in answer.json()["appointment"]
    phone.get_by_role("button", name=EN["booking.cancel"]).tap()
    phone.get_by_role("button", name=EN["booking.cancel_yes"]).tap()
    expect(phone.locator("#done-state")).to_have_text(
        EN["booking.state_cancelled"], timeout=LIVE
    )
    answer = api_session().get(f"{hub.url}/api/v1/booking/{code}", timeout=5)
    assert answer.json()["appointment"]["state"] == "cancelled"
    # The booking page needs no live connection; nothing left 127.0.0.1.
    assert surfaces.recorder.urls and surfaces.recorder.outside() == []
    assert surfaces.errors == []
