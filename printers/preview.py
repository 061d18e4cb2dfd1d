"""Draw a ticket layout as a PNG at the printer's resolution."""

import io
from functools import lru_cache

import qrcode
from PIL import Image, ImageDraw, ImageFont

from printers.fonts import font_path
from printers.layout import (
    FONT_A_DOTS,
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
from printers.text import UZBEK_MARKS, for_paper, wrap

LINE_GAP = 6
"""Dots between lines; font A's 24 dots plus this is a printer's default pitch."""

BLANK_LINE = FONT_A_DOTS[1] + LINE_GAP
TOP_MARGIN = 12

# DejaVu Sans at 20 px fills font A's 24-dot cell: about 12 dots per character.
_FONT_PX = 20
_WHITE = 255


def render_png(
    layout: list[Element], *, width_mm: int = 80, apostrophes: str = "ascii"
) -> bytes:
    """Draw the layout as a PNG as wide as the paper's printable dots.

    Each line looks as the printer prints it: a line that goes out as text
    shows the text sent (oʻ as o' with apostrophes="ascii").
    """
    width = paper_dots(width_mm)
    blocks: list[Image.Image | int] = [TOP_MARGIN]
    for element in layout:
        blocks.extend(_blocks(element, width_mm, apostrophes))

    height = sum(b if isinstance(b, int) else b.height for b in blocks)
    paper = Image.new("L", (width, height), _WHITE)
    y = 0
    for block in blocks:
        if isinstance(block, int):
            y += block
            continue
        paper.paste(block, (0, y))
        y += block.height

    out = io.BytesIO()
    paper.save(out, "PNG")
    return out.getvalue()


def draw_line(
    text: str, *, size: str, bold: bool, align: str, width: int
) -> Image.Image:
    """Draw one line of text as typed, in a paper-wide strip one character tall."""
    scale_x, scale_y = SIZES[size]
    font = _font(bold, _FONT_PX * scale_y)
    cell_height = FONT_A_DOTS[1] * scale_y

    text_width = max(1, round(font.getlength(text)))
    line = Image.new("L", (text_width, cell_height), _WHITE)
    ImageDraw.Draw(line).text((0, 0), text, font=font, fill=0)

    # Double width on paper stretches glyphs sideways; a proportional font
    # may still overflow the columns, so squeeze it to the paper if it does.
    stretched = round(text_width * scale_x / scale_y)
    fitted = max(1, min(stretched, width))
    if fitted != text_width:
        line = line.resize((fitted, cell_height), Image.Resampling.LANCZOS)

    strip = Image.new("L", (width, cell_height), _WHITE)
    strip.paste(line, (_offset(align, fitted, width), 0))
    return strip


def qr_module_dots(modules: int, width_mm: int) -> int:
    """Return the dots per QR module that print a code of this many modules well."""
    target = min(paper_dots(width_mm) * 3 // 5, 288)
    return max(1, min(16, target // modules))


def qr_matrix(data: str) -> list[list[bool]]:
    """Return the QR symbol for data as rows of dark (True) modules, no border."""
    code = _qr_code(data)
    code.make(fit=True)
    return code.get_matrix()


def qr_modules(data: str) -> int:
    """Return how many modules wide the QR symbol for data is."""
    # Choosing the version is cheap; drawing the symbol (mask search) is not.
    return _qr_code(data).best_fit() * 4 + 17


def qr_strip(data: str, width_mm: int) -> Image.Image:
    """Draw the QR code for data centred on a paper-wide strip."""
    matrix = qr_matrix(data)
    count = len(matrix)
    pixels = [0 if dark else _WHITE for row in matrix for dark in row]
    symbol = Image.new("L", (count, count))
    symbol.putdata(pixels)

    side = count * qr_module_dots(count, width_mm)
    symbol = symbol.resize((side, side), Image.Resampling.NEAREST)
    width = paper_dots(width_mm)
    strip = Image.new("L", (width, side), _WHITE)
    strip.paste(symbol, ((width - side) // 2, 0))
    return strip


def _blocks(
    element: Element, width_mm: int, apostrophes: str
) -> list[Image.Image | int]:
    width = paper_dots(width_mm)
    match element:
        case Text(text=text, size=size, align=align, bold=bold):
            blocks: list[Image.Image | int] = []
            for line in wrap(text, columns(width_mm, size)):
                shown = as_printed(line, apostrophes)
                blocks.append(
                    draw_line(shown, size=size, bold=bold, align=align, width=width)
                )
                blocks.append(LINE_GAP)
            return blocks
        case Qr(data=data):
            return [BLANK_LINE, qr_strip(data, width_mm), BLANK_LINE]
        case Rule():
            return [_rule(width, dashed=False)]
        case Feed(lines=lines):
            return [BLANK_LINE * lines] if lines else []
        case Cut():
            return [_rule(width, dashed=True)]
    raise TypeError(f"Cannot draw {element!r}; pass Text, Qr, Rule, Feed or Cut.")


def as_printed(line: str, apostrophes: str) -> str:
    """Return a line as the paper shows it: the text sent, or as typed when the
    line goes out as a picture (letters beyond CP437/CP866, or exact marks)."""
    if apostrophes == "image" and any(ch in UZBEK_MARKS for ch in line):
        return line
    paper = for_paper(line)
    return paper if all(_encodable(ch) for ch in paper) else line


def _encodable(ch: str) -> bool:
    for page in ("cp437", "cp866"):
        try:
            ch.encode(page)
            return True
        except UnicodeEncodeError:
            continue
    return False


def _rule(width: int, *, dashed: bool) -> Image.Image:
    strip = Image.new("L", (width, BLANK_LINE), _WHITE)
    draw = ImageDraw.Draw(strip)
    y = BLANK_LINE // 2
    if not dashed:
        draw.line([(0, y), (width - 1, y)], fill=0, width=2)
        return strip

    for x in range(0, width, 16):
        draw.line([(x, y), (min(x + 9, width - 1), y)], fill=0, width=2)
    return strip


def _offset(align: str, used: int, width: int) -> int:
    if align == "left":
        return 0
    if align == "right":
        return width - used
    return (width - used) // 2


def _qr_code(data: str) -> qrcode.QRCode:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    code.add_data(data)
    return code


@lru_cache(maxsize=16)
def _font(bold: bool, px: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(font_path(bold)), px)
