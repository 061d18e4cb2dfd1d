"""The JSON API and the pages, through Flask's test client."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

from server import auth
from server import config as config_module
from server.db import database
from server.i18n import translate
from server.models import PrintJob, Ticket
from tests.conftest import write_config

PIN = "482913"
PASSWORD = "desk-pass-2026"
LANGS = ("uz", "ru", "en")


def issue(client, service="checkup", **fields):
    response = client.post(
        "/api/v1/tickets", json={"service": service, "kiosk": "lobby", **fields}
    )
    assert response.status_code in (200, 201), response.get_json()
    return response.get_json()


def ticket_count() -> int:
    with database.connection_context():
        return Ticket.select().count()


def error_of(response) -> dict:
    assert response.is_json, response.data[:200]
    return response.get_json()["error"]


def assert_sentence(message: str) -> None:
    """A message a person reads: a capital, an end, no code or placeholder left."""
    first = message.split()[0]
    # A file name such as config.toml may open a sentence as it is.
    assert not first[0].islower() or "." in first.rstrip("."), message
    assert message.rstrip().endswith((".", "!")), message
    assert "{" not in message and "}" not in message, message
    assert not re.search(r"\b(error|field)\.\w+", message), message
    assert not re.search(r"\b[a-z]+_[a-z_]+\b", message), message


# -- issuing -------------------------------------------------------------------


@pytest.fixture
def lan_client(tmp_path):
    """A hub whose QR codes must point at a configured, non-loopback address."""
    from server.app import create_app

    path = write_config(
        tmp_path,
        server={"async_mode": "threading", "host": "127.0.0.1"},
        clinic={"public_url": "http://navbat.clinic.test:8080/"},
    )
    app = create_app(config_module.load(path))
    app.config["TESTING"] = True
    yield app.test_client()
    database.close()


def test_issue_ticket(lan_client):
    response = lan_client.post(
        "/api/v1/tickets", json={"service": "treatment", "kiosk": "lobby"}
    )

    assert response.status_code == 201
    data = response.get_json()
    ticket = data["ticket"]
    assert ticket["label"] == "B-001"
    assert ticket["state"] == "waiting"
    assert re.fullmatch(r"[A-Za-z0-9_-]{12,}", ticket["token"])
    assert data["url"] == f"http://navbat.clinic.test:8080/t/{ticket['token']}"
    assert data["qr"] == f"/api/v1/tickets/{ticket['token']}/qr.svg"
    assert data["ahead"] == 0
    assert data["created"] is True
    assert data["printer"] in ("unknown", "online", "offline")


def test_ticket_url_never_localhost(lan_client):
    data = issue(lan_client)

    for text in (data["url"], lan_client.get(data["qr"]).get_data(as_text=True)):
        assert "localhost" not in text
        assert "127.0.0.1" not in text


def test_ahead_counts_up(client):
    aheads = [issue(client, s)["ahead"] for s in ("checkup",) * 3 + ("hygiene",)]

    assert aheads == [0, 1, 2, 0]


def test_same_request_key_returns_same_ticket(client):
    body = {"service": "checkup", "kiosk": "lobby", "request_key": "tap-1a2b3c4d"}

    first = client.post("/api/v1/tickets", json=body)
    second = client.post("/api/v1/tickets", json=body)

    assert (first.status_code, second.status_code) == (201, 200)
    assert second.get_json()["ticket"] == first.get_json()["ticket"]
    assert second.get_json()["created"] is False
    assert ticket_count() == 1


def test_ticket_language_comes_from_body(client):
    data = issue(client, lang="ru")

    page = client.get(f"/t/{data['ticket']['token']}")

    assert 'lang="ru"' in page.get_data(as_text=True)


# (request keyword arguments, status, code, field, the English message)
BAD_TICKETS = [
    pytest.param(
        {
            "data": "service=checkup",
            "content_type": "application/x-www-form-urlencoded",
        },
        400,
        "not_json",
        "body",
        "The request must be JSON (Content-Type: application/json) holding an object.",
        id="form",
    ),
    pytest.param(
        {"data": '{"service": ', "content_type": "application/json"},
        400,
        "not_json",
        "body",
        "The request must be JSON (Content-Type: application/json) holding an object.",
        id="broken-json",
    ),
    pytest.param(
        {"json": ["checkup"]},
        400,
        "not_json",
        "body",
        "The request must be JSON (Content-Type: application/json) holding an object.",
        id="json-array",
    ),
    pytest.param(
        {"json": {"kiosk": "lobby"}},
        400,
        "field_missing",
        "service",
        "Please fill in the service.",
        id="no-service",
    ),
    pytest.param(
        {"json": {"service": ""}},
        400,
        "field_missing",
        "service",
        "Please fill in the service.",
        id="empty-service",
    ),
    pytest.param(
        {"json": {"service": 1}},
        400,
        "field_not_text",
        "service",
        "The service must be text.",
        id="service-number",
    ),
    pytest.param(
        {"json": {"service": ["checkup"]}},
        400,
        "field_not_text",
        "service",
        "The service must be text.",
        id="service-list",
    ),
    pytest.param(
        {"json": {"service": "braces"}},
        404,
        "unknown_service",
        None,
        "There is no service “braces”. Choose one of the services on the screen.",
        id="unknown-service",
    ),
    pytest.param(
        {"json": {"service": "checkup", "kiosk": "roof"}},
        400,
        "unknown_kiosk",
        "kiosk",
        "There is no kiosk “roof” in config.toml. Check the kiosk's address.",
        id="unknown-kiosk",
    ),
    pytest.param(
        {"json": {"service": "checkup", "request_key": "short"}},
        400,
        "bad_request_key",
        "request_key",
        "The request key must be 8 to 64 letters, digits, - or _.",
        id="request-key-short",
    ),
    pytest.param(
        {"json": {"service": "checkup", "request_key": "tap tap tap"}},
        400,
        "bad_request_key",
        "request_key",
        "The request key must be 8 to 64 letters, digits, - or _.",
        id="request-key-space",
    ),
    pytest.param(
        {"json": {"service": "checkup", "request_key": 12345678}},
        400,
        "field_not_text",
        "request_key",
        "The request key must be text.",
        id="request-key-number",
    ),
    pytest.param(
        {"json": {"service": "x" * 65}},
        400,
        "field_too_long",
        "service",
        "The service is too long (at most 64 characters).",
        id="service-too-long",
    ),
    pytest.param(
        {"json": {"service": "checkup", "request_key": "k" * 65}},
        400,
        "field_too_long",
        "request_key",
        "The request key is too long (at most 64 characters).",
        id="request-key-too-long",
    ),
]


@pytest.mark.parametrize(("request_args", "status", "code", "field", "en"), BAD_TICKETS)
def test_bad_ticket_request(client, request_args, status, code, field, en):
    messages = {}
    for lang in LANGS:
        response = client.post(f"/api/v1/tickets?lang={lang}", **request_args)

        assert response.status_code == status
        error = error_of(response)
        assert error["code"] == code
        assert error.get("field") == field
        messages[lang] = error["message"]

    assert messages["en"] == en
    for lang in ("uz", "ru"):
        assert messages[lang] != en, lang
        assert_sentence(messages[lang])
        if field and code.startswith("field_"):
            assert field not in messages[lang], (lang, messages[lang])
    assert ticket_count() == 0


def test_unknown_api_address_is_json(client):
    response = client.get("/api/v1/nothing-here?lang=en")

    assert response.status_code == 404
    assert error_of(response) == {
        "code": "not_found",
        "message": "There is no such address on the hub.",
    }


def test_page_not_found_stays_a_page(client):
    response = client.get("/kiosk/no-such-kiosk")

    assert response.status_code == 404
    assert response.mimetype == "text/html"


def test_wrong_method_is_json(client):
    response = client.get("/api/v1/tickets?lang=en")

    assert response.status_code == 405
    assert error_of(response)["code"] == "wrong_method"


# -- the ticket's own pages ----------------------------------------------------


def test_ticket_status(client):
    token = issue(client)["ticket"]["token"]
    issue(client)

    response = client.get(f"/api/v1/tickets/{token}")

    assert response.status_code == 200
    ticket = response.get_json()["ticket"]
    assert (ticket["label"], ticket["state"], ticket["ahead"]) == (
        "A-001",
        "waiting",
        0,
    )
    assert "token" not in ticket


def test_ticket_qr_svg(client, config):
    token = issue(client)["ticket"]["token"]

    response = client.get(f"/api/v1/tickets/{token}/qr.svg")

    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    root = ET.fromstring(response.data)
    assert root.tag.endswith("svg")
    assert any(el.tag.endswith("path") for el in root.iter())


@pytest.mark.parametrize(
    "path", ["/api/v1/tickets/{}", "/api/v1/tickets/{}/qr.svg"], ids=["status", "qr"]
)
def test_unknown_token(client, path):
    issue(client)

    response = client.get(path.format("nOtAtOkEn123") + "?lang=en")

    assert response.status_code == 404
    assert error_of(response) == {
        "code": "unknown_ticket",
        "message": "This ticket was not found.",
    }


# -- the dentist's tablet ------------------------------------------------------


def dentist_login(client, dentist="karimova", pin=PIN):
    return client.post(
        "/api/v1/dentist/login?lang=en", json={"dentist": dentist, "pin": pin}
    )


@pytest.fixture
def tablet(client):
    """A client signed in as karimova, and its CSRF header."""
    auth.set_pin("karimova", PIN)
    response = dentist_login(client)
    assert response.status_code == 200, response.get_json()
    return client, {"X-CSRF-Token": response.get_json()["csrf"]}


def test_wrong_pin(client):
    auth.set_pin("karimova", PIN)

    response = dentist_login(client, pin="000000")

    assert response.status_code == 401
    assert error_of(response) == {
        "code": "wrong_pin",
        "message": "That PIN is not right. Try again.",
    }
    assert client.get("/api/v1/dentist/state").status_code == 401


def test_five_wrong_pins_lock_the_login(client):
    auth.set_pin("karimova", PIN)
    auth.set_pin("rahimov", PIN)

    codes = [dentist_login(client, pin="111111").status_code for _ in range(5)]
    locked = dentist_login(client)

    assert codes == [401] * 5
    assert locked.status_code == 429
    error = error_of(locked)
    assert error["code"] == "pin_locked"
    assert error["message"].startswith("Too many wrong PINs. Try again in 5 min")
    assert client.get("/api/v1/dentist/state").status_code == 401
    # The lock is for that dentist only.
    assert dentist_login(client, dentist="rahimov").status_code == 200


def test_right_pin_resets_the_count(client):
    auth.set_pin("karimova", PIN)

    for _ in range(4):
        dentist_login(client, pin="111111")
    assert dentist_login(client).status_code == 200
    for _ in range(4):
        dentist_login(client, pin="111111")

    assert dentist_login(client).status_code == 200


def test_login_for_unknown_dentist(client):
    response = dentist_login(client, dentist="dr-nobody")

    assert response.status_code == 404
    assert error_of(response)["code"] == "unknown_dentist"


ACTIONS = ["call-next", "recall", "start", "done", "no-show"]


@pytest.mark.parametrize("action", ACTIONS)
def test_tablet_action_needs_login(client, action):
    issue(client)

    response = client.post(f"/api/v1/dentist/{action}?lang=en")

    assert response.status_code == 401
    assert error_of(response) == {
        "code": "sign_in_dentist",
        "message": "Please sign in on the tablet with your PIN first.",
    }


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("token", [None, "forged-token"], ids=["none", "wrong"])
def test_tablet_action_needs_csrf(tablet, action, token):
    client, _ = tablet
    issue(client)
    headers = {"X-CSRF-Token": token} if token else {}

    response = client.post(f"/api/v1/dentist/{action}?lang=en", headers=headers)

    assert response.status_code == 403
    assert error_of(response)["code"] == "csrf"
    assert client.get("/api/v1/dentist/state").get_json()["current"] is None


def post_action(tablet, action: str):
    client, headers = tablet
    return client.post(f"/api/v1/dentist/{action}?lang=en", headers=headers)


def refusal(response, status: int = 409) -> tuple[str, str]:
    assert response.status_code == status, response.get_json()
    error = error_of(response)
    assert_sentence(error["message"])
    return error["code"], error["message"]


def test_tablet_visit(tablet):
    client, _ = tablet
    first = issue(client)["ticket"]
    issue(client, "treatment")
    issue(client, "hygiene")

    called = post_action(tablet, "call-next")
    assert called.status_code == 200
    assert called.get_json()["ticket"]["label"] == "A-001"
    assert called.get_json()["ticket"]["room"] == "1"

    state = client.get("/api/v1/dentist/state").get_json()
    assert state["dentist"]["id"] == "karimova"
    assert state["current"]["label"] == "A-001"
    assert [t["label"] for t in state["waiting"]] == ["B-001"]

    assert refusal(post_action(tablet, "call-next")) == (
        "finish_current_first",
        "Ticket A-001 is still yours. Press Done first (or No-show if the patient "
        "did not come).",
    )
    assert post_action(tablet, "recall").get_json()["ticket"]["recalls"] == 1
    assert post_action(tablet, "start").get_json()["ticket"]["state"] == "serving"
    assert refusal(post_action(tablet, "no-show"))[0] == "cannot_no_show"
    assert refusal(post_action(tablet, "recall"))[0] == "cannot_recalled"
    assert post_action(tablet, "done").get_json()["ticket"]["state"] == "done"

    phone = client.get(f"/api/v1/tickets/{first['token']}").get_json()["ticket"]
    assert (phone["state"], phone["room"]) == ("done", "1")

    assert post_action(tablet, "call-next").get_json()["ticket"]["label"] == "B-001"
    assert post_action(tablet, "no-show").get_json()["ticket"]["state"] == "no_show"
    assert refusal(post_action(tablet, "call-next")) == (
        "nobody_waiting",
        "Nobody is waiting for your services right now.",
    )
    for action in ("recall", "start", "done", "no-show"):
        assert refusal(post_action(tablet, action)) == (
            "no_current_ticket",
            "There is no patient in your room now. Press Call next first.",
        )
    assert refusal(post_action(tablet, "teleport"), 404)[0] == "unknown_action"

    state = client.get("/api/v1/dentist/state").get_json()
    assert state["current"] is None
    assert state["waiting"] == []


def test_recall_limit_through_api(tablet):
    client, _ = tablet
    issue(client)
    post_action(tablet, "call-next")

    counts = [
        post_action(tablet, "recall").get_json()["ticket"]["recalls"] for _ in "xyz"
    ]

    assert counts == [1, 2, 3]
    code, message = refusal(post_action(tablet, "recall"))
    assert code == "recall_limit"
    assert "A-001" in message and "3" in message


def test_dentist_logout(tablet):
    client, headers = tablet

    client.post("/api/v1/dentist/logout", headers=headers)

    assert client.get("/api/v1/dentist/state").status_code == 401


def _copied_cookie(client, app):
    """Return a second client holding the same session cookie (a stolen copy)."""
    copy = app.test_client()
    cookie = client.get_cookie("session")
    copy.set_cookie("session", cookie.value)
    return copy


@pytest.mark.parametrize("how", ["logout", "reset-pin"])
def test_sign_out_and_new_pin_end_old_cookies(tablet, app, how):
    client, headers = tablet
    copy = _copied_cookie(client, app)
    assert copy.get("/api/v1/dentist/state").status_code == 200

    if how == "logout":
        client.post("/api/v1/dentist/logout", headers=headers)
    else:
        auth.set_pin("karimova", "246810")

    assert copy.get("/api/v1/dentist/state").status_code == 401
    assert copy.post("/api/v1/dentist/call-next", headers=headers).status_code == 401


# -- staff ---------------------------------------------------------------------


def test_staff_logout_ends_old_cookies(client, app):
    auth.create_user("reception", PASSWORD, role="receptionist")
    headers = {"X-CSRF-Token": staff_login(client).get_json()["csrf"]}
    copy = _copied_cookie(client, app)
    assert copy.get("/api/v1/today").status_code == 200

    client.post("/api/v1/staff/logout", headers=headers)

    assert copy.get("/api/v1/today").status_code == 401


def staff_endpoints(ticket_id: int):
    return [
        ("get", "/api/v1/printers"),
        ("get", "/api/v1/today"),
        ("get", f"/api/v1/tickets/{ticket_id}/history"),
        ("post", f"/api/v1/tickets/{ticket_id}/reprint"),
    ]


def staff_login(client, password=PASSWORD):
    return client.post(
        "/api/v1/staff/login?lang=en",
        json={"username": "reception", "password": password},
    )


def test_staff_endpoints_need_login(client):
    issue(client)
    ticket_id = client.application.extensions["navbat"].queue.today_tickets()[0].id

    for method, path in staff_endpoints(ticket_id):
        response = getattr(client, method)(path + "?lang=en")
        assert response.status_code == 401, path
        assert error_of(response) == {
            "code": "sign_in_staff",
            "message": "Please sign in first.",
        }


def test_wrong_staff_password(client):
    auth.create_user("reception", PASSWORD, role="receptionist")

    response = staff_login(client, password="guess")

    assert response.status_code == 401
    assert error_of(response)["code"] == "wrong_password"
    assert client.get("/api/v1/today").status_code == 401


def test_staff_endpoints_after_login(client, hub):
    auth.create_user("reception", PASSWORD, role="receptionist")
    issue(client)
    issue(client, "hygiene")
    login = staff_login(client)
    assert login.status_code == 200
    headers = {"X-CSRF-Token": login.get_json()["csrf"]}

    printers = client.get("/api/v1/printers").get_json()["printers"]
    assert [p["id"] for p in printers] == ["lobby-printer"]

    today = client.get("/api/v1/today").get_json()["tickets"]
    assert [t["label"] for t in today] == ["D-001", "A-001"]
    assert all("token" not in t for t in today)
    ticket_id = today[-1]["id"]

    history = client.get(f"/api/v1/tickets/{ticket_id}/history").get_json()
    assert [(e["action"], e["actor"]) for e in history["events"]] == [
        ("issued", "kiosk:lobby")
    ]

    assert client.post(f"/api/v1/tickets/{ticket_id}/reprint").status_code == 403
    response = client.post(f"/api/v1/tickets/{ticket_id}/reprint", headers=headers)
    assert response.status_code == 202
    assert response.get_json()["printer"] == "lobby-printer"
    with database.connection_context():
        jobs = PrintJob.select().where(PrintJob.ticket == ticket_id).count()
    assert jobs == 2

    missing = client.post("/api/v1/tickets/999999/reprint?lang=en", headers=headers)
    assert missing.status_code == 404
    assert error_of(missing)["code"] == "unknown_ticket"


def test_staff_logout(client):
    auth.create_user("reception", PASSWORD, role="receptionist")
    staff_login(client)

    client.post("/api/v1/staff/logout")

    assert client.get("/api/v1/today").status_code == 401


# -- pages ---------------------------------------------------------------------


class VisibleText(HTMLParser):
    """Collect the text a person sees: everything outside <script> and <style>."""

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        self._hidden += tag in ("script", "style", "template")

    def handle_endtag(self, tag):
        self._hidden -= tag in ("script", "style", "template")

    def handle_data(self, data):
        if not self._hidden and data.strip():
            self.parts.append(data.strip())


def visible_text(html: str) -> str:
    parser = VisibleText()
    parser.feed(html)
    return "\n".join(parser.parts)


class Links(HTMLParser):
    """Collect every URL-bearing attribute and the <html lang>."""

    URL_ATTRS = {"src", "href", "action", "srcset", "poster", "data", "formaction"}

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []
        self.lang: str | None = None

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if tag == "html" and name == "lang":
                self.lang = value
            if name in self.URL_ATTRS and value:
                self.urls.extend(value.split(",") if name == "srcset" else [value])


def foreign_urls(html: str, own_host: str) -> list[str]:
    """List the URLs in a page that lead to a host other than the hub."""
    links = Links()
    links.feed(html)
    found = []
    for url in [u.strip() for u in links.urls] + re.findall(
        r"""(?:https?:)?//[^\s"'<>()\\]+""", html
    ):
        host = urlsplit(url).netloc
        if host and host != own_host:
            found.append(url)
    return found


def check_page(client, path: str, lang: str, own_host: str) -> str:
    response = client.get(f"{path}?lang={lang}")

    assert response.status_code == 200, (path, lang)
    html = response.get_data(as_text=True)
    assert foreign_urls(html, own_host) == [], (path, lang)
    return html


# Each page, and one of the words it must show in the page's language.
PAGES = {
    "/": "dentist.title",
    "/kiosk/lobby": "kiosk.greeting",
    "/display/": "display.now_calling",
    "/dentist/": "dentist.choose_name",
    "/reception/": "reception.sign_in",
    "/t/{token}": "phone.keep_open",
}


@pytest.mark.parametrize("lang", LANGS)
def test_pages_in_each_language(client, config, lang):
    own_host = urlsplit(config.clinic.public_url).netloc
    token = issue(client, lang=lang)["ticket"]["token"]

    for path, key in PAGES.items():
        html = check_page(client, path.format(token=token), lang, own_host)
        assert f'<html lang="{lang}">' in html, path
        assert translate(lang, key) in visible_text(html), path


@pytest.mark.parametrize("lang", LANGS)
def test_signed_in_pages_in_each_language(client, config, lang):
    own_host = urlsplit(config.clinic.public_url).netloc
    auth.set_pin("karimova", PIN)
    auth.create_user("reception", PASSWORD, role="receptionist")
    issue(client)

    assert dentist_login(client).status_code == 200
    tablet = check_page(client, "/dentist/", lang, own_host)
    assert staff_login(client).status_code == 200
    desk = check_page(client, "/reception/", lang, own_host)

    assert translate(lang, "dentist.call_next") in visible_text(tablet)
    assert translate(lang, "reception.today") in visible_text(desk)


@pytest.mark.parametrize("lang", LANGS)
def test_phone_page_speaks_the_tickets_language(client, lang):
    token = issue(client, lang=lang)["ticket"]["token"]

    html = client.get(f"/t/{token}").get_data(as_text=True)

    assert f'<html lang="{lang}">' in html
    text = visible_text(html)
    assert translate(lang, "phone.keep_open") in text
    assert translate(lang, "phone.your_turn") in text
    assert translate(lang, "common.reconnecting") in text


def test_unknown_ticket_page(client):
    response = client.get("/t/nOtAtOkEn123")

    assert response.status_code == 404
    assert foreign_urls(response.get_data(as_text=True), "127.0.0.1:5000") == []


def test_foreign_url_check_can_fail():
    page = '<link href="https://assets.example.com/a.css"><img src="//x.test/q.png">'

    assert foreign_urls(page, "127.0.0.1:5000") == [
        "https://assets.example.com/a.css",
        "//x.test/q.png",
        "https://assets.example.com/a.css",
        "//x.test/q.png",
    ]


# -- hostile input ---------------------------------------------------------------


def test_a_huge_body_is_refused_before_it_is_read(client):
    response = client.post(
        "/api/v1/tickets?lang=en",
        data=b'{"service": "' + b"x" * (200 * 1024) + b'"}',
        content_type="application/json",
    )

    assert response.status_code == 413
    assert response.get_json()["error"]["message"] == "The request is too large."


@pytest.mark.parametrize(
    "data",
    [
        b'{"service": "\\ud800"}',
        b'{"service": "checkup", "kiosk": "\\udfff"}',
        b"[" * 30_000 + b"]" * 30_000,
    ],
    ids=["lone-surrogate", "surrogate-kiosk", "deep-nesting"],
)
def test_malformed_json_gets_a_json_refusal(client, data):
    response = client.post(
        "/api/v1/tickets", data=data, content_type="application/json"
    )

    assert response.status_code == 400
    assert response.get_json()["error"]["code"] in ("field_not_text", "not_json")


def test_a_request_key_with_a_trailing_newline_is_refused(client):
    response = client.post(
        "/api/v1/tickets", json={"service": "checkup", "request_key": "abcdefgh\n"}
    )

    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_request_key"


@pytest.mark.parametrize("path", ["history", "reprint"])
def test_an_impossible_ticket_id_is_not_found(client, path):
    auth.create_user("reception", PASSWORD, role="receptionist")
    headers = {"X-CSRF-Token": staff_login(client).get_json()["csrf"]}
    method = client.get if path == "history" else client.post

    response = method(f"/api/v1/tickets/{10**25}/{path}", headers=headers)
    too_big = method(f"/api/v1/tickets/{2**63 - 1}/{path}", headers=headers)

    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"  # no such address
    assert too_big.status_code == 404
    assert too_big.get_json()["error"]["code"] == "unknown_ticket"


# -- the kiosk's paper check -----------------------------------------------------


def test_the_kiosk_learns_when_the_paper_came_out(client, hub):
    token = issue(client)["ticket"]["token"]

    assert client.get(f"/api/v1/tickets/{token}/paper").get_json() == {
        "paper": "printing"
    }
    hub.spool.process_due()
    assert client.get(f"/api/v1/tickets/{token}/paper").get_json() == {
        "paper": "printed"
    }


def test_a_ticket_without_a_kiosk_has_no_paper(client):
    response = client.post("/api/v1/tickets", json={"service": "checkup"})
    token = response.get_json()["ticket"]["token"]

    assert response.get_json()["printer"] == "none"
    assert client.get(f"/api/v1/tickets/{token}/paper").get_json() == {"paper": "none"}


# -- the tablet locks itself when nobody touches it ------------------------------------


def leave_tablet_alone(client, minutes: float) -> None:
    with client.session_transaction() as saved:
        saved["seen"] -= int(minutes * 60)


def test_an_idle_tablet_asks_for_the_pin_again(tablet):
    client, headers = tablet
    leave_tablet_alone(client, 11)

    action = client.post("/api/v1/dentist/call-next", headers=headers)
    page = client.get("/dentist/?lang=en").get_data(as_text=True)

    assert action.status_code == 401
    assert error_of(action)["code"] == "sign_in_dentist"
    assert '"locked": "karimova"' in page
    assert "tablet.js" not in page
    assert dentist_login(client).status_code == 200
    assert client.get("/api/v1/dentist/state").status_code == 200


def test_touching_the_tablet_keeps_it_unlocked(tablet):
    client, headers = tablet
    leave_tablet_alone(client, 9)
    assert client.post("/api/v1/dentist/awake", headers=headers).status_code == 204

    leave_tablet_alone(client, 9)

    assert client.get("/api/v1/dentist/state").status_code == 200
    page = client.get("/dentist/").get_data(as_text=True)
    assert "tablet.js" in page


def test_reading_the_state_alone_does_not_keep_it_unlocked(tablet):
    client, _ = tablet
    leave_tablet_alone(client, 6)
    client.get("/api/v1/dentist/state")

    leave_tablet_alone(client, 6)

    assert client.get("/api/v1/dentist/state").status_code == 401


def test_a_locked_tablet_cannot_join_the_staff_stream(tablet, app):
    from server.realtime import socketio

    client, _ = tablet
    leave_tablet_alone(client, 11)

    socket = socketio.test_client(
        app, flask_test_client=client, auth={"audience": "staff"}
    )

    assert not socket.is_connected()


# -- a flood of tickets from one address ------------------------------------------


def test_one_address_takes_only_so_many_tickets_a_minute(tmp_path):
    from server import config as config_module
    from server.app import create_app
    from server.db import database
    from server.models import Ticket
    from tests.conftest import sign_in_staff, write_config

    path = write_config(tmp_path, queue={"tickets_per_minute_per_address": 3})
    app = create_app(config_module.load(path))
    try:
        kiosk = app.test_client()
        ticket = {"service": "checkup", "kiosk": "lobby", "lang": "en"}
        answers = [kiosk.post("/api/v1/tickets", json=ticket) for _ in range(4)]
        desk = app.test_client()
        headers = sign_in_staff(desk, "receptionist")
        by_staff = desk.post("/api/v1/tickets", json=ticket, headers=headers)

        assert [a.status_code for a in answers] == [201, 201, 201, 429]
        assert "ask at reception" in answers[-1].get_json()["error"]["message"]
        assert by_staff.status_code == 201
        assert Ticket.select().where(Ticket.service == "checkup").count() == 4
    finally:
        database.close()


@pytest.mark.parametrize(
    ("lang", "words"), [("ru", "Такого адреса"), ("uz", "manzil"), ("en", "no such")]
)
def test_a_missing_page_answers_in_the_readers_language(client, lang, words):
    answer = client.get(f"/kiosk/no-such-kiosk?lang={lang}")

    assert answer.status_code == 404
    assert words in answer.get_data(as_text=True)
    assert "Not Found" not in answer.get_data(as_text=True)
