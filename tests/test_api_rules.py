"""Issue #4's endpoints through Flask's test client: answers, refusals, who may."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest

from server import auth
from server import config as config_module
from server.db import database
from server.rules import wait_band
from tests.conftest import write_config
from tests.test_api import PASSWORD, PIN, assert_sentence, error_of
from tests.test_engine import Clock
from tests.test_queue_rules import hours, local, snapshot

API = "/api/v1"


@pytest.fixture
def clock() -> Clock:
    return Clock(local("2026-12-04 12:00"))  # a Friday noon


@pytest.fixture
def queue(app, clock):
    """The app's own queue engine, on the test's clock."""
    engine = app.extensions["navbat"].queue
    engine.clock = clock
    return engine


@dataclass
class Signed:
    """A test client signed in, which sends its CSRF token with every POST."""

    client: object
    headers: dict

    def post(self, path: str, json=None, **kwargs):
        kwargs.setdefault("headers", self.headers)
        return self.client.post(f"{API}{path}?lang=en", json=json, **kwargs)

    def get(self, path: str):
        return self.client.get(f"{API}{path}?lang=en").get_json()


def sign_in(client, path: str, credentials: dict) -> Signed:
    response = client.post(f"{API}{path}", json=credentials)
    assert response.status_code == 200, response.get_json()
    return Signed(client, {"X-CSRF-Token": response.get_json()["csrf"]})


@pytest.fixture
def tablet(app, queue) -> Signed:
    """Dr. Karimova (checkup and treatment, room 1) signed in on a tablet."""
    auth.set_pin("karimova", PIN)
    return sign_in(
        app.test_client(), "/dentist/login", {"dentist": "karimova", "pin": PIN}
    )


@pytest.fixture
def desk(app, queue) -> Signed:
    """A receptionist signed in at the front desk."""
    auth.create_user("reception", PASSWORD, role="receptionist")
    return sign_in(
        app.test_client(),
        "/staff/login",
        {"username": "reception", "password": PASSWORD},
    )


def issue(queue, service="checkup", priority="normal"):
    return queue.issue(
        service, kiosk_id="lobby", lang="en", priority=priority, by_staff=True
    ).ticket


def refused(response, status: int, code: str, message: str) -> None:
    assert response.status_code == status, response.get_json()
    error = error_of(response)
    assert (error["code"], error["message"]) == (code, message)
    assert_sentence(error["message"])


def history(queue, ticket_id: int) -> list[tuple[str, str]]:
    return [(e["action"], e["actor"]) for e in queue.history(ticket_id)]


# -- /services -------------------------------------------------------------------


def test_services_tell_the_kiosk_what_is_open_and_the_wait(client, queue, clock):
    for _ in range(2):
        clock.tick(1)
        issue(queue, "hygiene")  # only Nazarova does hygiene, 45 min each

    services = client.get(f"{API}/services?lang=en").get_json()["services"]

    assert [s["id"] for s in services] == [
        "checkup",
        "treatment",
        "extraction",
        "hygiene",
    ]
    for service in services:
        assert service["open"] is True
        assert (service["reason"], service["message"]) == ("", "")
        assert (service["opens"], service["closes"]) == ("00:00", "24:00")
    waits = {s["id"]: s["wait"] for s in services}
    assert waits["checkup"] == [0, 5]
    assert waits["hygiene"] == list(wait_band(timedelta(minutes=90)))


@pytest.fixture
def clinic_hours(tmp_path, clock):
    """An app whose services open 08:00-18:00, Monday to Saturday."""
    from server.app import create_app

    path = write_config(
        tmp_path,
        server={"async_mode": "threading", "host": "127.0.0.1"},
        clinic={"public_url": "http://127.0.0.1:5000"},
        services=hours(),
        queue={"stop_issuing_minutes_before_close": 15},
    )
    app = create_app(config_module.load(path))
    app.config["TESTING"] = True
    app.extensions["navbat"].queue.clock = clock
    yield app
    database.close()


CLOSED = [
    # (Tashkent time, reason, what the kiosk reads in English)
    (
        "2026-12-06 12:00",
        "closed_today",
        "This service is not offered today. Please ask at reception.",
    ),
    (
        "2026-12-07 07:00",
        "not_open_yet",
        "This service opens at 08:00. Please come back then or ask at reception.",
    ),
    (
        "2026-12-07 17:50",
        "closing",
        "No more tickets for this service today: it closes at 18:00.",
    ),
]


@pytest.mark.parametrize(("when", "reason", "message"), CLOSED)
def test_a_closed_service_says_why(clinic_hours, clock, when, reason, message):
    client = clinic_hours.test_client()
    clock.at = local(when)

    services = client.get(f"{API}/services?lang=en").get_json()["services"]
    before = snapshot()
    response = client.post(
        f"{API}/tickets?lang=en", json={"service": "checkup", "kiosk": "lobby"}
    )

    checkup = services[0]
    assert (checkup["open"], checkup["reason"], checkup["message"]) == (
        False,
        reason,
        message,
    )
    refused(response, 409, f"service_{reason}", message)
    assert snapshot() == before


def test_a_full_line_turns_walk_ins_away_but_not_an_emergency(clinic_hours, clock):
    client = clinic_hours.test_client()
    queue = clinic_hours.extensions["navbat"].queue
    clock.at = local("2026-12-07 15:59")
    for _ in range(5):  # one surgeon, 30 min each: the sixth ends after 18:00
        clock.tick(1)
        issue(queue, "extraction")
    message = (
        "Today's line for this service is full: it could not be served before "
        "18:00. Please ask at reception."
    )

    services = client.get(f"{API}/services?lang=en").get_json()["services"]
    walk_in = client.post(
        f"{API}/tickets?lang=en", json={"service": "extraction", "kiosk": "lobby"}
    )
    urgent = client.post(
        f"{API}/tickets?lang=en",
        json={"service": "extraction", "kiosk": "lobby", "priority": "emergency"},
    )

    extraction = {s["id"]: s for s in services}["extraction"]
    assert (extraction["reason"], extraction["message"]) == ("full", message)
    refused(walk_in, 409, "service_full", message)
    assert urgent.status_code == 201
    assert urgent.get_json()["ticket"]["label"] == "C-006"


# -- what the kiosk may ask for ----------------------------------------------------


KIOSK_REFUSALS = [
    (
        "checkup",
        "appointment",
        403,
        "priority_not_at_kiosk",
        "This kind of ticket (Appointment) is given at reception, not at the kiosk.",
    ),
    (
        "checkup",
        "emergency",
        403,
        "priority_not_at_kiosk",
        "This kind of ticket (Emergency) is given at reception, not at the kiosk.",
    ),
    (
        "checkup",
        "vip",
        400,
        "unknown_priority",
        "There is no priority “vip”. Use emergency, appointment, priority or normal.",
    ),
]


@pytest.mark.parametrize(
    ("service", "priority", "status", "code", "message"), KIOSK_REFUSALS
)
def test_the_kiosk_may_not_ask_for_every_class(
    client, queue, service, priority, status, code, message
):
    before = snapshot()

    response = client.post(
        f"{API}/tickets?lang=en",
        json={"service": service, "kiosk": "lobby", "priority": priority},
    )

    refused(response, status, code, message)
    assert snapshot() == before


def test_the_kiosk_offers_priority_and_the_urgent_button(client, queue):
    answers = [
        client.post(f"{API}/tickets", json={"service": service, "priority": priority})
        for service, priority in [("checkup", "priority"), ("extraction", "emergency")]
    ]

    assert [a.status_code for a in answers] == [201, 201]
    assert [a.get_json()["ticket"]["priority"] for a in answers] == [
        "priority",
        "emergency",
    ]


def test_reception_may_issue_an_appointment(desk, queue):
    response = desk.post("/tickets", {"service": "checkup", "priority": "appointment"})

    assert response.status_code == 201
    assert response.get_json()["ticket"]["priority"] == "appointment"


# -- the patient's own cancel --------------------------------------------------------


def test_a_patient_leaves_the_queue_from_their_phone(client, queue):
    ticket = issue(queue)

    response = client.post(f"{API}/tickets/{ticket.token}/cancel?lang=en", json={})

    assert response.status_code == 200
    assert response.get_json()["ticket"]["state"] == "cancelled"
    assert "token" not in response.get_json()["ticket"]
    phone = client.get(f"{API}/tickets/{ticket.token}").get_json()["ticket"]
    assert phone["state"] == "cancelled"
    assert history(queue, ticket.id)[-1] == ("cancelled", "patient")


def test_a_cancelled_or_seated_ticket_cannot_be_cancelled_again(client, queue):
    gone = issue(queue)
    seated = issue(queue)
    queue.cancel(gone.id, actor="patient")
    queue.call_next("karimova")
    queue.start("karimova")
    before = snapshot()

    answers = {
        label: client.post(f"{API}/tickets/{token}/cancel?lang=en", json={})
        for label, token in [("A-001", gone.token), ("A-002", seated.token)]
    }

    for label, response in answers.items():
        refused(
            response,
            409,
            "cannot_cancel",
            f"Ticket {label} is already in the chair or closed, so it cannot be "
            "cancelled.",
        )
    assert snapshot() == before


def test_cancel_needs_a_json_post_and_a_real_token(client, queue):
    ticket = issue(queue)
    before = snapshot()

    form = client.post(f"{API}/tickets/{ticket.token}/cancel?lang=en", data={"x": "1"})
    unknown = client.post(f"{API}/tickets/not-a-token/cancel?lang=en", json={})

    assert form.status_code == 400
    assert error_of(form)["code"] == "not_json"
    refused(unknown, 404, "unknown_ticket", "This ticket was not found.")
    assert snapshot() == before


# -- the tablet: call a chosen ticket ---------------------------------------------


def test_the_dentist_calls_a_patient_from_the_list(tablet, queue):
    issue(queue)
    chosen = issue(queue, "treatment")

    response = tablet.post(f"/dentist/call/{chosen.id}")

    assert response.status_code == 200
    assert response.get_json()["ticket"]["label"] == "B-001"
    assert response.get_json()["ticket"]["room"] == "1"
    state = tablet.get("/dentist/state")
    assert state["current"]["label"] == "B-001"
    assert [t["label"] for t in state["waiting"]] == ["A-001"]
    assert history(queue, chosen.id)[-1] == ("called", "dentist:karimova")


def called_by_rahimov(queue):
    ticket = issue(queue)
    queue.call_next("rahimov")
    return ticket.id


def a_hygiene_ticket(queue):
    return issue(queue, "hygiene").id


def reserved_for_rahimov(queue):
    ticket = issue(queue)
    queue.transfer(ticket.id, "checkup", dentist_id="rahimov", actor="staff:1")
    return ticket.id


def karimova_on_a_break(queue):
    queue.pause("karimova")
    return issue(queue).id


def karimova_busy(queue):
    issue(queue)
    queue.call_next("karimova")
    return issue(queue).id


def nothing(queue):
    issue(queue)
    return 999


CALL_REFUSALS = [
    (
        called_by_rahimov,
        409,
        "not_waiting",
        "Ticket A-001 is not waiting any more. Look at the list again.",
    ),
    (
        a_hygiene_ticket,
        409,
        "not_your_service",
        "Ticket D-001 is not for your services.",
    ),
    (
        reserved_for_rahimov,
        409,
        "not_your_service",
        "Ticket A-001 is not for your services.",
    ),
    (
        karimova_on_a_break,
        409,
        "paused",
        "You are on a break. Press Resume to take patients again.",
    ),
    (
        karimova_busy,
        409,
        "finish_current_first",
        "Ticket A-001 is still yours. Press Done first (or No-show if the patient "
        "did not come).",
    ),
    (nothing, 404, "unknown_ticket", "This ticket was not found."),
]


@pytest.mark.parametrize(("setup", "status", "code", "message"), CALL_REFUSALS)
def test_calling_a_chosen_ticket_is_refused(
    tablet, queue, setup, status, code, message
):
    ticket_id = setup(queue)
    before = snapshot()

    response = tablet.post(f"/dentist/call/{ticket_id}")

    refused(response, status, code, message)
    assert snapshot() == before


# -- the tablet: transfer ----------------------------------------------------------


def test_the_dentist_sends_a_patient_to_a_colleague(tablet, queue, app):
    ticket = issue(queue)
    issue(queue, "treatment")
    tablet.post("/dentist/call-next")

    response = tablet.post(
        "/dentist/transfer", {"service": "treatment", "dentist": "rahimov"}
    )

    assert response.status_code == 200
    moved = response.get_json()["ticket"]
    assert (moved["label"], moved["service"], moved["state"]) == (
        "A-001",
        "treatment",
        "waiting",
    )
    assert moved["issued_at"] == ticket.issued_at
    state = tablet.get("/dentist/state")
    assert state["current"] is None
    assert [t["label"] for t in state["waiting"]] == ["B-001"]
    assert queue.waiting(["treatment"], dentist="rahimov")[0].label == "A-001"
    assert history(queue, ticket.id)[-1] == ("transferred", "dentist:karimova")


def test_the_dentist_sends_a_patient_to_another_service(tablet, queue):
    issue(queue)
    tablet.post("/dentist/call-next")

    response = tablet.post("/dentist/transfer", {"service": "hygiene"})

    assert response.status_code == 200
    assert response.get_json()["ticket"]["service"] == "hygiene"
    assert [t.label for t in queue.waiting(["hygiene"])] == ["A-001"]


TRANSFER_REFUSALS = [
    # (a patient in the room, the body, status, code, message)
    (
        True,
        {"service": "treatment", "dentist": "nazarova"},
        409,
        "dentist_lacks_service",
        "Malika Nazarova does not provide the service “Tooth treatment”.",
    ),
    (
        True,
        {"service": "massage"},
        404,
        "unknown_service",
        "There is no service “massage”. Choose one of the services on the screen.",
    ),
    (True, {}, 400, "field_missing", "Please fill in the service."),
    (
        False,
        {"service": "treatment"},
        409,
        "no_current_ticket",
        "There is no patient in your room now. Press Call next first.",
    ),
]


@pytest.mark.parametrize(
    ("busy", "body", "status", "code", "message"), TRANSFER_REFUSALS
)
def test_a_transfer_is_refused(tablet, queue, busy, body, status, code, message):
    issue(queue)
    if busy:
        queue.call_next("karimova")
    before = snapshot()

    response = tablet.post("/dentist/transfer", body)

    refused(response, status, code, message)
    assert snapshot() == before


def test_a_transfer_must_be_json(tablet, queue):
    issue(queue)
    queue.call_next("karimova")
    before = snapshot()

    response = tablet.post("/dentist/transfer", data="service=treatment")

    assert response.status_code == 400
    assert error_of(response)["code"] == "not_json"
    assert snapshot() == before


# -- the tablet: a break ------------------------------------------------------------


def test_a_break_stops_the_calls_until_resume(tablet, queue):
    issue(queue)

    paused = tablet.post("/dentist/pause")
    refusal = tablet.post("/dentist/call-next")
    state = tablet.get("/dentist/state")
    resumed = tablet.post("/dentist/resume")
    called = tablet.post("/dentist/call-next")

    assert (paused.status_code, paused.get_json()) == (200, {"paused": True})
    refused(
        refusal,
        409,
        "paused",
        "You are on a break. Press Resume to take patients again.",
    )
    assert state["paused"] is True
    assert (resumed.status_code, resumed.get_json()) == (200, {"paused": False})
    assert called.get_json()["ticket"]["label"] == "A-001"
    assert tablet.get("/dentist/state")["paused"] is False


def test_no_break_with_a_patient_in_the_room(tablet, queue):
    issue(queue)
    tablet.post("/dentist/call-next")
    before = snapshot()

    response = tablet.post("/dentist/pause")

    refused(
        response,
        409,
        "finish_before_pause",
        "Ticket A-001 is still yours. Finish it before your break.",
    )
    assert snapshot() == before


# -- who may use the tablet's new buttons ----------------------------------------------


TABLET_POSTS = [
    ("/dentist/call/1", None),
    ("/dentist/transfer", {"service": "treatment"}),
    ("/dentist/pause", None),
    ("/dentist/resume", None),
]


def test_tablet_buttons_need_a_signed_in_dentist(client, desk, queue):
    issue(queue)
    issue(queue)
    queue.call_next("karimova")
    queue.pause("rahimov")
    before = snapshot()
    message = "Please sign in on the tablet with your PIN first."

    for path, body in TABLET_POSTS:
        anonymous = client.post(f"{API}{path}?lang=en", json=body)
        reception = desk.post(path, body)
        refused(anonymous, 401, "sign_in_dentist", message)
        refused(reception, 401, "sign_in_dentist", message)

    assert snapshot() == before


def test_tablet_buttons_need_the_csrf_token(tablet, queue):
    issue(queue)
    issue(queue)
    queue.call_next("karimova")
    before = snapshot()
    message = "This page is out of date. Reload it and try again."

    for path, body in TABLET_POSTS:
        for headers in ({}, {"X-CSRF-Token": "forged"}):
            response = tablet.post(path, body, headers=headers)
            refused(response, 403, "csrf", message)

    assert snapshot() == before


# -- reception's actions ------------------------------------------------------------


def test_reception_cancels_a_ticket(desk, queue):
    ticket = issue(queue)

    response = desk.post(f"/tickets/{ticket.id}/cancel")

    assert response.status_code == 200
    answer = response.get_json()["ticket"]
    assert (answer["id"], answer["state"], answer["kiosk"]) == (
        ticket.id,
        "cancelled",
        "lobby",
    )
    action, actor = history(queue, ticket.id)[-1]
    assert action == "cancelled" and actor.startswith("staff:")


def test_reception_puts_a_no_show_back_in_line(desk, queue, clock):
    first = issue(queue)
    issue(queue)
    queue.call_next("karimova")
    queue.no_show("karimova")
    clock.tick(29 * 60)

    response = desk.post(f"/tickets/{first.id}/reinstate")

    assert response.status_code == 200
    assert response.get_json()["ticket"]["state"] == "waiting"
    assert [t.label for t in queue.waiting()] == ["A-001", "A-002"]


def test_reception_changes_a_tickets_class(desk, queue):
    issue(queue)
    later = issue(queue)

    response = desk.post(f"/tickets/{later.id}/priority", {"priority": "emergency"})

    assert response.status_code == 200
    assert response.get_json()["ticket"]["priority"] == "emergency"
    assert [t.label for t in queue.waiting()] == ["A-002", "A-001"]


def test_reception_transfers_a_ticket_to_a_dentist(desk, queue):
    ticket = issue(queue)

    response = desk.post(
        f"/tickets/{ticket.id}/transfer", {"service": "hygiene", "dentist": "nazarova"}
    )

    assert response.status_code == 200
    answer = response.get_json()["ticket"]
    assert (answer["service"], answer["dentist"], answer["label"]) == (
        "hygiene",
        "nazarova",
        "A-001",
    )


def a_seated_patient(queue, clock):
    ticket = issue(queue)
    queue.call_next("karimova")
    queue.start("karimova")
    return ticket.id


def a_waiting_patient(queue, clock):
    return issue(queue).id


def a_late_no_show(queue, clock):
    ticket = issue(queue)
    queue.call_next("karimova")
    queue.no_show("karimova")
    clock.tick(31 * 60)
    return ticket.id


def a_finished_visit(queue, clock):
    ticket = issue(queue)
    queue.call_next("karimova")
    queue.finish("karimova")
    return ticket.id


DESK_REFUSALS = [
    (
        a_seated_patient,
        "cancel",
        None,
        409,
        "cannot_cancel",
        "Ticket A-001 is already in the chair or closed, so it cannot be cancelled.",
    ),
    (
        a_waiting_patient,
        "reinstate",
        None,
        409,
        "cannot_reinstate",
        "Only a ticket marked No-show can be put back in line; A-001 is not one.",
    ),
    (
        a_late_no_show,
        "reinstate",
        None,
        409,
        "grace_over",
        "Ticket A-001 was marked No-show more than 30 min ago. Please issue a new "
        "ticket.",
    ),
    (
        a_waiting_patient,
        "priority",
        {"priority": "vip"},
        400,
        "unknown_priority",
        "There is no priority “vip”. Use emergency, appointment, priority or normal.",
    ),
    (
        a_waiting_patient,
        "priority",
        {},
        400,
        "field_missing",
        "Please fill in the priority.",
    ),
    (
        a_seated_patient,
        "priority",
        {"priority": "emergency"},
        409,
        "not_waiting",
        "Ticket A-001 is not waiting any more. Look at the list again.",
    ),
    (
        a_waiting_patient,
        "transfer",
        {"service": "hygiene", "dentist": "karimova"},
        409,
        "dentist_lacks_service",
        "Dr. Dilnoza Karimova does not provide the service “Teeth cleaning”.",
    ),
    (
        a_finished_visit,
        "transfer",
        {"service": "hygiene"},
        409,
        "cannot_transfer",
        "Ticket A-001 is closed and cannot be transferred.",
    ),
]


@pytest.mark.parametrize(
    ("setup", "action", "body", "status", "code", "message"), DESK_REFUSALS
)
def test_reception_is_refused(
    desk, queue, clock, setup, action, body, status, code, message
):
    ticket_id = setup(queue, clock)
    before = snapshot()

    response = desk.post(f"/tickets/{ticket_id}/{action}", body)

    refused(response, status, code, message)
    assert snapshot() == before


DESK_POSTS = [
    ("cancel", None),
    ("reinstate", None),
    ("priority", {"priority": "emergency"}),
    ("transfer", {"service": "hygiene"}),
]


def test_an_unknown_ticket_is_not_found_at_the_desk(desk, queue):
    for action, body in DESK_POSTS:
        response = desk.post(f"/tickets/999/{action}", body)
        refused(response, 404, "unknown_ticket", "This ticket was not found.")


def test_reception_actions_need_sign_in_and_csrf(client, desk, queue):
    ticket = issue(queue)
    before = snapshot()

    for action, body in DESK_POSTS:
        path = f"/tickets/{ticket.id}/{action}"
        anonymous = client.post(f"{API}{path}?lang=en", json=body)
        no_token = desk.post(path, body, headers={})
        refused(anonymous, 401, "sign_in_staff", "Please sign in first.")
        refused(
            no_token, 403, "csrf", "This page is out of date. Reload it and try again."
        )

    assert snapshot() == before


@pytest.mark.parametrize(
    ("action", "body"),
    [
        ("cancel", {}),
        ("priority", {"priority": "emergency"}),
        ("transfer", {"service": "treatment"}),
        ("reinstate", {}),
    ],
)
def test_a_tablet_cannot_do_the_desks_work(tablet, queue, action, body):
    ticket = issue(queue)

    response = tablet.post(f"/tickets/{ticket.id}/{action}", json=body)

    assert response.status_code == 403
    assert [h[0] for h in history(queue, ticket.id)] == ["issued"]


def test_a_tablet_reprints_only_its_own_patients_paper(tablet, queue):
    ticket = issue(queue)
    assert tablet.post(f"/tickets/{ticket.id}/reprint").status_code == 403

    tablet.post("/dentist/call-next")

    assert tablet.post(f"/tickets/{ticket.id}/reprint").status_code == 202
