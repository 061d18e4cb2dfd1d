"""The patient API: reception's work, dentists' own cards, the kiosk, privacy."""

from __future__ import annotations

import json

import pytest

from server import auth
from server.db import database
from server.models import Ticket
from server.realtime import socketio
from tests.conftest import sign_in_staff

PIN = "135790"
NAME = ("Zebiniso", "Qodirova")
CARD = {
    "first_name": NAME[0],
    "last_name": NAME[1],
    "birth_date": "05.11.1984",
    "phone": "90 123-45-67",
    "flags": ["allergies", "anticoagulants"],
    "notes": "Afraid of needles",
}


def everything() -> dict[str, list[tuple]]:
    """Read every row of every table, to prove a refusal wrote nothing."""
    return {
        table: database.execute_sql(f'SELECT * FROM "{table}" ORDER BY 1').fetchall()
        for table in database.get_tables()
    }


def register(client, headers, **changes) -> dict:
    answer = client.post(
        "/api/v1/patients",
        json=dict(CARD, confirm_new=True, **changes),
        headers=headers,
    )
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()["patient"]


def issue(client, service="checkup") -> dict:
    answer = client.post("/api/v1/tickets", json={"service": service, "kiosk": "lobby"})
    assert answer.status_code == 201, answer.get_json()
    ticket = answer.get_json()["ticket"]
    return dict(ticket, id=Ticket.get(Ticket.token == ticket["token"]).id)


def link(client, headers, number: str, ticket: dict) -> None:
    """Link a ticket to a card, as reception does from the day's queue."""
    answer = client.post(
        f"/api/v1/patients/{number}/visits",
        json={"ticket": ticket["id"]},
        headers=headers,
    )
    assert answer.status_code == 201, answer.get_json()


def tablet(app, dentist="karimova"):
    client = app.test_client()
    auth.set_pin(dentist, PIN)
    answer = client.post("/api/v1/dentist/login", json={"dentist": dentist, "pin": PIN})
    assert answer.status_code == 200
    return client, {"X-CSRF-Token": answer.get_json()["csrf"]}


@pytest.fixture
def desk(client):
    return client, sign_in_staff(client, "receptionist")


# -- reception's work ------------------------------------------------------------------


def test_register_find_and_read_a_card(desk, app):
    client, headers = desk

    card = register(client, headers)
    found = client.get("/api/v1/patients?q=90 123-45-67").get_json()["patients"]
    by_script = client.get("/api/v1/patients?q=Кодирова").get_json()["patients"]
    read = client.get(f"/api/v1/patients/{card['number']}").get_json()["patient"]

    assert card["number"] == "P-000001"
    assert (
        [p["number"] for p in found] == [p["number"] for p in by_script] == ["P-000001"]
    )
    assert read["phone_display"] == "+998 90 123 45 67"
    assert read["flags"] == ["allergies", "anticoagulants"]
    assert [a["action"] for a in read["audit"]] == ["viewed", "created"]
    assert read["audit"][0]["who"] == "Test receptionist"


def test_a_possible_duplicate_needs_confirming(desk):
    client, headers = desk
    register(client, headers)
    again = dict(CARD, first_name="Зебинисо", last_name="Кодирова", phone="911112233")

    refused = client.post("/api/v1/patients?lang=en", json=again, headers=headers)
    checked = client.post("/api/v1/patients/duplicates", json=again, headers=headers)
    accepted = client.post(
        "/api/v1/patients", json=dict(again, confirm_new=True), headers=headers
    )

    assert refused.status_code == 409
    body = refused.get_json()
    assert body["error"]["code"] == "possible_duplicates"
    assert body["error"]["message"].startswith("This patient may already have a card")
    assert [(c["number"], c["reason"]) for c in body["candidates"]] == [
        ("P-000001", "name")
    ]
    assert checked.get_json()["candidates"] == body["candidates"]
    assert accepted.status_code == 201


def test_a_bad_field_names_the_field(desk):
    client, headers = desk

    answer = client.post(
        "/api/v1/patients?lang=ru",
        json=dict(CARD, email="ali@"),
        headers=headers,
    )

    assert answer.status_code == 400
    assert answer.get_json()["error"] == {
        "code": "email_invalid",
        "field": "email",
        "message": "Проверьте адрес e-mail: он не похож на адрес почты. Наберите его "
        "как name@example.uz или оставьте пустым.",
    }


def test_history_update_merge_export_and_delete(desk, app):
    client, headers = desk
    first = register(client, headers)["number"]
    second = register(client, headers, phone="911112233", notes="")["number"]
    ticket = issue(client)

    steps = [
        ("PATCH", f"/patients/{first}", {"condition": "Caries 36", "lang": "ru"}),
        ("POST", f"/patients/{first}/payments", {"amount": 150000, "method": "cash"}),
        ("POST", f"/patients/{second}/payments", {"amount": 90000, "method": "card"}),
        ("POST", f"/patients/{second}/complaints", {"text": "Waited too long"}),
        ("POST", f"/patients/{second}/visits", {"ticket": ticket["id"]}),
        ("POST", "/patients/merge", {"keep": first, "drop": second}),
    ]
    for method, path, data in steps:
        answer = client.open(
            "/api/v1" + path, method=method, json=data, headers=headers
        )
        assert answer.status_code in (200, 201), (path, answer.get_json())

    export = client.get(f"/api/v1/patients/{first}/export")
    assert export.headers["Content-Disposition"] == (
        'attachment; filename="patient-P-000001.json"'
    )
    data = json.loads(export.get_data(as_text=True))
    assert data["card"]["condition"] == "Caries 36"
    assert sorted(p["amount"] for p in data["payments"]) == [90000, 150000]
    assert [c["text"] for c in data["complaints"]] == ["Waited too long"]
    assert [v["label"] for v in data["visits"]] == [ticket["label"]]

    assert (
        client.delete(f"/api/v1/patients/{first}", headers=headers).status_code == 200
    )
    gone = client.get(f"/api/v1/patients/{first}").get_json()["patient"]
    assert gone["deleted"] and gone["first_name"] == "" and gone["phone"] == ""
    assert len(gone["visits"]) == 1 and len(gone["payments"]) == 2
    assert client.get("/api/v1/patients?q=Qodirova").get_json()["patients"] == []


def test_today_links_show_which_ticket_is_whose(desk):
    client, headers = desk
    number = register(client, headers)["number"]
    linked, loose = issue(client), issue(client)
    link(client, headers, number, linked)

    tickets = client.get("/api/v1/patients/tickets/today").get_json()["tickets"]

    assert tickets[linked["label"]]["patient"]["number"] == number
    assert tickets[loose["label"]] == {"id": loose["id"], "patient": None}


def test_the_admin_sees_the_days_takings(app):
    client = app.test_client()
    headers = sign_in_staff(client, "admin")
    number = register(client, headers)["number"]
    for amount, method in ((100000, "cash"), (40000, "transfer"), (60000, "cash")):
        client.post(
            f"/api/v1/patients/{number}/payments",
            json={"amount": amount, "method": method},
            headers=headers,
        )

    takings = client.get("/api/v1/payments/takings").get_json()

    assert takings["total"] == 200000
    assert takings["methods"]["cash"] == {"amount": 160000, "count": 2}
    desk = app.test_client()
    sign_in_staff(desk, "receptionist")
    assert desk.get("/api/v1/payments/takings").status_code == 403


# -- who may do what -------------------------------------------------------------------


def patient_calls(number: str, ticket_id: int) -> list[tuple[str, str, dict]]:
    """Every patient endpoint, with a body that would succeed for staff."""
    return [
        ("GET", "/patients?q=Qodirova", {}),
        ("POST", "/patients", dict(CARD, phone="935550000", confirm_new=True)),
        ("POST", "/patients/duplicates", CARD),
        ("GET", "/patients/flags", {}),
        (
            "POST",
            "/patients/flags",
            {"flag_code": "latex", "names": {"uz": "L", "ru": "Л", "en": "L"}},
        ),
        ("GET", f"/patients/{number}", {}),
        ("PATCH", f"/patients/{number}", {"notes": "changed"}),
        ("POST", f"/patients/{number}/payments", {"amount": 5000, "method": "cash"}),
        ("POST", f"/patients/{number}/complaints", {"text": "Rude"}),
        ("POST", f"/patients/{number}/visits", {"ticket": ticket_id}),
        ("POST", f"/patients/{number}/visits/{ticket_id}/note", {"note": "Filled 36"}),
        ("GET", f"/patients/{number}/export", {}),
        ("POST", "/patients/merge", {"keep": number, "drop": "P-000002"}),
        ("GET", "/patients/tickets/today", {}),
        ("GET", "/payments/takings", {}),
        ("GET", "/dentist/patient", {}),
        ("DELETE", f"/patients/{number}", {}),
    ]


CARE = {
    ("GET", "/patients/flags"),
    ("GET", "/patients/{n}"),
    ("POST", "/patients/{n}/complaints"),
    ("POST", "/patients/{n}/visits/{t}/note"),
}


def expected(who: str, method: str, pattern: str, own: bool) -> bool:
    """Whether who may make this call (own: the card is on their ticket)."""
    if pattern == "/payments/takings" or (method, pattern) == (
        "POST",
        "/patients/flags",
    ):
        return who == "admin"
    if pattern == "/dentist/patient":
        return who in ("dentist", "tablet")
    if who in ("admin", "receptionist"):
        return True
    if pattern == "/patients?q=Qodirova":  # a dentist finds only their own
        return who == "dentist"
    if who in ("dentist", "tablet") and (method, pattern) in CARE:
        return own or pattern == "/patients/flags"
    return False


def pattern_of(path: str, number: str, ticket_id: int) -> str:
    return path.replace(number, "{n}").replace(f"/{ticket_id}/", "/{t}/")


def become(app, client, who: str) -> dict:
    if who == "nobody":
        return {}
    if who == "tablet":
        auth.set_pin("karimova", PIN)
        answer = client.post(
            "/api/v1/dentist/login", json={"dentist": "karimova", "pin": PIN}
        )
        return {"X-CSRF-Token": answer.get_json()["csrf"]}
    return sign_in_staff(client, who, "karimova" if who == "dentist" else None)


@pytest.mark.parametrize("own", [True, False], ids=["own patient", "other patient"])
@pytest.mark.parametrize(
    "who", ["nobody", "admin", "receptionist", "dentist", "tablet"]
)
def test_every_patient_endpoint_with_every_role(app, who, own):
    setup = app.test_client()
    headers = sign_in_staff(setup, "admin")
    number = register(setup, headers)["number"]
    register(setup, headers, phone="911112233", first_name="Dilnoza")
    ticket = issue(setup)
    link(setup, headers, number, ticket)
    if own:  # karimova calls the ticket: the card is now on her ticket
        hub = app.extensions["navbat"]
        hub.queue.call_ticket("karimova", ticket["id"])

    client = app.test_client()
    who_headers = become(app, client, who)
    for method, path, data in patient_calls(number, ticket["id"]):
        before = everything()
        pattern = pattern_of(path, number, ticket["id"])
        answer = client.open(
            "/api/v1" + path, method=method, json=data, headers=who_headers
        )
        refused = answer.status_code in (401, 403)
        assert refused != expected(who, method, pattern, own), (
            who,
            method,
            path,
            answer.status_code,
            answer.get_json(),
        )
        if refused:
            assert answer.status_code == (401 if who == "nobody" else 403)
            assert answer.get_json()["error"]["message"]
            # A refusal writes nothing, not even an audit line.
            assert everything() == before, (who, method, path)


def test_a_dentist_reads_only_the_clinical_part(app, client):
    headers = sign_in_staff(client, "receptionist")
    number = register(client, headers)["number"]
    ticket = issue(client)
    link(client, headers, number, ticket)
    client.post(
        f"/api/v1/patients/{number}/payments",
        json={"amount": 5, "method": "cash"},
        headers=headers,
    )
    app.extensions["navbat"].queue.call_ticket("karimova", ticket["id"])
    dentist, _ = tablet(app)

    card = dentist.get(f"/api/v1/patients/{number}").get_json()["patient"]

    assert card["last_name"] == NAME[1] and card["flags"] == CARD["flags"]
    assert "phone" not in card and "email" not in card
    assert "payments" not in card and "audit" not in card
    audit = client.get(f"/api/v1/patients/{number}").get_json()["patient"]["audit"]
    assert ("viewed", "dentist:karimova") in [(a["action"], a["actor"]) for a in audit]


# -- the tablet and the kiosk ----------------------------------------------------------


def test_the_tablet_shows_the_called_patients_risk_flags(app, client):
    headers = sign_in_staff(client, "receptionist")
    number = register(client, headers)["number"]
    ticket = issue(client)
    link(client, headers, number, ticket)
    dentist, dentist_headers = tablet(app)
    assert dentist.get("/api/v1/dentist/patient").get_json() == {"patient": None}

    dentist.post("/api/v1/dentist/call-next", headers=dentist_headers)
    shown = dentist.get("/api/v1/dentist/patient?lang=en").get_json()["patient"]

    assert shown["number"] == number and shown["last_name"] == NAME[1]
    assert shown["flags"] == [
        {"code": "allergies", "label": "Allergies"},
        {"code": "anticoagulants", "label": "Takes blood thinners"},
    ]


@pytest.mark.parametrize("phone", ["90 123-45-67", "+998 91 000 00 00"])
def test_the_kiosk_answers_the_same_whether_or_not_a_card_matches(desk, phone):
    client, headers = desk
    register(client, headers)
    ticket = issue(client)
    kiosk = client.application.test_client()

    answer = kiosk.post(
        f"/api/v1/tickets/{ticket['token']}/phone", json={"phone": phone}
    )

    assert (answer.status_code, answer.get_json()) == (200, {"ok": True})
    tickets = client.get("/api/v1/patients/tickets/today").get_json()["tickets"]
    linked = tickets[ticket["label"]]["patient"]
    assert (linked is not None) == (phone == "90 123-45-67")


def test_the_kiosk_refuses_a_malformed_phone(client):
    ticket = issue(client)

    answer = client.post(
        f"/api/v1/tickets/{ticket['token']}/phone?lang=en", json={"phone": "12"}
    )

    assert answer.status_code == 400
    assert answer.get_json()["error"]["code"] == "phone_invalid"


# -- what never shows a patient --------------------------------------------------------


def test_screens_paper_and_events_never_carry_patient_data(app, client, tmp_path):
    hub = app.extensions["navbat"]
    headers = sign_in_staff(client, "receptionist")
    staff_socket = socketio.test_client(
        app, flask_test_client=client, auth={"audience": "staff"}
    )
    display = socketio.test_client(app, auth={"audience": "display"})
    number = register(client, headers)["number"]
    ticket = issue(client)
    link(client, headers, number, ticket)
    phone_socket = socketio.test_client(
        app, auth={"audience": "ticket", "token": ticket["token"]}
    )
    hub.spool.process_due()
    dentist, dentist_headers = tablet(app)
    dentist.post("/api/v1/dentist/call-next", headers=dentist_headers)

    public = app.test_client()
    seen = [
        public.get("/api/v1/queue").get_data(as_text=True),
        public.get(f"/api/v1/tickets/{ticket['token']}").get_data(as_text=True),
        public.get(f"/t/{ticket['token']}").get_data(as_text=True),
        public.get("/display/").get_data(as_text=True),
        json.dumps(display.get_received(), ensure_ascii=False),
        json.dumps(phone_socket.get_received(), ensure_ascii=False),
        json.dumps(staff_socket.get_received(), ensure_ascii=False),
        json.dumps(dentist.get("/api/v1/dentist/state").get_json(), ensure_ascii=False),
    ]
    paper = b"".join(p.read_bytes() for p in (tmp_path / "print").glob("*.bin"))

    for text in seen:
        for secret in (*NAME, "123 45 67", "901234567", number, "allerg"):
            assert secret.lower() not in text.lower(), (secret, text[:200])
    for secret in (*NAME, "901234567", number):
        assert secret.encode() not in paper
    assert paper  # the ticket was printed


def test_a_dentist_finds_only_their_own_patients(app, client):
    headers = sign_in_staff(client, "receptionist")
    mine = register(client, headers)["number"]
    register(client, headers, first_name="Zarina", phone="911112233")
    ticket = issue(client)
    link(client, headers, mine, ticket)
    app.extensions["navbat"].queue.call_ticket("karimova", ticket["id"])
    dentist = app.test_client()
    sign_in_staff(dentist, "dentist", "karimova")

    found = dentist.get("/api/v1/patients?q=Qodirova").get_json()["patients"]

    assert [p["number"] for p in found] == [mine]
    assert client.get("/api/v1/patients?q=Qodirova").get_json()["patients"] != found


@pytest.mark.parametrize("lang", ["uz", "ru", "en"])
def test_the_patient_pages_render_in_each_language(app, client, lang):
    from server.i18n import translate

    headers = sign_in_staff(client, "receptionist")
    number = register(client, headers)["number"]
    pages = {
        "/reception/patients": "patients.search_label",
        "/reception/patients/new": "patients.register_title",
        f"/reception/patients/{number}": "patients.visits",
        f"/reception/patients/{number}/edit": "patients.first_name",
    }

    for path, key in pages.items():
        answer = client.get(f"{path}?lang={lang}")
        html = answer.get_data(as_text=True)
        assert answer.status_code == 200, path
        assert f'<html lang="{lang}">' in html and translate(lang, key) in html, path
    # The list of cards comes from the API, never in the page itself.
    assert NAME[1] not in client.get(f"/reception/patients/{number}").get_data(True)


def test_a_dentist_has_no_registration_page(app):
    client = app.test_client()
    sign_in_staff(client, "dentist", "karimova")

    assert client.get("/reception/patients").status_code == 200
    assert client.get("/reception/patients/new").status_code == 403
    signed_out = app.test_client().get("/reception/patients")
    assert signed_out.status_code == 302
    assert signed_out.location.startswith("/reception/?next=")


def test_staff_read_refusals_in_their_own_language_not_the_patients(desk):
    client, headers = desk
    with client.session_transaction() as saved:
        saved["lang"] = "ru"

    answer = client.post(
        "/api/v1/patients",
        json=dict(CARD, first_name="", lang="en", confirm_new=True),
        headers=headers,
    )

    assert answer.status_code == 400
    assert "Укажите" in answer.get_json()["error"]["message"]
