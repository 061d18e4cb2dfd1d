"""The uz, ru and en catalogs agree, and hold every message the code can ask for."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest

from server import i18n
from tests.conftest import ROOT

ERROR_CLASSES = {"HubError", "QueueError", "AuthError", "InputError", "BookingError"}
# Where the hub's Python lives: the server package and the surfaces' blueprints.
CODE_DIRS = ("server", "dentist", "display", "kiosk", "phone", "reception", "booking")


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def python_files() -> list[Path]:
    files = [p for d in CODE_DIRS for p in sorted((ROOT / d).rglob("*.py"))]
    assert len(files) > 10, files
    return files


def parsed_files() -> list[tuple[Path, ast.Module]]:
    return [(p, ast.parse(p.read_text(encoding="utf-8"))) for p in python_files()]


def test_catalogs_have_the_same_keys():
    keys = {lang: set(i18n.catalog(lang)) for lang in i18n.LANGUAGES}

    for lang in i18n.LANGUAGES:
        assert keys[lang] == keys["en"], (
            lang,
            sorted(keys[lang] - keys["en"]),
            sorted(keys["en"] - keys[lang]),
        )


@pytest.mark.parametrize("lang", ["uz", "ru"])
def test_placeholders_match_english(lang):
    english = i18n.catalog("en")
    other = i18n.catalog(lang)

    mismatched = {
        key: (placeholders(english[key]), placeholders(other[key]))
        for key in english.keys() & other.keys()
        if placeholders(english[key]) != placeholders(other[key])
    }

    assert mismatched == {}


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_every_message_is_text(lang):
    for key, text in i18n.catalog(lang).items():
        assert isinstance(text, str), key
        # reception.actions is an empty column heading on purpose.
        assert text.strip() or key == "reception.actions", key
        assert text == text.strip(), key


# -- what the code asks for ----------------------------------------------------


def _literal(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _call_name(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def _argument(call: ast.Call, index: int, name: str) -> ast.AST | None:
    if len(call.args) > index:
        return call.args[index]
    return next((k.value for k in call.keywords if k.arg == name), None)


def _template(node: ast.JoinedStr) -> str:
    """Turn f"cannot_{action}" into "cannot_{action}" (the names inside)."""
    parts = []
    for value in node.values:
        if isinstance(value, ast.FormattedValue):
            parts.append("{" + ast.unparse(value.value) + "}")
        else:
            parts.append(value.value)
    return "".join(parts)


def _actions_for(tree: ast.Module, variable: str) -> set[str]:
    """Find every literal the engine passes as `variable` to the refusal helpers.

    `_require_current(dentist, allowed, action)` is called directly (recall) and
    through `_transition(dentist, allowed, to_state, action, ...)`.
    """
    positions = {"_require_current": 2, "_transition": 3}
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _call_name(node) in positions:
            value = _argument(node, positions[_call_name(node)], variable)
            if _literal(value) is not None:
                found.add(_literal(value))
    return found


def raised_codes() -> dict[str, Path]:
    """Every error code the code can raise, with the file that raises it."""
    codes = {}
    for path, tree in parsed_files():
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and _call_name(node) in ERROR_CLASSES):
                continue
            first = _argument(node, 0, "code")
            if _literal(first) is not None:
                codes[_literal(first)] = path
            elif isinstance(first, ast.JoinedStr):
                template = _template(first)
                names = placeholders(template)
                assert names == {"action"}, (path, template)
                actions = _actions_for(tree, "action")
                assert actions, (path, template)
                for action in actions:
                    codes[template.format(action=action)] = path
            else:
                pytest.fail(f"{path}: cannot read the code of {ast.unparse(node)}")
    return codes


def translated_keys() -> dict[str, Path]:
    """Every literal key passed to translate() or a template's _()."""
    keys = {}
    for path, tree in parsed_files():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _call_name(node) == "translate":
                key = _literal(_argument(node, 1, "key"))
                if key is not None:
                    keys[key] = path
    return keys


def test_the_code_raises_the_codes_we_expect():
    """The scan finds the codes it must, including the f-string ones."""
    codes = raised_codes()

    for code in (
        "nobody_waiting",
        "wrong_pin",
        "field_missing",
        "unknown_action",
        "cannot_started",
        "cannot_no_show",
        "cannot_recalled",
        "cannot_done",
    ):
        assert code in codes, code


def test_every_raised_code_has_a_message():
    codes = raised_codes()

    for lang in i18n.LANGUAGES:
        catalog = i18n.catalog(lang)
        missing = {
            code: str(path.relative_to(ROOT))
            for code, path in codes.items()
            if f"error.{code}" not in catalog
        }
        assert missing == {}, lang


def test_every_literal_translate_key_exists():
    keys = translated_keys()
    assert "ticket.ahead" in keys

    for lang in i18n.LANGUAGES:
        missing = sorted(k for k in keys if k not in i18n.catalog(lang))
        assert missing == [], lang


def test_every_input_field_has_a_name():
    """Each field an InputError names is translated, to be read in a sentence."""
    fields = set()
    for _, tree in parsed_files():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = _call_name(node)
                if name == "InputError":
                    field = _literal(_argument(node, 1, "field"))
                    if field is not None:
                        fields.add(field)
                elif name == "text_field":
                    field = _literal(_argument(node, 1, "name"))
                    if field is not None:
                        fields.add(field)
    assert {"service", "kiosk", "request_key", "body", "pin"} <= fields

    for lang in i18n.LANGUAGES:
        missing = sorted(f for f in fields if f"field.{f}" not in i18n.catalog(lang))
        assert missing == [], lang


def template_keys() -> set[str]:
    """Every literal key the templates ask _() for."""
    keys = set()
    for folder in CODE_DIRS:
        for path in (ROOT / folder).rglob("*.html"):
            keys |= set(
                re.findall(r"""_\(\s*["']([\w.]+)["']\s*[,)]""", path.read_text())
            )
    return keys


def test_every_template_key_exists():
    keys = template_keys()
    assert "phone.keep_open" in keys

    for lang in i18n.LANGUAGES:
        missing = sorted(k for k in keys if k not in i18n.catalog(lang))
        assert missing == [], lang


def test_translate_fills_placeholders_in_each_language():
    for lang in i18n.LANGUAGES:
        text = i18n.translate(lang, "error.recall_limit", ticket="A-007", limit=3)
        assert "A-007" in text and "3" in text and "{" not in text, lang


def test_unknown_language_falls_back_to_english():
    assert (
        i18n.translate("de", "error.nobody_waiting")
        == (i18n.catalog("en")["error.nobody_waiting"])
    )


def test_the_api_plain_errors_have_messages():
    from server.api import PLAIN_ERRORS

    for lang in i18n.LANGUAGES:
        catalog = i18n.catalog(lang)
        assert [c for c in PLAIN_ERRORS.values() if f"error.{c}" not in catalog] == []


def test_each_language_has_the_same_files():
    names = {
        lang: [p.name for p in i18n.catalog_files(lang)] for lang in i18n.LANGUAGES
    }

    assert names["en"], names
    assert names["uz"] == names["ru"] == names["en"]


def test_every_printer_problem_has_words_for_staff():
    from server.printing import STATUS_PROBLEMS

    source = (ROOT / "server" / "printing.py").read_text(encoding="utf-8")
    problems = STATUS_PROBLEMS | set(re.findall(r'"(send_failed)"', source))
    assert "send_failed" in problems

    for lang in i18n.LANGUAGES:
        missing = [
            p for p in problems if f"reception.problem_{p}" not in i18n.catalog(lang)
        ]
        assert missing == [], lang
