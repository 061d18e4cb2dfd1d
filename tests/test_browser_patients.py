"""The patient registry in a real browser against a real hub process.

A receptionist signs in, registers a patient (a mistyped field is pointed at
and nothing typed is lost), finds them by phone typed as `90 123-45-67`,
links a kiosk ticket to the card, and the dentist's tablet shows the
patient's risk flags when the ticket is called. The waiting-room display
never shows the name. Expected words come from the catalogs.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Browser, Page, expect

from server import i18n
from tests.browser import Recorder
from tests.conftest import ROOT, HubProcess, start_hub

pytestmark = pytest.mark.browser

UZ = i18n.catalog("uz")
DESK = {"width": 1366, "height": 768}
KIOSK = {"width": 1080, "height": 1920}
TABLET = {"width": 1280, "height": 800}
DISPLAY = {"width": 1920, "height": 1080}
LIVE = 10_000
CONFIG = tomllib.loads((ROOT / "config.toml").read_text(encoding="utf-8"))
CHECKUP = next(s for s in CONFIG["services"] if s["id"] == "checkup")
KIOSK_ID = CONFIG["kiosks"][0]["id"]
FIRST, LAST = "Zebiniso", "Qodirova"


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[HubProcess]:
    process = start_hub(tmp_path, "eventlet")
    yield process
    process.stop()


class Devices:
    """Each page in its own browser context, as separate devices are."""

    def __init__(self, browser: Browser, hub: HubProcess):
        self.browser, self.hub = browser, hub
        self.recorder = Recorder()
        self.errors: list[str] = []
        self.contexts = []

    def open(self, path: str, viewport: dict) -> Page:
        context = self.browser.new_context(
            viewport=viewport,
            has_touch=True,
            locale="uz-UZ",
            timezone_id="Asia/Tashkent",
        )
        self.contexts.append(context)
        self.recorder.watch(context)
        page = context.new_page()
        page.on("pageerror", lambda error: self.errors.append(f"{path}: {error}"))
        page.goto(self.hub.url + path)
        return page

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def devices(chromium: Browser, hub: HubProcess) -> Iterator[Devices]:
    opened = Devices(chromium, hub)
    yield opened
    opened.close()


def admin_session(hub: HubProcess) -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # never a proxy: every request stays on loopback
    answer = session.post(
        hub.url + "/api/v1/staff/login",
        json={"username": "admin", "password": hub.credentials()["admin"]},
        timeout=5,
    )
    assert answer.ok, answer.text
    session.headers["X-CSRF-Token"] = answer.json()["csrf"]
    return session


def new_receptionist(hub: HubProcess) -> str:
    """Let the admin add a receptionist; return the password shown once."""
    answer = admin_session(hub).post(
        hub.url + "/api/v1/staff/users",
        json={"username": "dilnoza", "full_name": "Dilnoza", "role": "receptionist"},
        timeout=5,
    )
    assert answer.status_code == 201, answer.text
    return answer.json()["password"]


def take_ticket(kiosk: Page) -> str:
    kiosk.get_by_role("button", name=CHECKUP["name"]["uz"]).tap()
    number = kiosk.locator("#result-number")
    expect(number).not_to_be_empty(timeout=LIVE)
    return number.text_content()


def test_receptionist_registers_finds_and_links_a_patient(devices: Devices, hub):
    password = new_receptionist(hub)

    # The receptionist signs in at the desk.
    desk = devices.open("/reception/", DESK)
    desk.get_by_label(UZ["reception.username"]).fill("dilnoza")
    desk.get_by_label(UZ["reception.password"]).fill(password)
    desk.get_by_role("button", name=UZ["reception.submit"]).click()
    desk.get_by_role("link", name=UZ["staff.menu_patients"]).click()
    expect(desk.get_by_label(UZ["patients.search_label"])).to_be_focused()

    # N opens the form; a mistyped e-mail is pointed at, and nothing is lost.
    desk.evaluate("document.activeElement.blur()")
    desk.keyboard.press("n")
    form = desk.locator("#patient-form")
    expect(form).to_be_visible()
    form.get_by_label(UZ["patients.last_name"]).fill(LAST)
    form.get_by_label(UZ["patients.first_name"]).fill(FIRST)
    form.get_by_label(UZ["patients.birth_date"]).fill("05.11.1984")
    form.get_by_label(UZ["patients.phone"]).fill("+998 90 123 45 67")
    form.get_by_label(UZ["patients.email"]).fill("zebiniso@")
    form.get_by_label(UZ["flag.allergies"]).check()
    form.get_by_label(UZ["flag.anticoagulants"]).check()
    form.get_by_role("button", name=UZ["patients.save"]).click()
    email = form.get_by_label(UZ["patients.email"])
    expect(desk.locator("#form-error")).to_contain_text("e-mail", timeout=LIVE)
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(email).to_be_focused()
    expect(form.get_by_label(UZ["patients.last_name"])).to_have_value(LAST)
    expect(form.get_by_label(UZ["flag.allergies"])).to_be_checked()
    email.fill("zebiniso@example.uz")
    form.get_by_role("button", name=UZ["patients.save"]).click()

    # The new card: its number, name and risk flags as words.
    expect(desk.locator("#number")).to_have_text("P-000001", timeout=LIVE)
    expect(desk.locator("#name")).to_have_text(f"{LAST} {FIRST}")
    expect(desk.locator("#risks .risk")).to_have_text(
        [UZ["flag.allergies"], UZ["flag.anticoagulants"]]
    )

    # Found again by the phone typed the way people say it.
    desk.get_by_role("link", name=UZ["staff.menu_patients"]).click()
    search = desk.get_by_label(UZ["patients.search_label"])
    search.fill("90 123-45-67")
    row = desk.locator("#results tr")
    expect(row).to_have_count(1, timeout=LIVE)
    expect(row).to_contain_text("P-000001")
    expect(row).to_contain_text(f"{LAST} {FIRST}")
    search.press("Enter")
    expect(desk.locator("#name")).to_have_text(f"{LAST} {FIRST}", timeout=LIVE)

    # A patient takes a ticket at the kiosk and skips the phone step.
    kiosk = devices.open(f"/kiosk/{KIOSK_ID}", KIOSK)
    label = take_ticket(kiosk)
    kiosk.get_by_role("button", name=UZ["kiosk.phone_offer"]).tap()
    expect(kiosk.locator("#phone-step")).to_be_visible()
    kiosk.get_by_role("button", name=UZ["kiosk.phone_skip"]).tap()
    expect(kiosk.locator("#phone-step")).to_be_hidden()
    kiosk.get_by_role("button", name=UZ["kiosk.done"]).tap()

    # Reception links that ticket to the card from the day's queue.
    desk.get_by_role("link", name=UZ["staff.menu_today"]).click()
    ticket_row = desk.locator(f'#tickets tr[data-ticket="{label}"]')
    ticket_row.get_by_role("button", name=UZ["patients.link"]).click(timeout=LIVE)
    dialog = desk.locator("#link-dialog")
    dialog.get_by_label(UZ["patients.search_label"]).fill("Кодирова")
    dialog.get_by_label(UZ["patients.search_label"]).press("Enter")
    dialog.get_by_role("button", name=UZ["patients.link_choose"]).click(timeout=LIVE)
    expect(desk.locator("#notice")).to_have_text(
        UZ["patients.linked"].format(ticket=label, number="P-000001"), timeout=LIVE
    )
    expect(ticket_row.locator(".patient-link")).to_have_text(
        f"P-000001 · {LAST} {FIRST}", timeout=LIVE
    )

    # The dentist calls it: the tablet shows who it is and the risks, in words.
    display = devices.open("/display/", DISPLAY)
    tablet = devices.open("/dentist/", TABLET)
    answer = tablet.request.post(
        hub.url + "/api/v1/dentist/login",
        data={"dentist": "karimova", "pin": hub.credentials()["karimova"]},
    )
    assert answer.ok, answer.text()
    tablet.goto(hub.url + "/dentist/")
    tablet.locator('[data-action="call-next"]').tap()
    expect(tablet.locator("#current-number")).to_have_text(label, timeout=LIVE)
    patient = tablet.locator("#current-patient")
    expect(patient).to_be_visible(timeout=LIVE)
    expect(tablet.locator("#patient-name")).to_have_text(f"{LAST} {FIRST}")
    expect(patient.locator(".risk")).to_have_text(
        [UZ["flag.allergies"], UZ["flag.anticoagulants"]]
    )
    # The patient sits beside the number: Call next does not move for it.
    call_next = tablet.locator('[data-action="call-next"]')
    with_patient = call_next.bounding_box()
    patient.evaluate("box => { box.hidden = true; }")
    assert call_next.bounding_box() == with_patient
    patient.evaluate("box => { box.hidden = false; }")
    expect(display.locator("#call-number")).to_have_text(label, timeout=LIVE)
    assert LAST not in display.locator("body").inner_text()

    # A second visit: the patient links it at the kiosk by typing their phone.
    second = take_ticket(kiosk)
    kiosk.get_by_role("button", name=UZ["kiosk.phone_offer"]).tap()
    pad = kiosk.locator("#phone-pad")
    for digit in "901234567":
        pad.locator(f'[data-digit="{digit}"]').tap()
    expect(kiosk.locator("#phone-number")).to_have_text("+998 90 123 45 67")
    kiosk.get_by_role("button", name=UZ["kiosk.phone_send"]).tap()
    expect(kiosk.locator("#phone-thanks")).to_have_text(UZ["kiosk.phone_thanks"])
    assert LAST not in kiosk.locator("body").inner_text()
    second_row = desk.locator(f'#tickets tr[data-ticket="{second}"]')
    expect(second_row.locator(".patient-link")).to_have_text(
        f"P-000001 · {LAST} {FIRST}", timeout=2 * LIVE
    )

    assert devices.recorder.outside() == []
    assert devices.errors == []
