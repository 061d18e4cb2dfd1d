"""A ticket's paper, described without any printer in mind."""

from dataclasses import dataclass

SIZES = {"normal": (1, 1), "large": (1, 2), "huge": (3, 3)}
"""Character size multipliers (width, height) over the printer's font A."""

ALIGNS = ("left", "center", "right")

# Font A is 12 x 24 dots on 203 dpi printers: 32 columns on 58 mm paper
# (384 dots printable), 48 columns on 80 mm paper (576 dots printable).
_PAPER_DOTS = {58: 384, 80: 576}
FONT_A_DOTS = (12, 24)


@dataclass(frozen=True)
class Text:
    """A paragraph; renderers wrap it to the paper."""

    text: str
    size: str = "normal"
    align: str = "center"
    bold: bool = False

    def __post_init__(self) -> None:
        if self.size not in SIZES:
            raise ValueError(
                f"Unknown text size {self.size!r}; use one of {', '.join(SIZES)}."
            )
        if self.align not in ALIGNS:
            raise ValueError(
                f"Unknown alignment {self.align!r}; use one of {', '.join(ALIGNS)}."
            )


@dataclass(frozen=True)
class Qr:
    """A QR code, centred."""

    data: str

    def __post_init__(self) -> None:
        if not self.data:
            raise ValueError("A QR code needs data, got ''; pass the ticket's URL.")


@dataclass(frozen=True)
class Rule:
    """A horizontal line across the paper."""


@dataclass(frozen=True)
class Feed:
    """Blank lines."""

    lines: int = 1

    def __post_init__(self) -> None:
        if not 0 <= self.lines <= 255:
            raise ValueError(
                f"Cannot feed {self.lines} lines; pass a number from 0 to 255."
            )


@dataclass(frozen=True)
class Cut:
    """The end of the ticket: the paper is cut here."""


Element = Text | Qr | Rule | Feed | Cut


@dataclass(frozen=True)
class TicketPrint:
    """What goes on a ticket, already translated and formatted by the caller."""

    clinic_name: str
    number: str
    service: str
    issued_at: str
    ahead: str
    qr_url: str
    qr_hint: str
    wait: str = ""  # the estimated wait, e.g. "Wait: about 10-20 min"


def ticket_layout(t: TicketPrint) -> list[Element]:
    """Lay out a patient's queue ticket."""
    return [
        Text(t.clinic_name, bold=True),
        Rule(),
        Text(t.number, size="huge", bold=True),
        Text(t.service, size="large"),
        Text(t.issued_at),
        Text(t.ahead),
        *([Text(t.wait)] if t.wait else []),
        Qr(t.qr_url),
        Text(t.qr_hint),
        Feed(),
        Cut(),
    ]


# Lines that show at a glance whether each script prints right: Uzbek Latin
# with its apostrophes, Uzbek Cyrillic (beyond CP866: printed as an image),
# Russian and English.
TEST_LINES = (
    "Oʻzbekcha: Oʻgʻil, gʻisht, maʼno, shoʻx",
    "Ўзбекча: Қўқон, ғоз, ҳовли",
    "Русский: Съешь же ещё этих мягких булок",
    "English: The quick brown fox, 0123456789",
)


def printer_test_page(clinic_name: str, printer: str, when: str, qr_url: str):
    """Lay out a printer test page: every language's letters, a QR code, a cut."""
    return [
        Text(clinic_name, bold=True),
        Text(f"Navbat: {printer}", bold=True),
        Text(when),
        Rule(),
        Text("A-001", size="huge", bold=True),
        *(Text(line, align="left") for line in TEST_LINES),
        Rule(),
        Qr(qr_url),
        Text(qr_url),
        Feed(),
        Cut(),
    ]


def paper_dots(width_mm: int) -> int:
    """Return the printable width in dots of a paper roll."""
    try:
        return _PAPER_DOTS[width_mm]
    except KeyError:
        raise ValueError(
            f"Unsupported paper width {width_mm!r} mm; set width_mm to 58 or 80."
        ) from None


def columns(width_mm: int, size: str = "normal") -> int:
    """Return how many characters of a size fit on one line of the paper."""
    return paper_dots(width_mm) // (FONT_A_DOTS[0] * SIZES[size][0])
