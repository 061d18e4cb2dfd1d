"""Chromium end to end: the admin adds a receptionist, who signs in and works."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from server import i18n
from tests.conftest import HubProcess, start_hub
from tests.test_browser import (
    LIVE,
    Surfaces,
    expect_live,
)

pytestmark = pytest.mark.browser

DESK = {"width": 1440, "height": 900}
EN = i18n.catalog("en")


@pytest.fixture
def surfaces(chromium, tmp_path) -> Iterator[Surfaces]:
    hub: HubProcess = start_hub(tmp_path, "eventlet")
    opened = Surfaces(chromium, hub)
    yield opened
    opened.close()
    hub.stop()


def sign_in_with_form(page: Page, username: str, password: str) -> None:
    page.get_by_label(EN["reception.username"]).fill(username)
    page.get_by_label(EN["reception.password"]).fill(password)
    page.get_by_role("button", name=EN["reception.submit"]).click()


def test_admin_adds_a_receptionist_who_signs_in(surfaces: Surfaces):
    hub = surfaces.hub
    # A bookmark to the staff page: sign in first, then land on it.
    admin = surfaces.open("/reception/users?lang=en", DESK)
    sign_in_with_form(admin, "admin", hub.credentials()["admin"])
    expect(admin.get_by_role("link", name=EN["staff.menu_users"])).to_have_attribute(
        "aria-current", "page", timeout=LIVE
    )

    form = admin.locator("#user-form")
    form.get_by_label(EN["staff.username"]).fill("no")
    form.get_by_label(EN["staff.full_name"]).fill("Gulnora Tosheva")
    form.get_by_role("button", name=EN["staff.save"]).click()
    expect(admin.locator("#form-error")).to_contain_text("3 to 32", timeout=LIVE)
    username = form.get_by_label(EN["staff.username"])
    expect(username).to_have_attribute("aria-invalid", "true")
    expect(username).to_be_focused()
    expect(form.get_by_label(EN["staff.full_name"])).to_have_value("Gulnora Tosheva")

    username.fill("gulnora")
    form.get_by_role("button", name=EN["staff.save"]).click()
    secret = admin.locator("#notice .desk-secret")
    expect(secret).to_be_visible(timeout=LIVE)
    password = secret.text_content()
    expect(admin.locator("#users")).to_contain_text("Gulnora Tosheva")
    own_row = admin.locator("#users tr").filter(has_text="Administrator")
    expect(own_row.get_by_role("button", name=EN["staff.deactivate"])).to_have_count(0)

    desk = surfaces.open("/reception/?lang=en", DESK)
    sign_in_with_form(desk, "gulnora", password)
    expect_live(desk)
    expect(desk.locator(".desk-who")).to_contain_text("Gulnora Tosheva")
    expect(desk.get_by_role("link", name=EN["staff.menu_today"])).to_be_visible()
    expect(desk.get_by_role("link", name=EN["staff.menu_users"])).to_have_count(0)
    assert desk.request.get(f"{hub.url}/reception/users").status == 403

    admin.locator("#users tr", has_text="gulnora").get_by_role(
        "button", name=EN["staff.deactivate"]
    ).click()
    expect(admin.locator("#notice")).to_contain_text("gulnora", timeout=LIVE)
    desk.reload()
    expect(desk.get_by_label(EN["reception.password"])).to_be_visible(timeout=LIVE)
    surfaces.check_clean()


def test_an_untouched_tablet_returns_to_the_pin_pad(surfaces: Surfaces):
    hub = surfaces.hub
    context = surfaces.browser.new_context(viewport={"width": 1280, "height": 800})
    surfaces.contexts.append(context)
    page = context.new_page()
    page.clock.install()
    pin = hub.credentials()["karimova"]
    login = {"dentist": "karimova", "pin": pin}
    assert page.request.post(f"{hub.url}/api/v1/dentist/login", data=login).ok
    page.goto(f"{hub.url}/dentist/?lang=en")
    expect(page.locator(".call-next")).to_be_visible()
    page.evaluate("window.__navbatNoReload = true")

    page.clock.fast_forward("09:00")
    page.mouse.click(5, 5)  # a touch: the tablet stays as it is
    page.clock.fast_forward("09:00")
    assert page.evaluate("window.__navbatNoReload === true")

    page.clock.fast_forward("10:05")
    page.wait_for_function("window.__navbatNoReload !== true", timeout=LIVE)
