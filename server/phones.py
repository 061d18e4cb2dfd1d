"""Phone numbers as people type them, kept in E.164 and shown the local way."""

from __future__ import annotations

import phonenumbers

from server.errors import InputError

# Numbers typed without a country code are Uzbek ones.
HOME_REGION = "UZ"
MAX_TYPED = 32


def normalize(typed: str, field: str = "phone") -> str:
    """Return a typed phone number in E.164 ("+998901234567") or refuse it."""
    text = (typed or "").strip()
    if not text:
        raise InputError("phone_missing", field)
    if len(text) > MAX_TYPED:
        raise InputError("phone_invalid", field)
    try:
        number = phonenumbers.parse(text, HOME_REGION)
    except phonenumbers.NumberParseException:
        raise InputError("phone_invalid", field) from None
    if not phonenumbers.is_valid_number(number):
        raise InputError("phone_invalid", field)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def display(e164: str) -> str:
    """Return a stored number for people: "+998 90 123 45 67" for Uzbek ones."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(
        number, phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )


def masked(e164: str) -> str:
    """Return the number with all but the last two digits hidden, for logs."""
    return "…" + e164[-2:] if e164 else ""
