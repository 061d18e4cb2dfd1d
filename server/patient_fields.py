"""Check a patient card's fields as people type them; each refusal names its field."""

from __future__ import annotations

import re
from datetime import date, datetime

from server import names, phones
from server.errors import InputError

LANGUAGES = ("uz", "ru", "en")
CATEGORIES = ("new", "returning")
PAYMENT_METHODS = ("cash", "card", "transfer")
BUILT_IN_FLAGS = (
    "allergies",
    "anticoagulants",
    "pregnancy",
    "heart",
    "diabetes",
    "epilepsy",
    "infection",
)
MAX_AGE = 120
MAX_EMAIL = 254
MAX_TEXT = 2000
MAX_AMOUNT = 1_000_000_000  # so'm: far above any one visit, below any typo's reach
DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y")
EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")
FLAG_CODE = re.compile(r"[a-z][a-z0-9_]{1,31}")

# The card's fields and how each is checked; update() takes any subset.
CARD_FIELDS = (
    "first_name",
    "last_name",
    "birth_date",
    "phone",
    "email",
    "lang",
    "condition",
    "notes",
    "category",
    "flags",
    "sms_consent",
    "email_consent",
)
REQUIRED = ("first_name", "last_name", "birth_date", "phone")


def clean_card(
    data: dict, today: date, known_flags: set[str], *, partial: bool = False
) -> dict:
    """Return the card fields in data, checked and normalised, or refuse one."""
    values = {}
    for field in CARD_FIELDS:
        if field not in data:
            if not partial and field in REQUIRED:
                raise InputError("field_missing", field)
            continue
        values[field] = clean_field(field, data[field], today, known_flags)
    return values


def clean_field(field: str, value: object, today: date, known_flags: set[str]):
    """Check one card field."""
    if field in ("first_name", "last_name"):
        return names.clean_name(value, field)
    if field == "birth_date":
        return clean_birth_date(value, today)
    if field == "phone":
        if value is not None and not isinstance(value, str):
            raise InputError("field_not_text", field)
        return phones.normalize(value or "", field)
    if field == "email":
        return clean_email(value)
    if field == "lang":
        if value not in LANGUAGES:
            raise InputError("lang_invalid", field)
        return value
    if field == "category":
        if value not in CATEGORIES:
            raise InputError("category_invalid", field)
        return value
    if field == "flags":
        return clean_flags(value, known_flags)
    if field in ("sms_consent", "email_consent"):
        if not isinstance(value, bool):
            raise InputError("not_yes_no", field)
        return value
    return clean_text(value, field, required=False)


def clean_text(value: object, field: str, *, required: bool = True) -> str:
    """Return free text (notes, a complaint) trimmed, or refuse it."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise InputError("field_missing", field)
        return ""
    if not isinstance(value, str) or not _encodable(value):
        raise InputError("field_not_text", field)
    text = value.strip()
    if len(text) > MAX_TEXT:
        raise InputError("field_too_long", field, max=MAX_TEXT)
    return text


def clean_birth_date(value: object, today: date) -> date:
    """Accept 1990-03-21 or 21.03.1990; refuse the future and ages over 120."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise InputError("field_missing", "birth_date")
    if not isinstance(value, str):
        raise InputError("date_invalid", "birth_date")
    born = parse_date(value.strip())
    if born is None:
        raise InputError("date_invalid", "birth_date")
    if born > today:
        raise InputError("date_future", "birth_date")
    if age(born, today) > MAX_AGE:
        raise InputError("date_too_old", "birth_date", max=MAX_AGE)
    return born


def parse_date(text: str) -> date | None:
    """Read a date in one of the formats people type, or give None."""
    for pattern in DATE_FORMATS:
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


def age(born: date, today: date) -> int:
    """Return the age in whole years on today."""
    before_birthday = (today.month, today.day) < (born.month, born.day)
    return today.year - born.year - before_birthday


def clean_email(value: object) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        return ""
    if not isinstance(value, str):
        raise InputError("field_not_text", "email")
    email = value.strip()
    if len(email) > MAX_EMAIL:
        raise InputError("field_too_long", "email", max=MAX_EMAIL)
    if not EMAIL.fullmatch(email):
        raise InputError("email_invalid", "email")
    return email


def clean_flags(value: object, known: set[str]) -> list[str]:
    """Return the risk flag codes in a stable order, or refuse an unknown one."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError("flags_not_list", "flags")
    for code in value:
        if code not in known:
            raise InputError("flag_unknown", "flags", flag=code[:32])
    return sorted(set(value), key=lambda code: _flag_order(code))


def _flag_order(code: str) -> tuple[int, str]:
    if code in BUILT_IN_FLAGS:
        return (BUILT_IN_FLAGS.index(code), code)
    return (len(BUILT_IN_FLAGS), code)


def clean_amount(value: object) -> int:
    """Return a payment in whole so'm (1 to a billion), or refuse it."""
    if isinstance(value, str) and re.fullmatch(r"\d[\d  ]*", value.strip()):
        value = int(re.sub(r"\D", "", value))
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError("amount_invalid", "amount", max=MAX_AMOUNT)
    if not 0 < value <= MAX_AMOUNT:
        raise InputError("amount_invalid", "amount", max=MAX_AMOUNT)
    return value


def clean_method(value: object) -> str:
    if value not in PAYMENT_METHODS:
        raise InputError("method_invalid", "method")
    return value


def clean_flag_code(value: object) -> str:
    if not isinstance(value, str) or not FLAG_CODE.fullmatch(value):
        raise InputError("flag_code_invalid", "flag_code")
    return value


def _encodable(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
