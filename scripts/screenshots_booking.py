"""Take screenshots of the appointment pages, in every language.

Starts a throw-away hub on 127.0.0.1 in a clinic where it is about noon (so
today still has free times whatever the hour), books a few visits through the
API, and saves PNGs under var/screenshots/: the booking page on a phone, the
kiosk's check-in, reception's day and week views, and the tablet's day.
Run: `make screenshots`.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import requests
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser import CHROMIUM_FLAGS  # noqa: E402
from tests.conftest import start_hub  # noqa: E402

OUT = ROOT / "var" / "screenshots"
LANGUAGES = ("uz", "ru", "en")
PHONE = {"width": 390, "height": 844}
KIOSK = {"width": 1080, "height": 1920}
LANDSCAPE = {"width": 1920, "height": 1080}
TABLET = {"width": 1280, "height": 800}
DESK = {"width": 1366, "height": 768}
# (patient, phone, dentist, service): the first four come now, one each.
PATIENTS = [
    ("Madina Yusupova", "90 555 12 34", "karimova", "checkup"),
    ("Олег Ким", "91 222 33 44", "rahimov", "treatment"),
    ("Shahnoza Aliyeva", "93 777 66 55", "yusupov", "extraction"),
    ("Bobur Toshmatov", "94 111 00 22", "nazarova", "hygiene"),
    ("Gulnora Saidova", "97 444 55 66", "karimova", "treatment"),
]
ROOMS = {"karimova": "1", "rahimov": "2", "yusupov": "3", "nazarova": "4"}


def midday_zone() -> str:
    return f"Etc/GMT{-(12 - datetime.now(UTC).hour):+d}"


def session(base: str, path: str, **login) -> requests.Session:
    client = requests.Session()
    client.trust_env = False  # every request stays on loopback
    answer = client.post(base + path, json=login, timeout=5)
    answer.raise_for_status()
    client.headers["X-CSRF-Token"] = answer.json()["csrf"]
    return client


def seed(base: str, pins: dict[str, str], zone: ZoneInfo) -> list[str]:
    """Book today's visits (the first checked in, one later); return codes."""
    admin = session(
        base, "/api/v1/staff/login", username="admin", password=pins["admin"]
    )
    now = datetime.now(zone)
    for offset in (0, 1):
        weekday = (now + timedelta(days=offset)).weekday()
        for dentist, room in ROOMS.items():
            admin.post(
                base + "/api/v1/schedule/plans",
                json={
                    "dentist": dentist,
                    "weekday": weekday,
                    "starts": "08:00",
                    "ends": "18:00",
                    "room": room,
                    "breaks": "16:00-16:30",
                },
                timeout=5,
            ).raise_for_status()
    codes = []
    for index, (name, phone, dentist, service) in enumerate(PATIENTS):
        slot = admin.get(
            base + "/api/v1/schedule/first-free",
            params={"service": service, "dentist": dentist},
            timeout=5,
        ).json()["slot"]
        start = datetime.fromisoformat(slot["start"])
        if index == len(PATIENTS) - 1:
            start += timedelta(hours=1)  # a later visit, still booked
        answer = admin.post(
            base + "/api/v1/appointments",
            json={
                "service": service,
                "start": start.strftime("%Y-%m-%dT%H:%M"),
                "dentist": dentist,
                "patient_name": name,
                "phone": phone,
            },
            timeout=5,
        )
        if not answer.ok:
            raise RuntimeError(f"{name}: {answer.text}")
        codes.append(answer.json()["appointment"]["code"])
    checked = admin.post(base + "/api/v1/appointments/1/check-in", json={}, timeout=5)
    checked.raise_for_status()
    requests.post(
        base + "/api/v1/tickets",
        json={"service": "checkup", "kiosk": "lobby"},
        timeout=5,
    ).raise_for_status()
    return codes


def shoot(page, name: str) -> None:
    page.wait_for_timeout(700)
    page.screenshot(path=OUT / f"{name}.png")


def take_booking(browser, base: str, lang: str) -> None:
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(f"{base}/book/?lang={lang}")
    page.wait_for_selector("#slots .book-slot")
    shoot(page, f"phone-book-{lang}")
    page.click("#slots .book-slot >> nth=2")
    page.fill("input[name=patient_name]", "Dilnoza")
    page.fill("input[name=phone]", "90 123 45 67")
    shoot(page, f"phone-book-confirm-{lang}")
    page.click("#confirm-submit")
    page.wait_for_selector("#done:not([hidden])")
    shoot(page, f"phone-book-done-{lang}")
    context.close()


def take_kiosk(browser, base: str, lang: str, code: str, device="kiosk") -> None:
    page = browser.new_page(viewport=KIOSK if device == "kiosk" else LANDSCAPE)
    page.goto(f"{base}/kiosk/lobby")
    page.click(f".kiosk-lang[data-lang={lang}]")
    shoot(page, f"{device}-start-{lang}")
    page.click("#checkin-open")
    for symbol in code.replace("-", ""):
        page.click(f'#keypad button:text-is("{symbol}")')
    shoot(page, f"{device}-checkin-{lang}")
    page.click("#checkin-submit")
    page.wait_for_selector("#result:not([hidden]), #checkin-error:not([hidden])")
    shoot(page, f"{device}-checkin-result-{lang}")
    page.close()


def take_desk(browser, base: str, lang: str, pins: dict[str, str]) -> None:
    context = browser.new_context(viewport=DESK)
    page = context.new_page()
    page.request.post(
        base + "/api/v1/staff/login",
        data={"username": "admin", "password": pins["admin"]},
    )
    page.goto(f"{base}/reception/schedule?lang={lang}")
    shoot(page, f"desk-schedule-day-{lang}")
    page.select_option("#service", "treatment")
    shoot(page, f"desk-schedule-treatment-{lang}")
    page.click(".sched-free >> nth=0")
    shoot(page, f"desk-schedule-book-{lang}")
    page.keyboard.press("Escape")
    page.click("#view-week")
    shoot(page, f"desk-schedule-week-{lang}")
    page.evaluate("document.getElementById('plans-card').scrollIntoView()")
    shoot(page, f"desk-schedule-plans-{lang}")
    context.close()


def take_tablet(browser, base: str, lang: str, pins: dict[str, str]) -> None:
    context = browser.new_context(viewport=TABLET)
    page = context.new_page()
    page.request.post(
        base + "/api/v1/dentist/login",
        data={"dentist": "karimova", "pin": pins["karimova"]},
    )
    page.goto(f"{base}/dentist/?lang={lang}")
    shoot(page, f"tablet-agenda-{lang}")
    context.close()


def main() -> int:
    folder = Path(tempfile.mkdtemp(prefix="navbat-booking-shots-"))
    zone = midday_zone()
    hub = start_hub(folder, "eventlet", clinic={"timezone": zone})
    OUT.mkdir(parents=True, exist_ok=True)
    try:
        pins = hub.credentials()
        codes = seed(hub.url, pins, ZoneInfo(zone))
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=shutil.which("chromium"), args=CHROMIUM_FLAGS
            )
            for index, lang in enumerate(LANGUAGES):
                take_booking(browser, hub.url, lang)
                if lang == "en":  # then portrait shows "already checked in"
                    take_kiosk(browser, hub.url, lang, codes[3], "kiosk-landscape")
                take_kiosk(browser, hub.url, lang, codes[index + 1])
                take_desk(browser, hub.url, lang, pins)
                take_tablet(browser, hub.url, lang, pins)
            browser.close()
    finally:
        hub.stop()
        shutil.rmtree(folder, ignore_errors=True)
    print(f"appointment screenshots in {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
