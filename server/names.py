"""People's names as typed, in Latin or Cyrillic, and a key to compare them.

Uzbek is written in both scripts and Russian names are often spelled in Latin
letters, so "Каримов", "Karimov" and "Qarimov" should find each other. The key
is for comparing only: names are always kept and shown as they were typed.
"""

from __future__ import annotations

import unicodedata

from server.errors import InputError

MAX_NAME = 64

# The ways people type the Uzbek okina (oʻ gʻ) and the tutuq belgisi (ʼ).
APOSTROPHES = "'`ʻʼ‘’´ʹ"
SEPARATORS = " -" + APOSTROPHES

CYRILLIC_TO_LATIN = {
    "а": "a",
    "б": "b",
    "в": "v",
    "г": "g",
    "д": "d",
    "е": "e",
    "ё": "yo",
    "ж": "j",
    "з": "z",
    "и": "i",
    "й": "y",
    "к": "k",
    "л": "l",
    "м": "m",
    "н": "n",
    "о": "o",
    "п": "p",
    "р": "r",
    "с": "s",
    "т": "t",
    "у": "u",
    "ф": "f",
    "х": "h",
    "ц": "ts",
    "ч": "ch",
    "ш": "sh",
    "щ": "sh",
    "ъ": "",
    "ы": "i",
    "ь": "",
    "э": "e",
    "ю": "yu",
    "я": "ya",
    "ў": "o",
    "қ": "k",
    "ғ": "g",
    "ҳ": "h",
    "і": "i",
    "ї": "yi",
    "є": "e",
}

# Spellings that differ between Uzbek Latin, Russian transliteration and habit
# but name the same sound; the key keeps one of each.
SAME_SOUND = (
    ("kh", "h"),
    ("x", "h"),
    ("q", "k"),
    ("zh", "j"),
    ("dj", "j"),
    ("w", "v"),
    ("ye", "e"),
)


def script_of(letter: str) -> str:
    """Return "latin", "cyrillic" or "" for one character."""
    name = unicodedata.name(letter, "")
    if name.startswith("LATIN"):
        return "latin"
    if name.startswith("CYRILLIC"):
        return "cyrillic"
    return ""


def clean_name(value: object, field: str) -> str:
    """Return a typed first or last name, trimmed, or refuse it."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise InputError("field_missing", field)
    if not isinstance(value, str):
        raise InputError("field_not_text", field)
    name = unicodedata.normalize("NFC", value.strip())
    if len(name) > MAX_NAME:
        raise InputError("field_too_long", field, max=MAX_NAME)

    scripts = set()
    for char in name:
        if char in SEPARATORS:
            continue
        script = script_of(char) if char.isalpha() else ""
        if not script:
            raise InputError("name_letters", field)
        scripts.add(script)
    if not scripts or not name[0].isalpha():
        raise InputError("name_letters", field)
    if len(scripts) > 1:
        raise InputError("name_mixed_scripts", field)
    return name


def name_key(*parts: str) -> str:
    """Return the script-neutral comparison key of a name ("karimov ali")."""
    words = []
    for part in parts:
        words.extend(_word_key(word) for word in _words(part))
    return " ".join(word for word in words if word)


def _words(text: str) -> list[str]:
    for separator in " -":
        text = text.replace(separator, " ")
    return text.split()


def _word_key(word: str) -> str:
    latin = "".join(CYRILLIC_TO_LATIN.get(c, c) for c in word.lower())
    plain = unicodedata.normalize("NFKD", latin)
    letters = "".join(c for c in plain if "a" <= c <= "z")
    for spelling, sound in SAME_SOUND:
        letters = letters.replace(spelling, sound)
    return letters


def prefix_range(key: str) -> tuple[str, str]:
    """Return the bounds [low, high) of every key that starts with key."""
    return key, key[:-1] + chr(ord(key[-1]) + 1)
