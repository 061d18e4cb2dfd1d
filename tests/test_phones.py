"""Phone numbers typed any way a person types them."""

from __future__ import annotations

import pytest

from server import phones
from server.errors import InputError


@pytest.mark.parametrize(
    "typed",
    [
        "90 123-45-67",
        "901234567",
        "+998 90 123 45 67",
        "998901234567",
        "(90) 123 45 67",
        " +998-90-123-45-67 ",
    ],
)
def test_uzbek_numbers_in_any_typing(typed):
    assert phones.normalize(typed) == "+998901234567"


def test_foreign_numbers_are_accepted():
    assert phones.normalize("+7 912 345-67-89") == "+79123456789"
    assert phones.normalize("+44 20 7946 0958") == "+442079460958"


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("", "phone_missing"),
        ("   ", "phone_missing"),
        ("12", "phone_invalid"),
        ("90 123", "phone_invalid"),
        ("hello", "phone_invalid"),
        ("+998 90 123 45 67 89 00", "phone_invalid"),
        ("9" * 40, "phone_invalid"),
    ],
)
def test_bad_numbers_are_refused_with_a_reason(typed, code):
    with pytest.raises(InputError) as refused:
        phones.normalize(typed)

    assert refused.value.code == code
    assert refused.value.field == "phone"


def test_display_groups_uzbek_numbers():
    assert phones.display("+998901234567") == "+998 90 123 45 67"
    assert phones.masked("+998901234567") == "…67"
