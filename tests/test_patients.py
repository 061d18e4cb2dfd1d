"""The patient registry's rules: checks, search, duplicates, merge, export, deletion."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime

import pytest

from server.api import error_message
from server.db import database, reading, writing
from server.errors import InputError
from server.models import Complaint, Patient, PatientAudit, Payment, Ticket, Visit
from server.patients import DuplicatesFound, PatientError, Registry, parse_number

STAFF = "staff:1"
# Noon in Tashkent on a fixed day: every date check is against this clinic day.
NOON = datetime(2026, 6, 15, 7, 0, tzinfo=UTC)
TODAY = date(2026, 6, 15)


@pytest.fixture
def registry(app, config):
    return Registry(config, clock=lambda: NOON)


def card(**changes) -> dict:
    fields = {
        "first_name": "Ali",
        "last_name": "Karimov",
        "birth_date": "21.03.1990",
        "phone": "90 123 45 67",
    }
    fields.update(changes)
    return fields


def register(registry, **changes) -> dict:
    return registry.register(card(**changes), STAFF, allow_duplicates=True)


def refusal(call, *args, **kwargs) -> tuple[str, str, str]:
    with pytest.raises(InputError) as caught:
        call(*args, **kwargs)
    err = caught.value
    return err.code, err.field, error_message("en", err)


# -- what a card accepts ----------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "last"),
    [
        ("Oʻgʻiloy", "Gʻulomova"),  # the proper letters ʻ (U+02BB)
        ("O'g'iloy", "G'ulomova"),  # a plain apostrophe
        ("O`g`iloy", "G`ulomova"),  # a backtick, as many keyboards give it
        ("O‘g‘iloy", "Ma’rufova"),  # curly quotes from a phone
        ("Saʼdulla", "Abdul-Aziz"),
        ("Ойгул", "Ғуломова"),
        ("Ўктам", "Қодиров"),
        ("Анна-Мария", "Иванова"),
    ],
)
def test_names_are_kept_as_typed(registry, first, last):
    saved = register(registry, first_name=first, last_name=last)

    assert (saved["first_name"], saved["last_name"]) == (first, last)


def test_a_card_is_normalised(registry):
    saved = register(registry, email=" ali@example.uz ", birth_date="1990-03-21")

    assert saved["number"] == "P-000001"
    assert saved["phone"] == "+998901234567"
    assert saved["phone_display"] == "+998 90 123 45 67"
    assert saved["email"] == "ali@example.uz"
    assert saved["birth_date"] == "1990-03-21"
    assert saved["age"] == 36
    assert saved["category"] == "new"
    assert saved["lang"] == "uz"


BAD_FIELDS = [
    ("first_name", "", "field_missing", "Please fill in the first name."),
    ("first_name", "   ", "field_missing", "Please fill in the first name."),
    ("first_name", 7, "field_not_text", "The first name must be text."),
    (
        "first_name",
        "Ali2",
        "name_letters",
        "The first name may hold only Latin or Cyrillic letters, spaces, hyphens "
        "and apostrophes (as in Oʻ, Gʻ, ʼ).",
    ),
    (
        "last_name",
        "-Karimov",
        "name_letters",
        "The last name may hold only Latin or Cyrillic letters, spaces, hyphens "
        "and apostrophes (as in Oʻ, Gʻ, ʼ).",
    ),
    (
        "last_name",
        "Kаrimov",  # a Cyrillic а among Latin letters
        "name_mixed_scripts",
        "The last name mixes Latin and Cyrillic letters. Type it in one alphabet.",
    ),
    (
        "last_name",
        "K" * 65,
        "field_too_long",
        "The last name is too long (at most 64 characters).",
    ),
    ("birth_date", "", "field_missing", "Please fill in the date of birth."),
    (
        "birth_date",
        "31.02.1990",
        "date_invalid",
        "The date of birth is not a date. Type it as dd.mm.yyyy, for example "
        "21.03.1990.",
    ),
    (
        "birth_date",
        "yesterday",
        "date_invalid",
        "The date of birth is not a date. Type it as dd.mm.yyyy, for example "
        "21.03.1990.",
    ),
    (
        "birth_date",
        "16.06.2026",
        "date_future",
        "The date of birth is in the future. Check the year.",
    ),
    (
        "birth_date",
        "14.06.1905",
        "date_too_old",
        "The date of birth gives an age over 120 years. Check the year.",
    ),
    ("phone", "", "phone_missing", "Please enter a phone number."),
    (
        "phone",
        "90 123",
        "phone_invalid",
        "This phone number does not look right. Type it as 90 123 45 67, or with "
        "the country code, as +998 90 123 45 67.",
    ),
    (
        "email",
        "ali@",
        "email_invalid",
        "The e-mail address does not look like an e-mail address. Type it as "
        "name@example.uz, or leave it empty.",
    ),
    (
        "email",
        "ali karimov@example.uz",
        "email_invalid",
        "The e-mail address does not look like an e-mail address. Type it as "
        "name@example.uz, or leave it empty.",
    ),
    (
        "lang",
        "de",
        "lang_invalid",
        "The preferred language must be Uzbek, Russian or English.",
    ),
    (
        "category",
        "vip",
        "category_invalid",
        "The category must be new or returning.",
    ),
    (
        "flags",
        ["allergies", "vampire"],
        "flag_unknown",
        "There is no risk flag “vampire”. Choose one from the list, or ask the "
        "administrator to add it.",
    ),
    ("flags", "allergies", "flags_not_list", "The risk flags must be a list of flags."),
    ("sms_consent", "yes", "not_yes_no", "The consent to SMS must be yes or no."),
    (
        "notes",
        "x" * 2001,
        "field_too_long",
        "The notes is too long (at most 2000 characters).",
    ),
]


@pytest.mark.parametrize(("field", "value", "code", "message"), BAD_FIELDS)
def test_a_bad_field_is_refused_by_name(registry, field, value, code, message):
    found = refusal(registry.register, card(**{field: value}), STAFF)

    assert found == (code, field, message)
    with reading():
        assert Patient.select().count() == 0


@pytest.mark.parametrize("lang", ["uz", "ru"])
def test_refusals_name_the_field_in_the_persons_language(registry, lang):
    expected = {
        "uz": "Tugʻilgan sana kelajakda. Yilni tekshiring.",
        "ru": "Проверьте дату рождения: она в будущем. Посмотрите на год.",
    }

    with pytest.raises(InputError) as caught:
        registry.register(card(birth_date="2030-01-01"), STAFF)

    assert error_message(lang, caught.value) == expected[lang]


@pytest.mark.parametrize(
    ("amount", "method", "code", "field"),
    [
        (0, "cash", "amount_invalid", "amount"),
        (-5000, "cash", "amount_invalid", "amount"),
        (12.5, "cash", "amount_invalid", "amount"),
        (True, "cash", "amount_invalid", "amount"),
        ("50 000", "crypto", "method_invalid", "method"),
        (10**12, "card", "amount_invalid", "amount"),
    ],
)
def test_bad_payments(registry, amount, method, code, field):
    number = register(registry)["number"]

    found = refusal(
        registry.add_payment, number, {"amount": amount, "method": method}, STAFF
    )

    assert found[:2] == (code, field)
    with reading():
        assert Payment.select().count() == 0


def test_missing_required_fields(registry):
    found = refusal(registry.register, {"first_name": "Ali"}, STAFF)

    assert found[:2] == ("field_missing", "last_name")


def test_clinic_flags_are_data(registry):
    registry.add_flag(
        "latex",
        {"uz": "Lateksga allergiya", "ru": "Аллергия на латекс", "en": "Latex allergy"},
        STAFF,
    )

    saved = register(registry, flags=["latex", "heart", "allergies"])

    assert saved["flags"] == ["allergies", "heart", "latex"]
    assert [f["code"] for f in registry.flags()][-1] == "latex"
    with pytest.raises(PatientError) as caught:
        registry.add_flag("heart", {"uz": "a", "ru": "b", "en": "c"}, STAFF)
    assert caught.value.code == "flag_exists"


# -- search ------------------------------------------------------------------------


@pytest.fixture
def people(registry):
    register(registry, first_name="Ali", last_name="Karimov", phone="+998901234567")
    register(registry, first_name="Дилноза", last_name="Каримова", phone="911112233")
    register(registry, first_name="Oʻktam", last_name="Xoʻjayev", phone="935554433")
    register(registry, first_name="Гулнора", last_name="Юсупова", phone="977778899")
    return registry


def found_names(registry, query: str) -> list[str]:
    return [f"{p['last_name']} {p['first_name']}" for p in registry.search(query)]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Karimov", ["Karimov Ali", "Каримова Дилноза"]),
        ("каримов", ["Karimov Ali", "Каримова Дилноза"]),
        ("Karimova", ["Каримова Дилноза"]),
        ("Qarimov ali", ["Karimov Ali"]),
        ("Ali", ["Karimov Ali"]),
        ("Ali Karimov", ["Karimov Ali"]),
        ("Ходжаев", ["Xoʻjayev Oʻktam"]),
        ("Хўжаев", ["Xoʻjayev Oʻktam"]),
        ("xo'jayev", ["Xoʻjayev Oʻktam"]),
        ("O`ktam", ["Xoʻjayev Oʻktam"]),
        ("Yusupova Gulnora", ["Юсупова Гулнора"]),
        ("Smirnov", []),
    ],
)
def test_names_are_found_in_either_script(people, query, expected):
    assert found_names(people, query) == expected


@pytest.mark.parametrize(
    "query",
    ["90 123-45-67", "901234567", "+998 (90) 123 45 67", "998901234567"],
)
def test_a_phone_is_found_however_it_is_typed(people, query):
    assert found_names(people, query) == ["Karimov Ali"]


@pytest.mark.parametrize("query", ["P-000003", "p3", "3", "P 000003"])
def test_a_card_is_found_by_its_number(people, query):
    assert found_names(people, query) == ["Xoʻjayev Oʻktam"]


def test_parse_number():
    assert parse_number("P-000123") == 123
    assert parse_number("x") is None
    assert parse_number("P-0") is None


def test_a_one_letter_search_is_refused(people):
    assert refusal(people.search, "K")[:2] == ("search_too_short", "query")


# -- duplicates -------------------------------------------------------------------


def test_the_same_phone_is_a_possible_duplicate(registry):
    first = register(registry)

    with pytest.raises(DuplicatesFound) as caught:
        registry.register(card(first_name="Vali", phone="+998 90 123 45 67"), STAFF)

    [candidate] = caught.value.candidates
    assert (candidate.number, candidate.reason) == (first["number"], "phone")


@pytest.mark.parametrize(
    ("first", "last"),
    [("Али", "Каримов"), ("ALI", "KARIMOV"), ("Karimov", "Ali"), ("Ali", "Qarimov")],
)
def test_the_same_name_and_birth_date_across_scripts(registry, first, last):
    register(registry)

    candidates = registry.duplicates(
        {"first_name": first, "last_name": last, "birth_date": "1990-03-21"}
    )

    assert [(c.number, c.reason) for c in candidates] == [("P-000001", "name")]


def test_another_birth_date_is_another_person(registry):
    register(registry)

    found = registry.duplicates(
        card(first_name="Али", last_name="Каримов", birth_date="1991-03-21", phone="")
    )

    assert found == []


def test_registering_anyway_keeps_both(registry):
    register(registry)
    register(registry)

    with reading():
        assert Patient.select().count() == 2


# -- history, merge, export, delete --------------------------------------------------


def ticket_id(hub, service="checkup") -> int:
    return hub.queue.issue(service, kiosk_id="lobby", lang="uz").ticket.id


def history_rows(patient_number: str) -> dict[str, int]:
    patient = parse_number(patient_number)
    with reading():
        return {
            model.__name__: model.select().where(model.patient == patient).count()
            for model in (Visit, Payment, Complaint, PatientAudit)
        }


def fill_history(registry, hub, number: str, payments: int, complaints: int):
    registry.link_ticket(number, ticket_id(hub), STAFF)
    for amount in range(1, payments + 1):
        registry.add_payment(number, {"amount": amount * 1000, "method": "cash"}, STAFF)
    for n in range(complaints):
        registry.add_complaint(number, f"complaint {n}", STAFF)
    registry.card(number, STAFF)


def test_merge_keeps_every_history_row(registry, hub):
    kept = register(registry, email="")["number"]
    dropped = register(
        registry, first_name="Али", last_name="Каримов", email="ali@example.uz"
    )["number"]
    registry.update(dropped, {"flags": ["heart"]}, STAFF)
    fill_history(registry, hub, kept, payments=2, complaints=1)
    fill_history(registry, hub, dropped, payments=3, complaints=2)
    before = {
        name: history_rows(kept)[name] + history_rows(dropped)[name]
        for name in history_rows(kept)
    }

    merged = registry.merge(kept, dropped, STAFF)

    after = history_rows(kept)
    assert after == {
        name: count + (name == "PatientAudit") for name, count in before.items()
    }
    assert history_rows(dropped) == dict.fromkeys(after, 0)
    assert merged["email"] == "ali@example.uz"  # a blank is filled from the other
    assert merged["flags"] == ["heart"]
    # The merged card's number still leads to the kept card, which search finds once.
    assert registry.card(dropped, STAFF)["number"] == kept
    assert [p["number"] for p in registry.search("Karimov")] == [kept]
    card = registry.card(kept, STAFF)
    assert len(card["visits"]) == 2 and len(card["payments"]) == 5
    assert "merged" in [line["action"] for line in card["audit"]]


def test_merge_keeps_the_other_cards_phone_on_the_card(registry):
    kept = register(registry, notes="Afraid of needles")["number"]
    dropped = register(registry, phone="91 222 33 44")["number"]

    merged = registry.merge(kept, dropped, STAFF)

    assert merged["notes"] == (f"Afraid of needles\nTel: +998 91 222 33 44 ({dropped})")


def test_a_card_cannot_merge_with_itself(registry):
    number = register(registry)["number"]

    with pytest.raises(PatientError) as caught:
        registry.merge(number, number, STAFF)

    assert caught.value.code == "merge_same"


def test_every_view_and_change_is_audited(registry, hub):
    number = register(registry)["number"]
    registry.card(number, "staff:2")
    registry.update(number, {"notes": "Afraid of needles", "lang": "ru"}, "staff:3")
    registry.add_payment(number, {"amount": 50000, "method": "card"}, "staff:3")
    registry.export(number, "staff:1")

    lines = [
        (a["action"], a["detail"], a["actor"])
        for a in reversed(registry.history(parse_number(number))["audit"])
    ]

    assert lines == [
        ("created", "", STAFF),
        ("viewed", "", "staff:2"),
        ("updated", "lang, notes", "staff:3"),
        ("payment_added", "card", "staff:3"),
        ("exported", "", "staff:1"),
    ]


def test_export_holds_the_whole_card(registry, hub):
    number = register(registry, notes="Afraid of needles")["number"]
    fill_history(registry, hub, number, payments=2, complaints=1)

    data = registry.export(number, STAFF)

    assert data["card"]["notes"] == "Afraid of needles"
    assert data["card"]["phone"] == "+998901234567"
    assert [len(data[k]) for k in ("visits", "payments", "complaints")] == [1, 2, 1]
    assert data["audit"][0]["action"] == "exported"


def test_delete_keeps_anonymous_statistics(registry, hub):
    number = register(registry, notes="Afraid of needles", flags=["heart"])["number"]
    fill_history(registry, hub, number, payments=2, complaints=1)
    before = history_rows(number)

    registry.delete(number, STAFF)

    assert history_rows(number) == dict(before, PatientAudit=before["PatientAudit"] + 1)
    with reading():
        patient = Patient.get_by_id(parse_number(number))
        texts = [c.text for c in Complaint.select()]
    identity = (patient.first_name, patient.last_name, patient.phone, patient.notes)
    assert identity == ("", "", None, "")
    assert patient.birth_date is None and patient.flags == ""
    assert texts == [""]
    assert registry.search("Karimov") == [] and registry.search("901234567") == []
    assert registry.takings("2026-06-15")["total"] == 3000
    with pytest.raises(PatientError) as caught:
        registry.export(number, STAFF)
    assert caught.value.code == "patient_deleted"


def test_takings_per_method(registry):
    first = register(registry)["number"]
    second = register(registry, phone="911112233")["number"]
    registry.add_payment(first, {"amount": 150000, "method": "cash"}, STAFF)
    registry.add_payment(second, {"amount": "50 000", "method": "cash"}, STAFF)
    registry.add_payment(second, {"amount": 300000, "method": "card"}, STAFF)

    takings = registry.takings("15.06.2026")

    assert takings["methods"] == {
        "cash": {"amount": 200000, "count": 2},
        "card": {"amount": 300000, "count": 1},
        "transfer": {"amount": 0, "count": 0},
    }
    assert takings["total"] == 500000
    assert registry.takings("2026-06-14")["total"] == 0


# -- tickets -------------------------------------------------------------------------


def test_a_second_days_visit_makes_a_returning_patient(registry, hub):
    number = register(registry)["number"]
    registry.link_ticket(number, ticket_id(hub), STAFF)
    assert registry.card_view(parse_number(number))["category"] == "new"

    with writing():
        Ticket.update(day="2026-06-01").execute()
    registry.link_ticket(number, ticket_id(hub), STAFF)

    assert registry.card_view(parse_number(number))["category"] == "returning"


def test_a_ticket_links_to_one_card_only(registry, hub):
    first = register(registry)["number"]
    second = register(registry, phone="911112233")["number"]
    ticket = ticket_id(hub)
    registry.link_ticket(first, ticket, STAFF)

    with pytest.raises(PatientError) as caught:
        registry.link_ticket(second, ticket, STAFF)

    assert caught.value.code == "ticket_linked"
    assert registry.patient_of_ticket(ticket) == first


def kiosk_ticket(hub) -> tuple[int, str]:
    ticket = hub.queue.issue("checkup", kiosk_id="lobby", lang="uz").ticket
    return ticket.id, ticket.token


def test_the_kiosk_links_a_ticket_by_phone(hub, config):
    registry = Registry(config, clock=hub.queue.clock)
    number = register(registry)["number"]
    ticket, token = kiosk_ticket(hub)

    registry.link_by_phone(token, "90 123-45-67")

    assert registry.patient_of_ticket(ticket) == number
    [visit] = registry.history(parse_number(number))["visits"]
    assert visit["source"] == "kiosk"


@pytest.mark.parametrize("phone", ["+998 91 000 00 00", "+998 90 123 45 67"])
def test_the_kiosk_links_nothing_unless_one_card_matches(hub, config, phone):
    registry = Registry(config, clock=hub.queue.clock)
    register(registry)
    register(registry, first_name="Vali")  # two cards share +998 90 123 45 67
    ticket, token = kiosk_ticket(hub)

    assert registry.link_by_phone(token, phone) is None

    assert registry.patient_of_ticket(ticket) is None


# -- fast and quiet ----------------------------------------------------------------


def search_plans(registry, query: str, caplog) -> list[str]:
    """Run a search; return SQLite's plan for each SELECT on the patient table."""
    with caplog.at_level(logging.DEBUG, logger="peewee"):
        registry.search(query)
    statements = [
        record.msg
        for record in caplog.records
        if record.name == "peewee" and isinstance(record.msg, tuple)
    ]
    plans = []
    with reading():
        for sql, params in statements:
            if sql.startswith("SELECT") and '"patient"' in sql:
                rows = database.execute_sql("EXPLAIN QUERY PLAN " + sql, params)
                plans.append(" ".join(str(row[-1]) for row in rows))
    return plans


@pytest.mark.parametrize(
    ("query", "index"),
    [
        ("Karimov", "patient_name_key"),
        ("Каримов Али", "patient_name_key"),
        ("90 123-45-67", "patient_phone"),
    ],
)
def test_search_reads_an_index_never_the_whole_table(people, caplog, query, index):
    plans = search_plans(people, query, caplog)

    assert plans and all("SCAN" not in plan for plan in plans), plans
    assert any(index in plan for plan in plans), plans


def test_the_log_never_names_a_patient(registry, hub, caplog):
    with caplog.at_level(logging.DEBUG, logger="server"):
        number = register(registry, first_name="Zebiniso", last_name="Qodirova")
        registry.search("Qodirova")
        ticket, token = kiosk_ticket(hub)
        Registry(registry.config, clock=hub.queue.clock).link_by_phone(
            token, "90 123 45 67"
        )
        registry.merge(number["number"], register(registry)["number"], STAFF)
        registry.delete(number["number"], STAFF)

    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "P-000001" in logged
    for secret in ("Zebiniso", "Qodirova", "Karimov", "901234567", "123 45 67"):
        assert secret not in logged
