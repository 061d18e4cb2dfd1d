"""Every API action and live stream checks who asks; refusals change nothing."""

from __future__ import annotations

import pytest
from werkzeug.routing import AnyConverter, IntegerConverter

from server import auth
from server.db import database
from server.models import StaffUser
from tests.conftest import sign_in_staff

WHO = ("nobody", "admin", "receptionist", "dentist", "tablet")
TABLET_DENTIST = "karimova"


def api_rules(app):
    return [
        rule
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/") and rule.endpoint != "static"
    ]


def guard(app, rule) -> tuple[tuple[str, ...], bool] | None:
    """Return a view's (roles, tablet) declaration, or None for a public view."""
    view = app.view_functions[rule.endpoint]
    if getattr(view, "navbat_public", False):
        return None
    return view.navbat_roles


def sample_value(converter):
    if isinstance(converter, AnyConverter):
        return sorted(converter.items)[0]
    if isinstance(converter, IntegerConverter):
        return 999_999  # nobody: allowed calls answer 404
    return "x"


def sample_url(rule) -> str:
    values = {name: sample_value(c) for name, c in rule._converters.items()}
    return rule.build(values, append_unknown=False)[1]


def become(app, client, who: str) -> dict:
    """Sign client in as who; return the headers its requests carry."""
    if who == "nobody":
        return {"X-CSRF-Token": "none"}
    if who == "tablet":
        from server.auth import set_pin

        set_pin(TABLET_DENTIST, "246810")
        answer = client.post(
            "/api/v1/dentist/login",
            json={"dentist": TABLET_DENTIST, "pin": "246810"},
        )
        assert answer.status_code == 200, answer.get_json()
        return {"X-CSRF-Token": answer.get_json()["csrf"]}
    dentist = TABLET_DENTIST if who == "dentist" else None
    return sign_in_staff(client, who, dentist)


def allowed(declaration, who: str) -> bool:
    roles, tablet = declaration
    return who in roles or (tablet and who == "tablet")


def everything() -> dict[str, list[tuple]]:
    """Read every row of every table, to prove a refusal wrote nothing."""
    tables = database.get_tables()
    return {
        table: database.execute_sql(f'SELECT * FROM "{table}" ORDER BY 1').fetchall()
        for table in tables
    }


def test_every_api_view_declares_who_may_use_it(app):
    undeclared = [
        rule.endpoint
        for rule in api_rules(app)
        if not getattr(app.view_functions[rule.endpoint], "navbat_public", False)
        and not hasattr(app.view_functions[rule.endpoint], "navbat_roles")
    ]

    assert undeclared == []


def test_the_public_api_is_only_what_kiosks_tvs_and_phones_need(app):
    public = sorted(rule.rule for rule in api_rules(app) if guard(app, rule) is None)

    assert all(
        path.startswith(
            (
                "/api/v1/clinic",
                "/api/v1/queue",
                "/api/v1/services",
                "/api/v1/tickets",
                "/api/v1/dentist/log",
                "/api/v1/staff/log",
                "/api/v1/booking",  # the public booking page, by booking code
                "/api/v1/checkin",  # the kiosk's "I have an appointment"
            )
        )
        for path in public
    ), public
    # Staff actions on a ticket go by its id, public ones by its secret token.
    assert not [p for p in public if "<int:" in p], public


@pytest.mark.parametrize("who", WHO)
def test_each_guarded_api_view_refuses_who_it_should(app, who):
    client = app.test_client()
    headers = become(app, client, who)
    before = everything()
    checked = 0

    for rule in api_rules(app):
        declaration = guard(app, rule)
        if declaration is None:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            answer = client.open(
                sample_url(rule), method=method, json={}, headers=headers
            )
            refused = answer.status_code in (401, 403)
            assert refused != allowed(declaration, who), (
                who,
                method,
                rule.rule,
                answer.status_code,
            )
            if refused:
                assert answer.get_json()["error"]["message"], rule.rule
            checked += 1

    assert checked > 15
    if who == "nobody":
        assert everything() == before


@pytest.mark.parametrize("who", ["nobody", "dentist", "tablet"])
def test_refused_user_admin_changes_nothing(app, who):
    client = app.test_client()
    headers = become(app, client, who)
    admin = auth.create_user("boss", "a-long-password", "admin", "Boss")
    before = everything()

    attempts = [
        (
            "/api/v1/staff/users",
            {"username": "mallory", "full_name": "M", "role": "admin"},
        ),
        (f"/api/v1/staff/users/{admin.id}/password", {}),
        (f"/api/v1/staff/users/{admin.id}/deactivate", {}),
        (f"/api/v1/staff/users/{admin.id}", {"full_name": "X", "role": "dentist"}),
        ("/api/v1/staff/dentists/karimova/pin", {}),
    ]
    for path, data in attempts:
        answer = client.post(path, json=data, headers=headers)
        assert answer.status_code in (401, 403), (path, answer.status_code)

    assert everything() == before


def test_a_change_without_the_csrf_token_is_refused(app):
    client = app.test_client()
    sign_in_staff(client, "admin")

    answer = client.post(
        "/api/v1/staff/users",
        json={"username": "newbie", "full_name": "New", "role": "receptionist"},
    )

    assert answer.status_code == 403
    assert answer.get_json()["error"]["code"] == "csrf"
    assert not StaffUser.select().where(StaffUser.username == "newbie").exists()


@pytest.mark.parametrize(
    ("who", "accepted"),
    [
        ("nobody", False),
        ("admin", True),
        ("receptionist", True),
        ("dentist", True),
        ("tablet", True),
    ],
)
def test_the_staff_stream_is_for_staff_only(app, who, accepted):
    from server.realtime import socketio

    client = app.test_client()
    become(app, client, who)

    socket = socketio.test_client(
        app, flask_test_client=client, auth={"audience": "staff"}
    )

    assert socket.is_connected() == accepted
    if accepted:
        assert socket.get_received()[0]["name"] == "snapshot"
        socket.disconnect()


@pytest.mark.parametrize("who", ["admin", "receptionist"])
def test_ids_past_a_database_integer_are_not_found_not_a_crash(app, who):
    client = app.test_client()
    headers = become(app, client, who)
    huge = 10**30
    crashes = []

    for rule in api_rules(app):
        if "<int:" not in rule.rule:
            continue
        values = {
            name: huge if isinstance(conv, IntegerConverter) else sample_value(conv)
            for name, conv in rule._converters.items()
        }
        path = rule.build(values, append_unknown=False)[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            answer = client.open(path, method=method, json={}, headers=headers)
            if answer.status_code >= 500:
                crashes.append((method, path, answer.status_code))

    assert crashes == []
