"""Take a screenshot of every page at its device's size, in every language.

Starts a throw-away hub on 127.0.0.1 with a busy morning seeded through the
API (calls, a no-show, a break, priorities, a cancelled ticket, a service
closed today), then saves PNGs under var/screenshots/ for a person to look at.
Run: `make screenshots`.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import requests
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from server.config import WEEKDAYS  # noqa: E402
from tests.browser import CHROMIUM_FLAGS  # noqa: E402
from tests.conftest import base_raw_config, start_hub  # noqa: E402

OUT = ROOT / "var" / "screenshots"
LANGUAGES = ("uz", "ru", "en")
DEVICES = {
    "tv": {"width": 1920, "height": 1080},
    "kiosk": {"width": 1080, "height": 1920},
    "kiosk-landscape": {"width": 1920, "height": 1080},
    "tablet": {"width": 1280, "height": 800},
    "phone": {"width": 390, "height": 844},
    "desk": {"width": 1440, "height": 900},
}


def services_with_one_closed() -> list[dict]:
    """The demo's services, open all day, plus one not offered today."""
    raw = base_raw_config()
    services = [dict(s, opens="00:00", closes="24:00") for s in raw["services"]]
    for service in services:
        service["days"] = list(WEEKDAYS)
    zone = ZoneInfo(raw["clinic"]["timezone"])
    today = WEEKDAYS[datetime.now(zone).weekday()]
    services.append(
        {
            "id": "orthodontics",
            "prefix": "E",
            "name": {"uz": "Ortodontiya", "ru": "Ортодонтия", "en": "Orthodontics"},
            "minutes": 30,
            "opens": "09:00",
            "closes": "17:00",
            "days": [day for day in WEEKDAYS if day != today],
        }
    )
    return services


class Seeder:
    """Drive the hub through its API as kiosks, tablets and reception would."""

    def __init__(self, base: str, pins: dict[str, str]):
        self.base = base
        self.pins = pins
        self.dentists: dict[str, requests.Session] = {}
        self.staff = self._session("/api/v1/staff/login", username="admin")

    def _session(self, path: str, **login) -> requests.Session:
        session = requests.Session()
        session.trust_env = False  # never a proxy: every request stays on loopback
        secret = "password" if "username" in login else "pin"
        who = login.get("username") or login["dentist"]
        answer = session.post(self.base + path, json={**login, secret: self.pins[who]})
        answer.raise_for_status()
        session.headers["X-CSRF-Token"] = answer.json()["csrf"]
        return session

    def issue(self, service: str, lang: str = "uz", **extra) -> dict:
        body = {"service": service, "kiosk": "lobby", "lang": lang, **extra}
        answer = self.staff.post(self.base + "/api/v1/tickets", json=body)
        answer.raise_for_status()
        return answer.json()["ticket"]

    def dentist(self, dentist: str, action: str) -> None:
        if dentist not in self.dentists:
            self.dentists[dentist] = self._session(
                "/api/v1/dentist/login", dentist=dentist
            )
        answer = self.dentists[dentist].post(
            f"{self.base}/api/v1/dentist/{action}", json={}
        )
        answer.raise_for_status()

    def cancel(self, token: str) -> None:
        answer = self.staff.post(f"{self.base}/api/v1/tickets/{token}/cancel", json={})
        answer.raise_for_status()


def seed(seeder: Seeder) -> dict[str, dict[str, str]]:
    """Seed a busy morning; return phone tokens per language and state."""
    seeder.issue("checkup")
    seeder.issue("checkup")
    seeder.dentist("karimova", "call-next")  # A-001 called in room 1
    seeder.dentist("rahimov", "call-next")  # A-002 ...
    seeder.dentist("rahimov", "no-show")  # ... did not come
    seeder.dentist("rahimov", "pause")  # room 2 is closed for now
    seeder.issue("extraction", priority="emergency")
    seeder.dentist("yusupov", "call-next")  # the emergency, room 3

    tokens: dict[str, dict[str, str]] = {lang: {} for lang in LANGUAGES}
    for lang in LANGUAGES:
        tokens[lang]["waiting"] = seeder.issue("checkup", lang)["token"]
    seeder.issue("checkup", priority="priority")
    seeder.issue("treatment", priority="appointment")
    seeder.issue("checkup", priority="emergency")
    seeder.issue("treatment")
    for lang in LANGUAGES:
        token = seeder.issue("checkup", lang)["token"]
        seeder.cancel(token)
        tokens[lang]["cancelled"] = token
    # One hygiene ticket per language; nazarova calls them one by one.
    for lang in LANGUAGES:
        tokens[lang]["called"] = seeder.issue("hygiene", lang)["token"]
    return tokens


def main() -> int:
    folder = Path(tempfile.mkdtemp(prefix="navbat-shots-"))
    hub = start_hub(folder, "eventlet", services=services_with_one_closed())
    OUT.mkdir(parents=True, exist_ok=True)
    try:
        pins = hub.credentials()
        seeder = Seeder(hub.url, pins)
        tokens = seed(seeder)
        seed_patients(seeder)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=shutil.which("chromium"), args=CHROMIUM_FLAGS
            )
            for lang in LANGUAGES:
                seeder.dentist("nazarova", "call-next")
                own = tokens[lang]
                shots = [
                    ("kiosk", f"/kiosk/lobby?lang={lang}", None),
                    ("kiosk-landscape", f"/kiosk/lobby?lang={lang}", None),
                    ("tv", f"/display/?lang={lang}", None),
                    ("phone", f"/t/{own['waiting']}", None),
                    ("phone", f"/t/{own['called']}", "called"),
                    ("phone", f"/t/{own['cancelled']}", "cancelled"),
                    ("tablet", f"/dentist/?lang={lang}", None),
                    ("desk", f"/reception/?lang={lang}", None),
                ]
                for device, path, suffix in shots:
                    take(browser, hub.url, device, path, lang, suffix)
                take_phone_leaving(browser, hub.url, own["waiting"], lang)
                take_signed_in(browser, hub.url, lang, pins)
                take_kiosk_result(browser, hub.url, lang)
                take_kiosk_priority(browser, hub.url, lang)
                take_patients(browser, hub.url, lang, pins)
                seeder.dentist("nazarova", "done")
            browser.close()
    finally:
        hub.stop()
        shutil.rmtree(folder, ignore_errors=True)
    print(f"screenshots in {OUT}")
    return 0


def take(browser, base, device, path, lang, suffix=None) -> None:
    page = browser.new_page(viewport=DEVICES[device])
    page.goto(base + path)
    if device.startswith("kiosk"):  # the kiosk starts in the clinic's language
        page.click(f".kiosk-lang[data-lang={lang}]")
    page.wait_for_timeout(800)
    name = "-".join(filter(None, [device, path.strip("/").split("/")[0], suffix, lang]))
    page.screenshot(path=OUT / f"{name}.png")
    page.close()


def take_phone_leaving(browser, base, token, lang) -> None:
    """The phone page at its confirmation step: "Leave the queue?"."""
    page = browser.new_page(viewport=DEVICES["phone"])
    page.goto(f"{base}/t/{token}")
    page.click("#leave-start")
    page.wait_for_timeout(500)
    page.screenshot(path=OUT / f"phone-t-leave-{lang}.png")
    page.close()


def signed_in_page(browser, base, device, login_path, login, path):
    context = browser.new_context(viewport=DEVICES[device])
    page = context.new_page()
    page.request.post(base + login_path, data=login)
    page.goto(base + path)
    page.wait_for_timeout(800)
    return context, page


def take_signed_in(browser, base, lang, pins) -> None:
    """The tablet (working, with a patient picked, transferring, on a break)
    and reception as the admin."""
    login = {"dentist": "karimova", "pin": pins["karimova"]}
    context, page = signed_in_page(
        browser,
        base,
        "tablet",
        "/api/v1/dentist/login",
        login,
        f"/dentist/?lang={lang}",
    )
    page.screenshot(path=OUT / f"tablet-signed-in-{lang}.png")
    page.click(".waiting-item >> nth=0")
    page.wait_for_timeout(200)
    page.screenshot(path=OUT / f"tablet-picked-{lang}.png")
    page.click("#transfer")
    page.click("#transfer-services .transfer-option >> nth=1")
    page.click("#transfer-dentists .transfer-option >> nth=1")
    page.wait_for_timeout(200)
    page.screenshot(path=OUT / f"tablet-transfer-{lang}.png")
    context.close()

    login = {"dentist": "rahimov", "pin": pins["rahimov"]}
    context, page = signed_in_page(
        browser,
        base,
        "tablet",
        "/api/v1/dentist/login",
        login,
        f"/dentist/?lang={lang}",
    )
    page.screenshot(path=OUT / f"tablet-paused-{lang}.png")
    context.close()

    login = {"username": "admin", "password": pins["admin"]}
    context, page = signed_in_page(
        browser, base, "desk", "/api/v1/staff/login", login, f"/reception/?lang={lang}"
    )
    page.screenshot(path=OUT / f"desk-signed-in-{lang}.png")
    page.goto(f"{base}/reception/users?lang={lang}")
    page.wait_for_timeout(500)
    page.screenshot(path=OUT / f"desk-users-{lang}.png", full_page=True)
    context.close()


def take_kiosk_result(browser, base, lang) -> None:
    page = browser.new_page(viewport=DEVICES["kiosk"])
    page.goto(f"{base}/kiosk/lobby")
    page.click(f".kiosk-lang[data-lang={lang}]")
    page.click(".kiosk-tile >> nth=1")
    page.wait_for_selector("#result:not([hidden])")
    page.wait_for_timeout(500)
    page.screenshot(path=OUT / f"kiosk-result-{lang}.png")
    page.close()


def take_kiosk_priority(browser, base, lang) -> None:
    """The kiosk with the priority toggle pressed, before a tile is tapped."""
    for device in ("kiosk", "kiosk-landscape"):
        page = browser.new_page(viewport=DEVICES[device])
        page.goto(f"{base}/kiosk/lobby")
        page.click(f".kiosk-lang[data-lang={lang}]")
        page.click("#priority")
        page.wait_for_timeout(500)
        page.screenshot(path=OUT / f"{device}-priority-{lang}.png")
        page.close()


PATIENTS = [
    {
        "first_name": "Zebiniso",
        "last_name": "Qodirova",
        "birth_date": "05.11.1984",
        "phone": "90 123 45 67",
        "flags": ["allergies", "anticoagulants"],
        "condition": "Karies 36, 37; tish goʻshti qonaydi",
        "notes": "Ignadan qoʻrqadi",
        "sms_consent": True,
    },
    {
        "first_name": "Oʻktam",
        "last_name": "Karimov",
        "birth_date": "1979-02-14",
        "phone": "+998 93 555 44 33",
        "flags": ["heart"],
    },
    {
        "first_name": "Дилноза",
        "last_name": "Каримова",
        "birth_date": "1992-07-30",
        "phone": "91 111 22 33",
        "lang": "ru",
    },
]


def seed_patients(seeder: Seeder) -> None:
    """Register a few cards; link karimova's called ticket to the first one."""
    base = seeder.base + "/api/v1"
    for card in PATIENTS:
        answer = seeder.staff.post(
            base + "/patients", json=dict(card, confirm_new=True)
        )
        answer.raise_for_status()
    tickets = seeder.staff.get(base + "/patients/tickets/today").json()["tickets"]
    seeder.staff.post(
        base + "/patients/P-000001/visits", json={"ticket": tickets["A-001"]["id"]}
    ).raise_for_status()
    for amount, method in ((150000, "cash"), (320000, "card")):
        seeder.staff.post(
            base + "/patients/P-000001/payments",
            json={"amount": amount, "method": method},
        ).raise_for_status()
    seeder.staff.post(
        base + "/patients/P-000001/complaints",
        json={"text": "Navbatda uzoq kutdi"},
    ).raise_for_status()


def take_patients(browser, base, lang, pins) -> None:
    """The desk's patient pages, the kiosk's phone step, the tablet's patient."""
    login = {"username": "admin", "password": pins["admin"]}
    context, page = signed_in_page(
        browser,
        base,
        "desk",
        "/api/v1/staff/login",
        login,
        f"/reception/patients?lang={lang}",
    )
    page.fill("#q", "Karimov")
    page.wait_for_timeout(800)
    page.screenshot(path=OUT / f"desk-patients-{lang}.png", full_page=True)
    page.goto(f"{base}/reception/patients/P-000001?lang={lang}")
    page.wait_for_timeout(800)
    page.screenshot(path=OUT / f"desk-patient-card-{lang}.png", full_page=True)
    page.goto(f"{base}/reception/patients/new?lang={lang}")
    page.fill("[name=last_name]", "Каримов")
    page.fill("[name=first_name]", "Ўктам")
    page.fill("[name=birth_date]", "14.02.1979")
    page.fill("[name=phone]", "90 000 11 22")
    page.click("#save")
    page.wait_for_timeout(800)
    page.screenshot(path=OUT / f"desk-patient-duplicates-{lang}.png", full_page=True)
    page.fill("[name=birth_date]", "14.02.2079")
    page.click("#save")
    page.wait_for_timeout(800)
    page.screenshot(path=OUT / f"desk-patient-error-{lang}.png", full_page=True)
    context.close()

    page = browser.new_page(viewport=DEVICES["kiosk"])
    page.goto(f"{base}/kiosk/lobby")
    page.click(f".kiosk-lang[data-lang={lang}]")
    page.click(".kiosk-tile >> nth=1")
    page.wait_for_selector("#phone-offer")
    page.wait_for_timeout(300)
    page.screenshot(path=OUT / f"kiosk-phone-offer-{lang}.png")
    page.click("#phone-offer")
    for digit in "90123":
        page.click(f'[data-digit="{digit}"]')
    page.screenshot(path=OUT / f"kiosk-phone-step-{lang}.png")
    page.close()


if __name__ == "__main__":
    sys.exit(main())
