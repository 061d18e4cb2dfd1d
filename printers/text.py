"""Text for paper: the one place that folds typography into printable characters."""

import unicodedata

# Thermal printers only know their code pages (CP437 and CP866 for us), so the
# typographic variants people type are folded to the ASCII they stand for.
# Uzbek Latin writes oʻ and gʻ with U+02BB and the tutuq belgisi with U+02BC,
# but keyboards give ‘ ’ ` ´ or ' as well; all of them are one apostrophe.
_APOSTROPHES = (
    "\u02bb\u02bc\u2018\u2019\u201a\u201b`\u00b4\u2032\u02b9\u02bd\ua78c\uff07"
)
_DOUBLE_QUOTES = "\u201c\u201d\u201e\u201f\u00ab\u00bb\u2033\uff02"
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"
_SPACES = "\u00a0\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
_SPACES += "\u200a\u202f\u205f\u3000\t\n\r\v\f"
_INVISIBLE = "\u00ad\u200b\u200c\u200d\u2060\ufeff"

_PAPER = str.maketrans(
    {
        **dict.fromkeys(_APOSTROPHES, "'"),
        **dict.fromkeys(_DOUBLE_QUOTES, '"'),
        **dict.fromkeys(_DASHES, "-"),
        **dict.fromkeys(_SPACES, " "),
        **dict.fromkeys(_INVISIBLE, ""),
        "\u2026": "...",
        # Informal stand-ins for oʻ and gʻ, as typed on phones without ʻ.
        "\u014e": "O'",
        "\u014f": "o'",
        "\u011e": "G'",
        "\u011f": "g'",
    }
)

# Spaces that must not become line breaks, although paper prints them as " ".
_NO_BREAK = frozenset("\u00a0\u2007\u202f")
_CONTROL_SPACES = frozenset("\t\r\v\f")


# Uzbek Latin's modifier letters (and the quotes typed for them), which no
# printer code page holds.
UZBEK_MARKS = "\u02bb\u02bc\u2018\u2019"


def for_paper(text: str) -> str:
    """Return text folded to the characters a receipt printer's code pages hold."""
    folded = unicodedata.normalize("NFC", text).translate(_PAPER)
    return "".join(ch for ch in folded if not _is_control(ch))


def wrap(text: str, columns: int) -> list[str]:
    """Split text into lines of at most `columns` printed characters."""
    if columns < 1:
        raise ValueError(
            f"Cannot wrap text to {columns} columns; pass a width of at least 1."
        )

    lines: list[str] = []
    for paragraph in unicodedata.normalize("NFC", text).split("\n"):
        lines.extend(_wrap_paragraph(_clean(paragraph), columns))
    return lines


def _paper_width(text: str) -> int:
    return len(for_paper(text))


def _wrap_paragraph(paragraph: str, columns: int) -> list[str]:
    lines: list[str] = []
    line = ""
    for word in _words(paragraph):
        candidate = f"{line} {word}" if line else word
        if _paper_width(candidate) <= columns:
            line = candidate
            continue

        if line:
            lines.append(line)
        pieces = _hard_break(word, columns)
        lines.extend(pieces[:-1])
        line = pieces[-1]

    if line:
        lines.append(line)
    return lines


def _words(paragraph: str) -> list[str]:
    words: list[str] = []
    word = ""
    for ch in paragraph:
        if ch.isspace() and ch not in _NO_BREAK:
            if word:
                words.append(word)
            word = ""
        else:
            word += ch
    if word:
        words.append(word)
    return words


def _hard_break(word: str, columns: int) -> list[str]:
    pieces = [""]
    for ch in word:
        if pieces[-1] and _paper_width(pieces[-1] + ch) > columns:
            pieces.append("")
        pieces[-1] += ch
    return pieces


def _clean(text: str) -> str:
    """Drop control characters so that no text can smuggle in a printer command."""
    return "".join(
        " " if ch in _CONTROL_SPACES else ch
        for ch in text
        if ch in _CONTROL_SPACES or not _is_control(ch)
    )


def _is_control(ch: str) -> bool:
    return unicodedata.category(ch) == "Cc"
