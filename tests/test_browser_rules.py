"""The queue rules in a real browser against a real hub process: urgent and
priority tickets from the kiosk, the tablet's break and transfer, leaving from
the phone, and reception putting a no-show back in line.

Expected words come from config.toml and server/translations, as in
test_browser.py, whose helpers these tests share.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Page, expect

from server import i18n
from server.config import WEEKDAYS
from tests.conftest import HubProcess, base_raw_config, start_hub
from tests.test_browser import (
    DENTISTS,
    DISPLAY,
    KIOSK,
    KIOSK_ID,
    LIVE,
    PHONE,
    SERVICES,
    TABLET,
    UZ,
    Surfaces,
    api_session,
    dentist_act,
    dentist_api,
    display_waiting,
    expect_live,
    issue,
    room_name,
    tile,
)

pytestmark = pytest.mark.browser

DESK = {"width": 1440, "height": 900}
EN = i18n.catalog("en")


def hygiene_closed_today() -> list[dict]:
    """The demo's services, open all day, but teeth cleaning not today."""
    raw = base_raw_config()
    today = WEEKDAYS[datetime.now(ZoneInfo(raw["clinic"]["timezone"])).weekday()]
    services = []
    for service in raw["services"]:
        days = [d for d in WEEKDAYS if service["id"] != "hygiene" or d != today]
        services.append(dict(service, opens="00:00", closes="24:00", days=days))
    return services


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[HubProcess]:
    process = start_hub(tmp_path, "eventlet")
    yield process
    process.stop()


@pytest.fixture
def surfaces(chromium: Browser, hub: HubProcess) -> Iterator[Surfaces]:
    opened = Surfaces(chromium, hub)
    yield opened
    opened.close()


@pytest.fixture
def hygiene_closed(chromium: Browser, tmp_path: Path) -> Iterator[Surfaces]:
    """Pages of a hub whose teeth cleaning is not offered today."""
    process = start_hub(tmp_path, "eventlet", services=hygiene_closed_today())
    opened = Surfaces(chromium, process)
    yield opened
    opened.close()
    process.stop()


# -- steps -----------------------------------------------------------------------------


def open_signed_in(surfaces: Surfaces, path: str, viewport: dict, login: dict) -> Page:
    """Open a staff page already signed in, as a device kept from the morning."""
    page = surfaces.open(path, viewport)
    kind = "dentist" if "dentist" in login else "staff"
    answer = page.request.post(f"{surfaces.hub.url}/api/v1/{kind}/login", data=login)
    assert answer.ok, answer.text()
    page.goto(surfaces.hub.url + path)
    page.evaluate("window.__navbatNoReload = true")
    expect_live(page)
    return page


def open_tablet(surfaces: Surfaces, dentist: str) -> Page:
    pin = surfaces.hub.credentials()[dentist]
    login = {"dentist": dentist, "pin": pin}
    tablet = open_signed_in(surfaces, "/dentist/", TABLET, login)
    expect(tablet.locator("#room")).to_have_text(room_name(dentist))
    return tablet


def open_desk(surfaces: Surfaces) -> Page:
    password = surfaces.hub.credentials()["admin"]
    login = {"username": "admin", "password": password}
    return open_signed_in(surfaces, "/reception/", DESK, login)


def before(template: str) -> str:
    """The fixed words of a catalog message up to its first placeholder."""
    return template.split("{", 1)[0]


def band_text(band: list[int]) -> str:
    common = UZ["common"]
    if band[0] == 0:
        return common["wait_under"].format(high=band[1])
    return common["wait_band"].format(low=band[0], high=band[1])


def waiting_item(tablet: Page, label: str):
    return tablet.locator("#waiting li").filter(
        has=tablet.locator(".waiting-number", has_text=label)
    )


def back_to_start(kiosk: Page) -> None:
    kiosk.get_by_role("button", name=UZ["kiosk"]["done"]).tap()
    expect(kiosk.locator("#start")).to_be_visible()


# -- the kiosk's urgent tile and priority toggle ---------------------------------------


def test_urgent_ticket_is_called_before_an_earlier_one(
    surfaces: Surfaces, hub: HubProcess
):
    kiosk = surfaces.open(f"/kiosk/{KIOSK_ID}", KIOSK)
    tablet = open_tablet(surfaces, "yusupov")  # extraction and check-up
    expect_live(kiosk)

    # Each service tile shows its wait band, from GET /services.
    wait = kiosk.locator(".kiosk-tile-wait").first
    expect(wait).to_have_text(
        re.compile("^" + re.escape(before(UZ["kiosk"]["tile_wait"])))
    )

    tile(kiosk, "extraction").tap()
    expect(kiosk.locator("#result-number")).to_have_text("C-001", timeout=LIVE)
    expect(kiosk.locator("#result-wait")).to_contain_text(
        before(UZ["kiosk"]["result_wait"])
    )
    back_to_start(kiosk)

    urgent = kiosk.get_by_role("button", name=UZ["kiosk"]["urgent"])
    expect(urgent).to_contain_text(UZ["kiosk"]["urgent"])  # a word, not colour alone
    urgent.tap()
    expect(kiosk.locator("#result-number")).to_have_text("C-002", timeout=LIVE)
    expect(kiosk.locator("#result-service")).to_have_text(
        SERVICES["extraction"]["name"]["uz"]
    )
    back_to_start(kiosk)

    # The tablet lists the emergency first, marked by a word, and calls it first.
    numbers = tablet.locator("#waiting .waiting-number")
    expect(numbers).to_have_text(["C-002", "C-001"], timeout=LIVE)
    expect(waiting_item(tablet, "C-002").locator(".priority")).to_have_text(
        UZ["priority"]["emergency"]
    )
    expect(waiting_item(tablet, "C-001").locator(".priority")).to_be_hidden()
    tablet.locator('[data-action="call-next"]').tap()
    expect(tablet.locator("#current-number")).to_have_text("C-002", timeout=LIVE)
    expect(numbers).to_have_text(["C-001"], timeout=LIVE)
    surfaces.check_clean()


def test_priority_toggle_gives_a_priority_ticket(surfaces: Surfaces, hub: HubProcess):
    issue(hub, "checkup")  # A-001, a walk-in who came first
    kiosk = surfaces.open(f"/kiosk/{KIOSK_ID}", KIOSK)
    tablet = open_tablet(surfaces, "karimova")
    expect_live(kiosk)

    toggle = kiosk.get_by_role("button", name=UZ["kiosk"]["priority"])
    expect(toggle).to_have_attribute("aria-pressed", "false")
    toggle.tap()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    expect(toggle).to_contain_text(UZ["kiosk"]["priority_on"])
    tile(kiosk, "checkup").tap()
    expect(kiosk.locator("#result-number")).to_have_text("A-002", timeout=LIVE)
    back_to_start(kiosk)
    expect(toggle).to_have_attribute("aria-pressed", "false")  # the next patient's

    # A second tap takes it back: the next ticket is a normal one.
    toggle.tap()
    toggle.tap()
    expect(toggle).to_have_attribute("aria-pressed", "false")
    expect(toggle).to_contain_text(UZ["kiosk"]["priority_off"])
    tile(kiosk, "treatment").tap()
    expect(kiosk.locator("#result-number")).to_have_text("B-001", timeout=LIVE)
    back_to_start(kiosk)

    numbers = tablet.locator("#waiting .waiting-number")
    expect(numbers).to_have_text(["A-002", "A-001", "B-001"], timeout=LIVE)
    expect(waiting_item(tablet, "A-002").locator(".priority")).to_have_text(
        UZ["priority"]["priority"]
    )
    for label in ("A-001", "B-001"):
        expect(waiting_item(tablet, label).locator(".priority")).to_be_hidden()
    surfaces.check_clean()


def test_a_closed_service_says_why(hygiene_closed: Surfaces):
    surfaces = hygiene_closed
    kiosk = surfaces.open(f"/kiosk/{KIOSK_ID}", KIOSK)
    expect_live(kiosk)

    closed = tile(kiosk, "hygiene")
    expect(closed).to_be_disabled(timeout=LIVE)
    expect(closed).to_contain_text(UZ["error"]["service_closed_today"])
    expect(tile(kiosk, "checkup")).to_be_enabled()

    # The reason follows the patient's language.
    kiosk.get_by_role("button", name="English").tap()
    expect(tile(kiosk, "hygiene", "en")).to_contain_text(
        EN["error.service_closed_today"], timeout=LIVE
    )
    surfaces.check_clean()


# -- the tablet's break and transfer ----------------------------------------------


def test_pause_closes_the_room_on_the_display(surfaces: Surfaces, hub: HubProcess):
    issue(hub, "checkup")
    display = surfaces.open("/display/", DISPLAY)
    tablet = open_tablet(surfaces, "karimova")
    expect_live(display)
    call_next = tablet.locator('[data-action="call-next"]')
    pause = tablet.locator("#pause")
    closed = display.locator("#closed")
    expect(call_next).to_be_enabled()
    expect(closed).to_be_hidden()

    expect(pause).to_have_text(UZ["dentist"]["pause"])
    pause.tap()
    expect(tablet.locator("#break")).to_be_visible(timeout=LIVE)
    expect(tablet.locator("#break")).to_contain_text(UZ["dentist"]["on_break"])
    expect(pause).to_have_text(UZ["dentist"]["resume"])
    expect(call_next).to_be_disabled()
    expect(closed).to_have_text(
        UZ["display"]["room_closed"].format(room=room_name("karimova")), timeout=LIVE
    )

    # Picking a patient from the list makes no sense on a break either.
    waiting_item(tablet, "A-001").locator(".waiting-item").tap()
    expect(
        tablet.get_by_role("button", name=UZ["dentist"]["call_this"])
    ).to_be_disabled()

    pause.tap()
    expect(tablet.locator("#break")).to_be_hidden(timeout=LIVE)
    expect(pause).to_have_text(UZ["dentist"]["pause"])
    expect(closed).to_be_hidden(timeout=LIVE)
    call_this = tablet.get_by_role("button", name=UZ["dentist"]["call_this"])
    expect(call_this).to_be_enabled()
    call_this.tap()
    expect(tablet.locator("#current-number")).to_have_text("A-001", timeout=LIVE)
    expect(display.locator("#call-number")).to_have_text("A-001", timeout=LIVE)
    expect(pause).to_be_disabled()  # a break waits until the patient is done
    surfaces.check_clean()


def test_transfer_moves_the_patient_to_another_dentist(
    surfaces: Surfaces, hub: HubProcess
):
    token = issue(hub, "checkup")["ticket"]["token"]
    karimova = open_tablet(surfaces, "karimova")
    rahimov = open_tablet(surfaces, "rahimov")
    phone = surfaces.open(f"/t/{token}", PHONE, mobile=True)
    transfer = karimova.locator("#transfer")
    expect(transfer).to_be_disabled()  # nobody to transfer yet
    expect(waiting_item(rahimov, "A-001")).to_have_count(1)

    karimova.locator('[data-action="call-next"]').tap()
    expect(karimova.locator("#current-number")).to_have_text("A-001", timeout=LIVE)
    expect(waiting_item(rahimov, "A-001")).to_have_count(0, timeout=LIVE)
    transfer.tap()

    dialog = karimova.locator("#transfer-dialog")
    expect(dialog).to_be_visible()
    submit = dialog.get_by_role("button", name=UZ["dentist"]["transfer_submit"])
    expect(submit).to_be_disabled()  # a service first
    dialog.get_by_role("button", name=SERVICES["treatment"]["name"]["uz"]).tap()
    rahimov_name = DENTISTS["rahimov"]["name"]
    dialog.get_by_role("button", name=rahimov_name).tap()
    expect(dialog.get_by_role("button", name=rahimov_name)).to_have_attribute(
        "aria-pressed", "true"
    )
    submit.tap()
    expect(dialog).to_be_hidden(timeout=LIVE)
    expect(karimova.locator("#notice")).to_contain_text(rahimov_name)
    expect(karimova.locator("#current")).to_have_attribute("data-state", "none")

    # Reserved for Dr Rahimov: in his list, with the new service, not in hers.
    moved = waiting_item(rahimov, "A-001")
    expect(moved).to_have_count(1, timeout=LIVE)
    expect(moved.locator(".waiting-service")).to_have_text(
        SERVICES["treatment"]["name"]["uz"]
    )
    expect(karimova.locator("#waiting-empty")).to_be_visible()

    # The patient's phone follows the ticket into its new line.
    treatment = SERVICES["treatment"]["name"]["uz"]
    expect(phone.locator("#service")).to_have_text(treatment, timeout=LIVE)
    expect(phone.locator("#turn")).to_be_hidden()
    expect(phone.locator("#wait")).to_be_visible(timeout=LIVE)
    expect_live(phone)
    answer = api_session().post(
        f"{hub.url}/api/v1/tickets",
        json={"service": "treatment", "kiosk": KIOSK_ID, "priority": "priority"},
        timeout=5,
    )
    assert answer.status_code == 201, answer.text
    expect(phone.locator("#position")).to_have_text(
        UZ["phone"]["ahead_one"], timeout=LIVE
    )
    surfaces.check_clean()


# -- the phone: the wait band, and leaving ---------------------------------------------


def test_phone_shows_the_wait_and_can_leave(surfaces: Surfaces, hub: HubProcess):
    issue(hub, "checkup")
    token = issue(hub, "checkup")["ticket"]["token"]
    display = surfaces.open("/display/", DISPLAY)
    phone = surfaces.open(f"/t/{token}", PHONE, mobile=True)
    expect_live(phone)
    expect(display_waiting(display, "checkup")).to_have_text("2", timeout=LIVE)

    def api_wait() -> str:
        answer = api_session().get(f"{hub.url}/api/v1/tickets/{token}", timeout=5)
        return UZ["phone"]["wait"].format(
            band=band_text(answer.json()["ticket"]["wait"])
        )

    wait = phone.locator("#wait")
    expect(wait).to_have_text(api_wait(), timeout=LIVE)

    # The line moves: the phone's place and wait follow from the "line" event.
    dentist_act(hub, dentist_api(hub), "call-next")
    expect(phone.locator("#position")).to_have_text(UZ["phone"]["next"], timeout=LIVE)
    expect(wait).to_have_text(api_wait(), timeout=LIVE)
    expect(display_waiting(display, "checkup")).to_have_text("1", timeout=LIVE)

    # Leaving asks first; "No" keeps the ticket.
    leave = phone.get_by_role("button", name=UZ["phone"]["leave"])
    leave.tap()
    confirm = phone.locator("#leave-confirm")
    expect(confirm).to_be_visible()
    expect(confirm).to_contain_text("A-002")
    phone.get_by_role("button", name=UZ["phone"]["leave_no"]).tap()
    expect(confirm).to_be_hidden()
    expect(leave).to_be_visible()

    leave.tap()
    phone.get_by_role("button", name=UZ["phone"]["leave_yes"]).tap()
    expect(phone.locator("#closed")).to_have_text(
        UZ["phone"]["cancelled"], timeout=LIVE
    )
    expect(phone.locator("#leave")).to_be_hidden()
    expect(wait).to_be_hidden()
    expect(display_waiting(display, "checkup")).to_have_text("0", timeout=LIVE)
    surfaces.check_clean()


# -- reception -------------------------------------------------------------------------


def test_reception_reinstates_a_no_show(surfaces: Surfaces, hub: HubProcess):
    issue(hub, "checkup")
    dentist = dentist_api(hub)
    dentist_act(hub, dentist, "call-next")
    dentist_act(hub, dentist, "no-show")
    desk = open_desk(surfaces)

    row = desk.locator('#tickets tr[data-ticket="A-001"]')
    expect(row).to_contain_text(UZ["state"]["no_show"], timeout=LIVE)
    expect(row.get_by_role("button", name=UZ["reception"]["cancel"])).to_have_count(0)
    row.get_by_role("button", name=UZ["reception"]["reinstate"]).click()

    notice = desk.locator("#notice")
    expect(notice).to_have_text(
        UZ["reception"]["reinstated"].format(ticket="A-001"), timeout=LIVE
    )
    expect(row.locator(".state")).to_have_text(UZ["state"]["waiting"], timeout=LIVE)
    reinstate = row.get_by_role("button", name=UZ["reception"]["reinstate"])
    expect(reinstate).to_have_count(0)

    # Waiting again, its priority can change: the column says it in words.
    priority = row.get_by_role("combobox", name=UZ["reception"]["change_priority"])
    priority.select_option("emergency")
    expect(row.locator(".priority")).to_have_text(
        UZ["priority"]["emergency"], timeout=LIVE
    )
    ticket = dentist_act(hub, dentist, "call-next")
    assert ticket["label"] == "A-001" and ticket["priority"] == "emergency"
    surfaces.check_clean()
