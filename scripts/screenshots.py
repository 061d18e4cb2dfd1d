"""Take a screenshot of every page at its device's size, in every language.

Starts a throw-away hub on 127.0.0.1 with a few tickets issued and called,
then saves PNGs under var/screenshots/ for a person to look at.
Run: `make screenshots`.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import requests
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import start_hub  # noqa: E402

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
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def seed(base: str, pins: dict[str, str]) -> tuple[str, str]:
    """Issue and call a few tickets; return a waiting and a called ticket token."""
    tokens = []
    for service in (
        "checkup",
        "checkup",
        "treatment",
        "extraction",
        "hygiene",
        "checkup",
    ):
        answer = requests.post(
            f"{base}/api/v1/tickets", json={"service": service, "kiosk": "lobby"}
        ).json()
        tokens.append(answer["ticket"]["token"])
    for dentist in ("karimova", "yusupov"):
        session = requests.Session()
        login = session.post(
            f"{base}/api/v1/dentist/login",
            json={"dentist": dentist, "pin": pins[dentist]},
        ).json()
        session.post(
            f"{base}/api/v1/dentist/call-next",
            json={},
            headers={"X-CSRF-Token": login["csrf"]},
        )
    return tokens[-1], tokens[0]


def main() -> int:
    folder = Path(tempfile.mkdtemp(prefix="navbat-shots-"))
    hub = start_hub(folder, "eventlet")
    OUT.mkdir(parents=True, exist_ok=True)
    try:
        pins = hub.credentials()
        waiting_token, called_token = seed(hub.url, pins)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=shutil.which("chromium"), args=CHROMIUM_FLAGS
            )
            for lang in LANGUAGES:
                shots = [
                    ("kiosk", f"/kiosk/lobby?lang={lang}", None),
                    ("kiosk-landscape", f"/kiosk/lobby?lang={lang}", None),
                    ("tv", f"/display/?lang={lang}", None),
                    ("phone", f"/t/{waiting_token}", None),
                    ("phone", f"/t/{called_token}", "called"),
                    ("tablet", f"/dentist/?lang={lang}", None),
                    ("desk", f"/reception/?lang={lang}", None),
                ]
                for device, path, suffix in shots:
                    take(browser, hub.url, device, path, lang, suffix)
                take_signed_in(browser, hub.url, lang, pins)
                take_kiosk_result(browser, hub.url, lang)
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


def take_signed_in(browser, base, lang, pins) -> None:
    """The tablet as a signed-in dentist, and reception as the admin."""
    context = browser.new_context(viewport=DEVICES["tablet"])
    page = context.new_page()
    page.request.post(
        f"{base}/api/v1/dentist/login",
        data={"dentist": "karimova", "pin": pins["karimova"]},
    )
    page.goto(f"{base}/dentist/?lang={lang}")
    page.wait_for_timeout(800)
    page.screenshot(path=OUT / f"tablet-signed-in-{lang}.png")
    context.close()

    context = browser.new_context(viewport=DEVICES["desk"])
    page = context.new_page()
    page.request.post(
        f"{base}/api/v1/staff/login",
        data={"username": "admin", "password": pins["admin"]},
    )
    page.goto(f"{base}/reception/?lang={lang}")
    page.wait_for_timeout(800)
    page.screenshot(path=OUT / f"desk-signed-in-{lang}.png")
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


if __name__ == "__main__":
    sys.exit(main())
