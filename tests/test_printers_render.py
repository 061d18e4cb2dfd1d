"""Ticket layout to ESC/POS bytes and PNG previews, read back like a printer."""

import io
from dataclasses import replace

import pytest
from PIL import Image

from printers import (
    Qr,
    Text,
    TicketPrint,
    for_paper,
    render_escpos,
    render_png,
    ticket_layout,
    wrap,
)
from printers.layout import columns, paper_dots
from printers.preview import qr_matrix
from tests.escpos_decode import Decoded, decode

URL = "http://192.168.1.20:5000/t/7Qm2xK9pLw"

TICKET = TicketPrint(
    clinic_name="Tabassum stomatologiyasi",
    number="A-001",
    service="Tish tozalash",
    issued_at="04.12.2026 15:40",
    ahead="Oldinda: 3 kishi",
    qr_url=URL,
    qr_hint="Navbatni kuzatish uchun skanerlang",
)

# Service names as people type them, and what the paper must say.
SERVICES = [
    pytest.param("Ogʻiz boʻshligʻi", "Og'iz bo'shlig'i", id="uz-okina-02BB"),
    pytest.param("Sunʼiy tish, taʼmir", "Sun'iy tish, ta'mir", id="uz-apostrophe-02BC"),
    pytest.param("O‘zbek, g‘alla", "O'zbek, g'alla", id="uz-left-quote-2018"),
    pytest.param("Ma’lumot, o’qish", "Ma'lumot, o'qish", id="uz-right-quote-2019"),
    pytest.param("Og'riq, o'g'il", "Og'riq, o'g'il", id="uz-ascii-apostrophe"),
    pytest.param("O`zbek, g`isht", "O'zbek, g'isht", id="uz-backtick"),
    pytest.param(
        "Лечение кариеса, ёмкость №3", "Лечение кариеса, ёмкость №3", id="russian"
    ),
    pytest.param("Чистка — «Air Flow»", 'Чистка - "Air Flow"', id="russian-typography"),
    pytest.param(
        "Ortodontiya / Ортодонтия – brekety",
        "Ortodontiya / Ортодонтия - brekety",
        id="mixed",
    ),
    pytest.param("Professional cleaning", "Professional cleaning", id="english"),
    pytest.param(
        "Implantatsiya va protezlash: birlamchi maslahat, rentgen tasviri, "
        "kompyuter tomografiyasi hamda davolash rejasini tuzish",
        "Implantatsiya va protezlash: birlamchi maslahat, rentgen tasviri, "
        "kompyuter tomografiyasi hamda davolash rejasini tuzish",
        id="long",
    ),
    pytest.param(
        "Профессиональнаягигиенаполостиртасудалениемзубногокамня",
        "Профессиональнаягигиенаполостиртасудалениемзубногокамня",
        id="one-word-longer-than-a-line",
    ),
]


def squeeze(text: str) -> str:
    return text.replace(" ", "")


def printed(decoded: Decoded) -> str:
    return squeeze("".join(decoded.lines))


@pytest.mark.parametrize("width_mm", [58, 80])
@pytest.mark.parametrize(("service", "on_paper"), SERVICES)
def test_ticket_prints_every_text_right(service, on_paper, width_mm):
    ticket = replace(TICKET, service=service)

    decoded = decode(render_escpos(ticket_layout(ticket), width_mm=width_mm))

    assert squeeze(on_paper) in printed(decoded)
    for value in (ticket.clinic_name, ticket.number, ticket.issued_at, ticket.ahead):
        assert squeeze(value) in printed(decoded)
    assert "?" not in "".join(decoded.lines)
    assert max(decoded.line_cells) <= columns(width_mm)
    assert decoded.qr_payloads == [URL]
    assert decoded.images == 0
    assert decoded.cuts == 1


@pytest.mark.parametrize("width_mm", [58, 80])
def test_long_service_wraps_into_more_lines(width_mm):
    short = decode(render_escpos(ticket_layout(TICKET), width_mm=width_mm))
    long_ticket = replace(TICKET, service=" ".join(["Implantatsiya"] * 8))

    long = decode(render_escpos(ticket_layout(long_ticket), width_mm=width_mm))

    assert len(long.lines) > len(short.lines)
    assert max(long.line_cells) <= columns(width_mm)


def test_question_mark_typed_by_a_person_stays():
    ticket = replace(TICKET, qr_hint="Navbatingizni kuzatmoqchimisiz?")

    decoded = decode(render_escpos(ticket_layout(ticket)))

    assert "".join(decoded.lines).count("?") == 1


def test_uzbek_cyrillic_letters_without_a_code_page_print_as_an_image():
    ticket = replace(TICKET, service="Тиш қизариши ва оғриқ ҳақида")

    decoded = decode(render_escpos(ticket_layout(ticket)))

    assert "?" not in "".join(decoded.lines)
    assert decoded.images == 1
    assert decoded.rasters[0].width <= paper_dots(80)
    assert decoded.qr_payloads == [URL]


def test_every_text_line_sends_its_code_page():
    # python-escpos skips ESC t when it thinks the page is already set; a
    # reset loses it. Each line must carry its own, so a decoder that resets
    # to CP437 on ESC @ still reads the Cyrillic.
    layout = [Text("Привет"), Text("Hello"), Text("Привет")]

    decoded = decode(render_escpos(layout))

    assert decoded.lines == ["Привет", "Hello", "Привет"]
    assert len(decoded.code_pages) == 3


def test_python_escpos_still_forgets_the_code_page_after_init():
    # Pins the library behaviour we work around in render_escpos.
    # Imported here: printers must be imported first (capabilities cache).
    from escpos.printer import Dummy

    printer = Dummy()
    printer.textln("Привет")
    printer.hw("INIT")
    printer.textln("Привет")

    decoded = decode(printer.output)

    assert decoded.lines[0] == "Привет"
    assert decoded.lines[1] != "Привет"


def test_control_characters_cannot_inject_printer_commands():
    layout = [Text("A\x1b@B\x1dV\x00C\x10\x04\x01"), Qr(URL)]

    decoded = decode(render_escpos(layout))

    assert decoded.lines == ["A@BVC", "", ""]
    assert decoded.cuts == 0


@pytest.mark.parametrize("width_mm", [58, 80])
def test_image_qr_encodes_the_url_and_sends_no_native_code(width_mm):
    data = render_escpos(ticket_layout(TICKET), width_mm=width_mm, native_qr=False)

    decoded = decode(data)

    assert b"\x1d(k" not in data
    assert decoded.qr_payloads == []
    assert decoded.images == 1
    assert decoded.cuts == 1
    assert read_qr_modules(decoded.rasters[0]) == qr_matrix(URL)
    assert decoded.rasters[0].width <= paper_dots(width_mm)


def test_profile_without_native_qr_falls_back_to_an_image():
    from escpos.capabilities import get_profile

    profile = "POS-5890"
    pages = get_profile(profile).get_code_pages()
    table = {int(pages["CP437"]): "cp437", int(pages["CP866"]): "cp866"}
    ticket = replace(TICKET, service="Лечение кариеса")

    decoded = decode(render_escpos(ticket_layout(ticket), profile=profile), table)

    assert decoded.qr_payloads == []
    assert decoded.images == 1
    assert squeeze("Лечение кариеса") in printed(decoded)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"width_mm": 76}, "Unsupported paper width 76"),
        ({"profile": "no-such-printer"}, "Unknown printer profile 'no-such-printer'"),
    ],
)
def test_bad_settings_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        render_escpos(ticket_layout(TICKET), **kwargs)


@pytest.mark.parametrize(("width_mm", "pixels"), [(58, 384), (80, 576)])
def test_preview_is_as_wide_as_the_paper_and_grows_with_text(width_mm, pixels):
    long_ticket = replace(TICKET, service=" ".join(["Ogʻiz boʻshligʻi"] * 6))

    short = Image.open(io.BytesIO(render_png(ticket_layout(TICKET), width_mm=width_mm)))
    long = Image.open(
        io.BytesIO(render_png(ticket_layout(long_ticket), width_mm=width_mm))
    )

    assert short.format == "PNG"
    assert short.width == long.width == pixels
    assert long.height > short.height


def test_preview_draws_text_in_black_on_white():
    image = Image.open(io.BytesIO(render_png(ticket_layout(TICKET)))).convert("L")

    assert image.getpixel((0, 0)) == 255
    assert image.getextrema() == (0, 255)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Oʻzbekiston", "O'zbekiston"),
        ("taʼlim", "ta'lim"),
        ("O‘qituvchi o’rinbosari", "O'qituvchi o'rinbosari"),
        ("o`quv", "o'quv"),
        ("ŏzbek ğalla", "o'zbek g'alla"),
        ("«Улыбка» — “ok”", '"Улыбка" - "ok"'),
        ("10\u00a0000\u202fso‘m", "10 000 so'm"),
        ("Привет, мир! Ёж №5", "Привет, мир! Ёж №5"),
        ("и\u0306од", "йод"),
        ("a\u200bb\u00adc", "abc"),
        ("A\x1b@\x1dV\x00B\tC", "A@VB C"),
        ("wait…", "wait..."),
    ],
)
def test_for_paper(typed, expected):
    assert for_paper(typed) == expected


@pytest.mark.parametrize(
    ("text", "width", "expected"),
    [
        ("", 10, []),
        ("short", 10, ["short"]),
        ("one two three", 7, ["one two", "three"]),
        ("a   b", 10, ["a b"]),
        ("abcdefghij", 4, ["abcd", "efgh", "ij"]),
        ("ab abcdefghij", 4, ["ab", "abcd", "efgh", "ij"]),
        ("first\nsecond", 20, ["first", "second"]),
        ("10\u00a0000 so'm", 6, ["10\u00a0000", "so'm"]),
        ("Oʻzbekiston", 11, ["Oʻzbekiston"]),
        ("wait… ok", 6, ["wait", "… ok"]),
        ("A\x1bB C", 3, ["AB", "C"]),
    ],
)
def test_wrap(text, width, expected):
    assert wrap(text, width) == expected


def read_qr_modules(raster) -> list[list[bool]]:
    """Sample the centre of every module of a QR code printed as an image."""
    dark = [
        (x, y)
        for y in range(raster.height)
        for x in range(raster.width)
        if raster.dark(x, y)
    ]
    left = min(x for x, _ in dark)
    right = max(x for x, _ in dark) + 1
    count = len(qr_matrix(URL))
    module = (right - left) // count
    return [
        [
            raster.dark(left + col * module + module // 2, row * module + module // 2)
            for col in range(count)
        ]
        for row in range(count)
    ]


@pytest.mark.parametrize("width_mm", [58, 80])
def test_uzbek_apostrophes_can_be_printed_exactly_as_pictures(width_mm):
    layout = [Text("Koʻrik va maʼlumot"), Text("Русский текст")]

    ascii_paper = decode(render_escpos(layout, width_mm=width_mm))
    exact_paper = decode(render_escpos(layout, width_mm=width_mm, apostrophes="image"))

    assert "Ko'rik va ma'lumot" in ascii_paper.lines and ascii_paper.images == 0
    assert "Ko'rik va ma'lumot" not in exact_paper.lines
    assert exact_paper.images == 1, "the Uzbek line is a picture, the Russian text"
    assert "Русский текст" in exact_paper.lines


@pytest.mark.parametrize(
    ("line", "apostrophes", "shown"),
    [
        ("Koʻrik", "ascii", "Ko'rik"),  # goes out as text: o' on paper
        ("Koʻrik", "image", "Koʻrik"),  # goes out as a picture of the line
        ("Қўқон", "ascii", "Қўқон"),  # beyond CP866: a picture, as typed
        ("Осмотр", "ascii", "Осмотр"),
    ],
)
def test_the_preview_shows_each_line_as_the_paper_does(line, apostrophes, shown):
    from printers.preview import as_printed

    assert as_printed(line, apostrophes) == shown
