"""Translation catalogs: every word a person reads, in uz, ru and en.

The catalogs are TOML files in server/translations/<lang>/, one folder per
language and one file per part of the product, so a native speaker can correct
the wording without touching code. A key lives in exactly one file.
"""

from __future__ import annotations

import logging
import tomllib
from functools import cache
from pathlib import Path

logger = logging.getLogger(__name__)

CATALOG_DIR = Path(__file__).with_name("translations")
LANGUAGES = ("uz", "ru", "en")
FALLBACK = "en"
LANGUAGE_NAMES = {"uz": "Oʻzbekcha", "ru": "Русский", "en": "English"}


@cache
def catalog(lang: str) -> dict[str, str]:
    """Return one language's messages as a flat {"section.key": text} table."""
    messages: dict[str, str] = {}
    for path in catalog_files(lang):
        with path.open("rb") as file:
            for key, text in _flatten(tomllib.load(file)):
                if key in messages:
                    raise ValueError(f"{path}: {key} is already in another file")
                messages[key] = text
    return messages


def catalog_files(lang: str) -> list[Path]:
    """Return the TOML files that make up one language's catalog."""
    return sorted((CATALOG_DIR / lang).glob("*.toml"))


def _flatten(table: dict, prefix: str = ""):
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            yield from _flatten(value, f"{name}.")
        else:
            yield name, value


def translate(lang: str, key: str, **params: object) -> str:
    """Return the message for key in lang, with {placeholders} filled in."""
    lang = lang if lang in LANGUAGES else FALLBACK
    text = catalog(lang).get(key)
    if text is None:
        text = catalog(FALLBACK).get(key)
        if text is None:
            logger.error("missing translation key %s", key)
            return key
    try:
        return text.format(**params)
    except (KeyError, IndexError, ValueError):
        logger.error("translation %s/%s does not fit its parameters", lang, key)
        return text


def pick_language(candidates, allowed, default: str) -> str:
    """Return the first candidate language the clinic offers, else the default."""
    for lang in candidates:
        if lang and lang[:2].lower() in allowed:
            return lang[:2].lower()
    return default


def strings(lang: str, *prefixes: str) -> dict[str, str]:
    """Return the messages whose keys start with prefixes, for a page's script."""
    return {
        key: text for key, text in catalog(lang).items() if key.startswith(prefixes)
    }
