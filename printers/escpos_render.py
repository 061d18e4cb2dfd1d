"""Turn a ticket layout into ESC/POS bytes through python-escpos."""

import logging

from escpos.capabilities import get_profile
from escpos.constants import QR_ECLEVEL_M
from escpos.magicencode import Encoder
from escpos.printer import Dummy
from PIL import Image, ImageOps

from printers.layout import (
    SIZES,
    Cut,
    Element,
    Feed,
    Qr,
    Rule,
    Text,
    columns,
    paper_dots,
)
from printers.preview import draw_line, qr_module_dots, qr_modules, qr_strip
from printers.text import UZBEK_MARKS, for_paper, wrap

logger = logging.getLogger(__name__)

# Latin (CP437) and Russian (CP866) only. Left to choose from all of a
# profile's pages, python-escpos switches to Greek or CP1252 mid-word, and a
# printer without a page its profile claims prints garbage. A line that these
# two pages cannot hold is printed as an image instead.
PAPER_ENCODINGS = ("CP437", "CP866")

_RASTER = b"\x1dv0\x00"
_ALIGN_LEFT = b"\x1ba\x00"


def render_escpos(
    layout: list[Element],
    *,
    width_mm: int = 80,
    profile: str = "default",
    native_qr: bool = True,
    apostrophes: str = "ascii",
) -> bytes:
    """Render the layout as the bytes an ESC/POS printer prints it from.

    apostrophes: "ascii" prints Uzbek oʻ gʻ ʼ with a plain apostrophe (text
    mode, fast); "image" prints lines that hold them as pictures, exact.
    """
    printer = _printer(profile)
    native_qr = native_qr and bool(printer.profile.supports("qrCode"))
    paper_dots(width_mm)  # fail on an unknown paper width before any output

    printer.hw("INIT")
    for element in layout:
        _render(printer, element, width_mm, native_qr, apostrophes)
    return printer.output


def _printer(profile: str) -> Dummy:
    try:
        capabilities = get_profile(profile)
    except KeyError:
        raise ValueError(
            f"Unknown printer profile {profile!r}; set the printer's profile to "
            "'default' or a model python-escpos knows, such as 'TM-T20II'."
        ) from None

    pages = capabilities.get_code_pages()
    encoder = Encoder({name: pages[name] for name in PAPER_ENCODINGS if name in pages})
    if len(encoder.codepages) < len(PAPER_ENCODINGS):
        logger.warning(
            "profile %s lacks CP437 or CP866; such text is printed as images", profile
        )
    return Dummy(profile=profile, magic_encode_args={"encoder": encoder})


def _render(
    printer: Dummy, element: Element, width_mm: int, native_qr: bool, apostrophes: str
) -> None:
    match element:
        case Text():
            _text(printer, element, width_mm, apostrophes)
        case Qr(data=data):
            printer.print_and_feed(1)
            if native_qr:
                _native_qr(printer, data, width_mm)
            else:
                _raster(printer, qr_strip(data, width_mm))
            printer.print_and_feed(1)
        case Rule():
            _text(printer, Text("-" * columns(width_mm)), width_mm)
        case Feed(lines=lines):
            if lines:
                printer.print_and_feed(lines)
        case Cut():
            # GS V 66 0: the printer feeds to its own cutter position, then cuts.
            printer.cut(feed=False)
        case _:
            raise TypeError(
                f"Cannot print {element!r}; pass Text, Qr, Rule, Feed or Cut."
            )


def _text(
    printer: Dummy, element: Text, width_mm: int, apostrophes: str = "ascii"
) -> None:
    scale_x, scale_y = SIZES[element.size]
    printer.set(
        align=element.align,
        bold=element.bold,
        custom_size=True,
        width=scale_x,
        height=scale_y,
    )

    for line in wrap(element.text, columns(width_mm, element.size)):
        paper = for_paper(line)
        exact = apostrophes == "image" and any(ch in UZBEK_MARKS for ch in line)
        if not exact and _fits_code_pages(printer, paper):
            # python-escpos remembers the page it last sent and skips ESC t,
            # but ESC @ or a printer-side reset loses it: send it every line.
            printer.magic.encoding = None
            printer.textln(paper)
            continue

        width = paper_dots(width_mm)
        strip = draw_line(
            line, size=element.size, bold=element.bold, align=element.align, width=width
        )
        _raster(printer, strip)
        printer.set(align=element.align)


def _fits_code_pages(printer: Dummy, text: str) -> bool:
    encoder = printer.magic.encoder
    return all(
        any(encoder.can_encode(name, ch) for name in encoder.codepages) for ch in text
    )


def _native_qr(printer: Dummy, data: str, width_mm: int) -> None:
    # The library refuses center=True with native=True; ESC a centres it.
    printer.set(align="center")
    size = qr_module_dots(qr_modules(data), width_mm)
    printer.qr(data, ec=QR_ECLEVEL_M, size=size, native=True)


def _raster(printer: Dummy, strip: Image.Image) -> None:
    """Send a paper-wide strip as GS v 0, trimmed of its blank right margin."""
    ink = ImageOps.invert(strip.convert("L"))
    box = ink.getbbox()
    right = box[2] if box else 8
    ink = ink.crop((0, 0, min(strip.width, (right + 7) // 8 * 8), strip.height))

    # Library's image() prints to stdout when the profile has no paper width,
    # and some printers apply ESC a to images: the strip carries its own margin.
    bits = ink.convert("1", dither=Image.Dither.NONE)
    width_bytes = bits.width // 8
    header = _RASTER + _little_endian(width_bytes) + _little_endian(bits.height)
    printer._raw(_ALIGN_LEFT + header + bits.tobytes())


def _little_endian(value: int) -> bytes:
    return value.to_bytes(2, "little")
