"""The pages in a real browser against a real hub process (eventlet, as in
production): kiosk, waiting-room display, dentist tablet and phone together.

Every expected text comes from config.toml and server/translations, so a
reworded string does not break these tests; a broken page does.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from playwright.sync_api import Browser, Page, expect

from server import i18n
from tests.browser import Recorder
from tests.conftest import HubProcess, base_raw_config, start_hub

pytestmark = pytest.mark.browser

KIOSK = {"width": 1080, "height": 1920}
DISPLAY = {"width": 1920, "height": 1080}
TABLET = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}

# Milliseconds: long enough for a loaded CI machine, never a sleep.
QUICK = 5_000
LIVE = 10_000
RECOVER = 20_000

CONFIG = base_raw_config()
SERVICES = {service["id"]: service for service in CONFIG["services"]}
ROOMS = {room["id"]: room for room in CONFIG["rooms"]}
DENTISTS = {dentist["id"]: dentist for dentist in CONFIG["dentists"]}
KIOSK_ID = CONFIG["kiosks"][0]["id"]


def _strings(lang: str) -> dict:
    """One language's catalog as nested tables: UZ["kiosk"]["greeting"]."""
    nested: dict = {}
    for key, text in i18n.catalog(lang).items():
        *sections, name = key.split(".")
        table = nested
        for section in sections:
            table = table.setdefault(section, {})
        table[name] = text
    return nested


UZ = _strings("uz")
RU = _strings("ru")


def room_name(dentist_id: str, lang: str = "uz") -> str:
    return ROOMS[DENTISTS[dentist_id]["room"]]["name"][lang]


# -- fixtures --------------------------------------------------------------------------


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[HubProcess]:
    """A hub process in eventlet mode, the production mode."""
    process = start_hub(tmp_path, "eventlet")
    yield process
    process.stop()


class Surfaces:
    """Open pages, each in its own browser context, as separate devices are."""

    def __init__(self, browser: Browser, hub: HubProcess):
        self.browser = browser
        self.hub = hub
        self.recorder = Recorder()
        self.errors: list[str] = []
        self.contexts = []

    def open(self, path: str, viewport: dict, *, mobile: bool = False) -> Page:
        context = self.browser.new_context(
            viewport=viewport,
            has_touch=True,
            is_mobile=mobile,
            locale="uz-UZ",
            timezone_id="Asia/Tashkent",
        )
        self.contexts.append(context)
        self.recorder.watch(context)
        page = context.new_page()
        page.on("pageerror", lambda error: self.errors.append(f"{path}: {error}"))
        url = path if path.startswith("http") else self.hub.url + path
        page.goto(url)
        # A marker that a reload would wipe: the pages must stay live without one.
        page.evaluate("window.__navbatNoReload = true")
        return page

    def close(self) -> None:
        for context in self.contexts:
            context.close()

    def check_clean(self) -> None:
        """No request left 127.0.0.1 and no page threw."""
        urls = self.recorder.urls
        assert urls, "no request was recorded"
        assert any(urlsplit(url).scheme == "ws" for url in urls), urls
        assert self.recorder.outside() == []
        assert self.errors == []


@pytest.fixture
def surfaces(chromium: Browser, hub: HubProcess) -> Iterator[Surfaces]:
    opened = Surfaces(chromium, hub)
    yield opened
    opened.close()


def not_reloaded(page: Page) -> bool:
    return page.evaluate("window.__navbatNoReload === true")


# -- the hub's API, for the steps a test does not drive through a page -----------------


def api_session() -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # never a proxy: every request stays on loopback
    return session


def waiting_counts(hub: HubProcess) -> dict[str, int]:
    answer = api_session().get(hub.url + "/api/v1/queue", timeout=5)
    answer.raise_for_status()
    return answer.json()["waiting"]


def issue(hub: HubProcess, service: str, lang: str = "uz") -> dict:
    answer = api_session().post(
        hub.url + "/api/v1/tickets",
        json={"service": service, "kiosk": KIOSK_ID, "lang": lang},
        timeout=5,
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


def dentist_api(hub: HubProcess, dentist: str = "karimova") -> requests.Session:
    session = api_session()
    answer = session.post(
        hub.url + "/api/v1/dentist/login",
        json={"dentist": dentist, "pin": hub.credentials()[dentist]},
        timeout=5,
    )
    assert answer.ok, answer.text
    session.headers["X-CSRF-Token"] = answer.json()["csrf"]
    return session


def dentist_act(hub: HubProcess, session: requests.Session, action: str) -> dict:
    answer = session.post(hub.url + f"/api/v1/dentist/{action}", json={}, timeout=5)
    assert answer.ok, answer.text
    return answer.json()["ticket"]


# -- page steps ------------------------------------------------------------------------


def tile(kiosk: Page, service: str, lang: str = "uz"):
    return kiosk.get_by_role("button", name=SERVICES[service]["name"][lang])


def expect_live(page: Page) -> None:
    expect(page.locator("#dot")).to_have_attribute("data-state", "up", timeout=LIVE)


def expect_qr_loaded(kiosk: Page) -> None:
    kiosk.wait_for_function(
        """() => {
            const img = document.getElementById("result-qr");
            return img.complete && img.naturalWidth > 0;
        }""",
        timeout=QUICK,
    )


def display_waiting(display: Page, service: str):
    name = SERVICES[service]["name"]["uz"]
    label = f"{SERVICES[service]['prefix']} · {name}"
    return display.locator("#waiting li").filter(has_text=label).locator("b")


def sign_in(tablet: Page, dentist: str, pin: str) -> None:
    tablet.get_by_role("button", name=DENTISTS[dentist]["name"]).tap()
    pad = tablet.locator("#pin-pad")
    expect(pad).to_be_visible()
    for digit in pin:
        pad.get_by_role("button", name=digit, exact=True).tap()
    expect(tablet.locator("#pin-dots")).to_have_text("•" * len(pin))
    pad.get_by_role("button", name=UZ["dentist"]["sign_in"]).tap()
    expect(tablet.locator("#dentist-name")).to_have_text(
        DENTISTS[dentist]["name"], timeout=LIVE
    )


# -- 1. the main job, end to end -------------------------------------------------------


def test_ticket_from_kiosk_to_dentist(surfaces: Surfaces, hub: HubProcess):
    kiosk = surfaces.open(f"/kiosk/{KIOSK_ID}", KIOSK)
    display = surfaces.open("/display/", DISPLAY)
    tablet = surfaces.open("/dentist/", TABLET)
    checkup = SERVICES["checkup"]
    room = room_name("karimova")

    # The dentist signs in first, so the ticket has to reach the tablet live.
    sign_in(tablet, "karimova", hub.credentials()["karimova"])
    expect(tablet.locator("#room")).to_have_text(room)
    expect(tablet.locator("#waiting-empty")).to_be_visible()
    for page in (kiosk, display, tablet):
        expect_live(page)
    expect(display_waiting(display, "checkup")).to_have_text("0")

    # The patient taps a tile and gets a number, a QR code and an OK button.
    tile(kiosk, "checkup").tap()
    result = kiosk.locator("#result")
    expect(result).to_be_visible(timeout=LIVE)
    expect(kiosk.locator("#start")).to_be_hidden()
    expect(kiosk.locator("#result-label")).to_have_text(UZ["kiosk"]["your_number"])
    expect(kiosk.locator("#result-number")).to_have_text("A-001")
    expect(kiosk.locator("#result-service")).to_have_text(checkup["name"]["uz"])
    expect(kiosk.locator("#result-ahead")).to_have_text(UZ["kiosk"]["ahead_none"])
    expect_qr_loaded(kiosk)
    kiosk.get_by_role("button", name=UZ["kiosk"]["done"]).tap()
    expect(kiosk.locator("#start")).to_be_visible()
    expect(result).to_be_hidden()
    expect(tile(kiosk, "checkup")).to_be_enabled()
    expect(tile(kiosk, "checkup")).to_contain_text(
        UZ["kiosk"]["waiting_count"].format(count=1), timeout=LIVE
    )

    # The waiting room and the tablet see it without a reload.
    expect(display_waiting(display, "checkup")).to_have_text("1", timeout=LIVE)
    waiting = tablet.locator("#waiting li")
    expect(waiting).to_have_count(1, timeout=LIVE)
    expect(waiting.first.locator(".waiting-number")).to_have_text("A-001")
    expect(tablet.locator("#waiting-empty")).to_be_hidden()

    # Call next: the display's main area shows the number and the room.
    buttons = {
        action: tablet.locator(f'[data-action="{action}"]')
        for action in ("call-next", "recall", "start", "done", "no-show")
    }
    expect(buttons["start"]).to_be_disabled()
    buttons["call-next"].tap()
    expect(display.locator("#call-number")).to_have_text("A-001", timeout=LIVE)
    expect(display.locator("#call-room")).to_have_text(room)
    expect(display.locator("#call")).not_to_have_attribute("data-state", "idle")
    expect(display.locator("#call-number")).to_be_visible()
    expect(display_waiting(display, "checkup")).to_have_text("0", timeout=LIVE)

    current = tablet.locator("#current")
    expect(current).to_have_attribute("data-state", "called", timeout=LIVE)
    expect(tablet.locator("#current-number")).to_have_text("A-001")
    expect(tablet.locator("#current-service")).to_have_text(checkup["name"]["uz"])
    expect(tablet.locator("#current-state")).to_have_text(UZ["state"]["called"])
    expect(buttons["call-next"]).to_be_disabled()
    expect(tablet.locator("#waiting-empty")).to_be_visible(timeout=LIVE)

    buttons["start"].tap()
    expect(current).to_have_attribute("data-state", "serving", timeout=LIVE)
    expect(tablet.locator("#current-state")).to_have_text(UZ["state"]["serving"])
    expect(buttons["start"]).to_be_disabled()

    buttons["done"].tap()
    expect(current).to_have_attribute("data-state", "none", timeout=LIVE)
    expect(tablet.locator("#current-none")).to_be_visible()
    expect(buttons["call-next"]).to_be_enabled()

    # Nobody is left: the hub refuses, and the tablet says why in one line.
    error = tablet.locator("#error")
    expect(error).to_be_hidden()
    buttons["call-next"].tap()
    expect(error).to_be_visible(timeout=LIVE)
    expect(error).to_have_text(UZ["error"]["nobody_waiting"])
    expect(buttons["call-next"]).to_be_enabled()

    # The display keeps the last call; nothing was reloaded.
    expect(display.locator("#call-number")).to_have_text("A-001")
    assert not_reloaded(kiosk) and not_reloaded(display)
    surfaces.check_clean()


# -- 2. the kiosk's language switch ----------------------------------------------------


def test_kiosk_language_switch(surfaces: Surfaces, hub: HubProcess):
    kiosk = surfaces.open(f"/kiosk/{KIOSK_ID}", KIOSK)
    expect(kiosk.locator("#greeting")).to_have_text(UZ["kiosk"]["greeting"])
    expect_live(kiosk)

    russian = kiosk.get_by_role("button", name="Русский")
    russian.tap()
    expect(russian).to_have_attribute("aria-pressed", "true")
    expect(kiosk.locator("html")).to_have_attribute("lang", "ru")
    expect(kiosk.locator("#greeting")).to_have_text(RU["kiosk"]["greeting"])
    expect(kiosk.locator("#choose")).to_have_text(RU["kiosk"]["choose_service"])
    names = kiosk.locator(".kiosk-tile-name")
    expect(names).to_have_text([s["name"]["ru"] for s in SERVICES.values()])

    tile(kiosk, "checkup", "ru").tap()
    expect(kiosk.locator("#result")).to_be_visible(timeout=LIVE)
    expect(kiosk.locator("#result-label")).to_have_text(RU["kiosk"]["your_number"])
    expect(kiosk.locator("#result-number")).to_have_text("A-001")
    expect(kiosk.locator("#result-service")).to_have_text(
        SERVICES["checkup"]["name"]["ru"]
    )
    expect(kiosk.locator("#result-qr-hint")).to_have_text(RU["kiosk"]["qr_hint"])

    # The ticket itself is Russian: its phone page opens in Russian.
    phone_url = kiosk.locator("#result-qr").get_attribute("alt")
    phone_html = api_session().get(phone_url, timeout=5).text
    assert '<html lang="ru">' in phone_html

    kiosk.get_by_role("button", name=RU["kiosk"]["done"]).tap()
    expect(kiosk.locator("#start")).to_be_visible()
    expect(kiosk.locator("html")).to_have_attribute("lang", "uz")
    expect(kiosk.locator("#greeting")).to_have_text(UZ["kiosk"]["greeting"])
    expect(names).to_have_text([s["name"]["uz"] for s in SERVICES.values()])
    expect(kiosk.get_by_role("button", name="Oʻzbekcha")).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(russian).to_have_attribute("aria-pressed", "false")
    surfaces.check_clean()


# -- 3. the phone page -----------------------------------------------------------------


def test_phone_follows_ticket_until_called(surfaces: Surfaces, hub: HubProcess):
    issue(hub, "checkup")  # someone ahead
    kiosk = surfaces.open(f"/kiosk/{KIOSK_ID}", KIOSK)
    tile(kiosk, "checkup").tap()
    expect(kiosk.locator("#result-number")).to_have_text("A-002", timeout=LIVE)
    phone_url = kiosk.locator("#result-qr").get_attribute("alt")
    assert re.fullmatch(re.escape(hub.url) + r"/t/[\w-]+", phone_url), phone_url

    phone = surfaces.open(phone_url, PHONE, mobile=True)
    expect(phone.locator(".phone-number")).to_have_text("A-002")
    expect(phone.locator("#service")).to_have_text(SERVICES["checkup"]["name"]["uz"])
    expect(phone.locator("#position")).to_have_text(
        UZ["phone"]["ahead_one"], timeout=LIVE
    )
    expect(phone.locator("#turn")).to_be_hidden()
    expect_live(phone)

    dentist = dentist_api(hub)
    assert dentist_act(hub, dentist, "call-next")["label"] == "A-001"
    expect(phone.locator("#position")).to_have_text(UZ["phone"]["next"], timeout=LIVE)
    expect(phone.locator("#turn")).to_be_hidden()

    dentist_act(hub, dentist, "done")
    assert dentist_act(hub, dentist, "call-next")["label"] == "A-002"
    turn = phone.locator("#turn")
    expect(turn).to_be_visible(timeout=LIVE)
    expect(turn.locator(".phone-turn-title")).to_have_text(UZ["phone"]["your_turn"])
    expect(turn.locator(".phone-turn-number")).to_have_text("A-002")
    expect(phone.locator("#turn-room")).to_have_text(room_name("karimova"))
    # Full screen: the "your turn" panel covers the phone's whole viewport.
    box = turn.bounding_box()
    assert box is not None
    assert box["width"] >= PHONE["width"] - 1 and box["height"] >= PHONE["height"] - 1
    assert not_reloaded(phone)
    surfaces.check_clean()


# -- 4. the display resyncs after the hub restarts -------------------------------------


def test_display_recovers_after_hub_restart(surfaces: Surfaces, hub: HubProcess):
    display = surfaces.open("/display/", DISPLAY)
    expect_live(display)
    issue(hub, "checkup")
    dentist_act(hub, dentist_api(hub), "call-next")
    number, room = display.locator("#call-number"), display.locator("#call-room")
    expect(number).to_have_text("A-001", timeout=LIVE)
    expect(room).to_have_text(room_name("karimova"))

    hub.stop()
    dot = display.locator("#dot")
    expect(dot).to_have_attribute("data-state", "down", timeout=LIVE)
    # Wipe the call area while the hub is away: only a fresh snapshot from the
    # restarted hub (its last call comes from SQLite) can fill it in again.
    display.evaluate(
        """() => {
            document.getElementById("call-number").textContent = "";
            document.getElementById("call-room").textContent = "";
        }"""
    )

    hub.start()
    expect(dot).to_have_attribute("data-state", "up", timeout=RECOVER)
    expect(number).to_have_text("A-001", timeout=LIVE)
    expect(room).to_have_text(room_name("karimova"))

    # Live updates flow again under the restarted hub's new epoch.
    issue(hub, "hygiene")
    expect(display_waiting(display, "hygiene")).to_have_text("1", timeout=LIVE)
    assert not_reloaded(display)
    surfaces.check_clean()


# -- 5. a double tap gives one ticket --------------------------------------------------


def test_double_tap_issues_one_ticket(surfaces: Surfaces, hub: HubProcess):
    kiosk = surfaces.open(f"/kiosk/{KIOSK_ID}", KIOSK)
    expect_live(kiosk)
    posts: list[str] = []
    kiosk.on(
        "request",
        lambda r: posts.append(r.url) if r.method == "POST" else None,
    )

    tile(kiosk, "checkup").dblclick()
    expect(kiosk.locator("#result-number")).to_have_text("A-001", timeout=LIVE)
    kiosk.get_by_role("button", name=UZ["kiosk"]["done"]).tap()

    # Two clicks in the same task, as a bouncing finger on a fast panel.
    tile(kiosk, "hygiene").evaluate("tile => { tile.click(); tile.click(); }")
    expect(kiosk.locator("#result-number")).to_have_text("D-001", timeout=LIVE)
    kiosk.get_by_role("button", name=UZ["kiosk"]["done"]).tap()
    expect(tile(kiosk, "hygiene")).to_contain_text(
        UZ["kiosk"]["waiting_count"].format(count=1), timeout=LIVE
    )

    assert posts == [hub.url + "/api/v1/tickets"] * 2
    counts = waiting_counts(hub)
    assert counts.get("checkup") == 1 and counts.get("hygiene") == 1
    assert sum(counts.values()) == 2
    surfaces.check_clean()
