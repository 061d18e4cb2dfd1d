"""The admin manages staff accounts: create, change, reset, deactivate, PINs."""

from __future__ import annotations

import pytest

from server.auth import set_pin
from server.models import StaffUser
from tests.conftest import sign_in_staff

USERS = "/api/v1/staff/users"


@pytest.fixture
def admin(app):
    client = app.test_client()
    return client, sign_in_staff(client, "admin")


def create(admin, **fields):
    client, headers = admin
    data = {"username": "dilnoza", "full_name": "Dilnoza K", "role": "receptionist"}
    data.update(fields)
    return client.post(f"{USERS}?lang=en", json=data, headers=headers)


def sign_in(app, username, password):
    client = app.test_client()
    answer = client.post(
        "/api/v1/staff/login", json={"username": username, "password": password}
    )
    return client, answer


def test_a_new_user_gets_a_password_shown_once_and_can_sign_in(app, admin):
    answer = create(admin)

    assert answer.status_code == 201
    password = answer.get_json()["password"]
    assert len(password) >= 12
    client, login = sign_in(app, "dilnoza", password)
    assert login.get_json()["role"] == "receptionist"
    assert client.get("/api/v1/staff/me").get_json()["user"]["full_name"] == (
        "Dilnoza K"
    )
    listed = admin[0].get(USERS).get_json()["users"]
    assert "password_hash" not in listed[0]


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"username": "ab"}, "username", "A user name is 3 to 32 small Latin letters"),
        ({"username": "Dil noza"}, "username", "A user name is 3 to 32"),
        ({"username": ""}, "username", "Please fill in the user name."),
        ({"full_name": "   "}, "full_name", "Please fill in the full name."),
        ({"full_name": 5}, "full_name", "The full name must be text."),
        ({"role": "boss"}, "role", "There is no role “boss”"),
        ({"role": "dentist"}, "dentist", "Please fill in the dentist."),
        (
            {"role": "dentist", "dentist": "nobody"},
            "dentist",
            "There is no dentist “nobody”",
        ),
    ],
)
def test_bad_user_details_are_refused_with_the_field(
    app, admin, fields, field, message
):
    answer = create(admin, **fields)

    assert answer.status_code == 400
    error = answer.get_json()["error"]
    assert error["field"] == field
    assert error["message"].startswith(message), error["message"]
    assert StaffUser.select().count() == 1


def test_a_taken_user_name_is_refused(admin):
    create(admin)

    answer = create(admin, username="DILNOZA")

    assert answer.status_code == 400
    assert "already taken" in answer.get_json()["error"]["message"]


def test_a_dentist_has_one_active_account(admin):
    assert (
        create(admin, username="kar1", role="dentist", dentist="karimova").status_code
        == 201
    )

    second = create(admin, username="kar2", role="dentist", dentist="karimova")

    assert second.status_code == 400
    assert second.get_json()["error"]["code"] == "dentist_has_account"


def test_a_password_reset_ends_the_old_sessions(app, admin):
    password = create(admin).get_json()["password"]
    user_id = StaffUser.get(StaffUser.username == "dilnoza").id
    old_client, _ = sign_in(app, "dilnoza", password)

    client, headers = admin
    new = client.post(f"{USERS}/{user_id}/password", headers=headers).get_json()

    assert old_client.get("/api/v1/staff/me").status_code == 401
    assert sign_in(app, "dilnoza", password)[1].status_code == 401
    assert sign_in(app, "dilnoza", new["password"])[1].status_code == 200


def test_a_deactivated_user_is_signed_out_and_kept(app, admin):
    password = create(admin).get_json()["password"]
    user_id = StaffUser.get(StaffUser.username == "dilnoza").id
    old_client, _ = sign_in(app, "dilnoza", password)
    client, headers = admin

    answer = client.post(f"{USERS}/{user_id}/deactivate", headers=headers)

    assert answer.get_json()["user"]["active"] is False
    assert old_client.get("/api/v1/staff/me").status_code == 401
    assert sign_in(app, "dilnoza", password)[1].status_code == 401
    assert StaffUser.get_by_id(user_id).username == "dilnoza"
    client.post(f"{USERS}/{user_id}/activate", headers=headers)
    assert sign_in(app, "dilnoza", password)[1].status_code == 200


def test_a_role_change_takes_effect_at_once(app, admin):
    password = create(admin).get_json()["password"]
    user_id = StaffUser.get(StaffUser.username == "dilnoza").id
    staff_client, _ = sign_in(app, "dilnoza", password)
    client, headers = admin

    client.post(
        f"{USERS}/{user_id}",
        json={"full_name": "Dilnoza K", "role": "dentist", "dentist": "karimova"},
        headers=headers,
    )

    assert staff_client.get("/api/v1/today").status_code == 401
    _, login = sign_in(app, "dilnoza", password)
    assert login.get_json()["role"] == "dentist"


def test_the_last_admin_cannot_be_removed(admin):
    client, headers = admin
    me = client.get("/api/v1/staff/me").get_json()["user"]

    own = client.post(f"{USERS}/{me['id']}/deactivate?lang=en", headers=headers)
    demoted = client.post(
        f"{USERS}/{me['id']}?lang=en",
        json={"full_name": "Me", "role": "receptionist"},
        headers=headers,
    )

    assert own.status_code == 409
    assert "your own account" in own.get_json()["error"]["message"]
    assert demoted.status_code == 409
    assert demoted.get_json()["error"]["code"] == "last_admin"
    assert StaffUser.get_by_id(me["id"]).role == "admin"


def test_a_new_pin_unlocks_the_tablet_and_signs_it_out(app, admin):
    client, headers = admin
    set_pin("karimova", "135790")
    tablet = app.test_client()
    for _ in range(5):
        tablet.post("/api/v1/dentist/login", json={"dentist": "karimova", "pin": "0"})
    listed = client.get("/api/v1/staff/dentists").get_json()["dentists"]
    assert {d["id"]: d["locked"] for d in listed}["karimova"] is True

    pin = client.post("/api/v1/staff/dentists/karimova/pin", headers=headers)

    new_pin = pin.get_json()["pin"]
    login = tablet.post(
        "/api/v1/dentist/login", json={"dentist": "karimova", "pin": new_pin}
    )
    assert login.status_code == 200
    listed = client.get("/api/v1/staff/dentists").get_json()["dentists"]
    assert {d["id"]: d["locked"] for d in listed}["karimova"] is False


@pytest.mark.parametrize("lang", ["uz", "ru"])
def test_refusals_speak_the_users_language(admin, lang):
    client, headers = admin

    answer = client.post(
        f"{USERS}?lang={lang}",
        json={"username": "ab", "full_name": "X", "role": "admin"},
        headers=headers,
    )

    message = answer.get_json()["error"]["message"]
    assert "user name" not in message
    assert "dilnoza.k" in message


def test_every_role_has_a_name_in_every_language():
    from server import i18n
    from server.auth import ROLES

    for lang in i18n.LANGUAGES:
        assert all(f"staff.role_{role}" in i18n.catalog(lang) for role in ROLES)


@pytest.mark.parametrize(
    ("who", "status"),
    [("nobody", 302), ("receptionist", 403), ("dentist", 403), ("admin", 200)],
)
def test_the_staff_page_is_the_admins(app, who, status):
    client = app.test_client()
    if who != "nobody":
        sign_in_staff(client, who, "karimova" if who == "dentist" else None)

    answer = client.get("/reception/users?lang=ru")

    assert answer.status_code == status
    if status == 302:  # to the sign-in, and back here after it
        assert answer.location == "/reception/?next=/reception/users?lang%3Dru"
    if status == 200:
        page = answer.get_data(as_text=True)
        assert "Учётные записи сотрудников" in page
        assert 'href="/reception/users" aria-current="page"' in page


def test_the_menu_shows_only_what_the_role_may_open(app):
    client = app.test_client()
    sign_in_staff(client, "receptionist")

    page = client.get("/reception/?lang=en").get_data(as_text=True)

    assert 'href="/reception/"' in page
    assert "/reception/users" not in page
