"""Time rendering one ticket to ESC/POS bytes and to a PNG preview, and size them."""

import statistics
import sys
import time
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from printers import (  # noqa: E402
    TicketPrint,
    render_escpos,
    render_png,
    ticket_layout,
)

RUNS = 200

TICKET = TicketPrint(
    clinic_name="Tabassum stomatologiyasi",
    number="A-001",
    service="Ogʻiz boʻshligʻi gigiyenasi / Гигиена полости рта",
    issued_at="04.12.2026 15:40",
    ahead="Oldinda: 3 kishi",
    qr_url="http://192.168.1.20:5000/t/7Qm2xK9pLw",
    qr_hint="Navbatni kuzatish uchun skanerlang",
)


def median_microseconds(render, runs: int = RUNS) -> tuple[float, int]:
    """Return the median time of render() in microseconds and its output size."""
    output = render()
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        render()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings) * 1e6, len(output)


def main() -> None:
    """Print one row per renderer and paper width."""
    layout = ticket_layout(TICKET)
    cases = [
        ("ESC/POS, native QR", lambda w: render_escpos(layout, width_mm=w)),
        (
            "ESC/POS, image QR",
            lambda w: render_escpos(layout, width_mm=w, native_qr=False),
        ),
        ("PNG preview", lambda w: render_png(layout, width_mm=w)),
    ]

    print(f"median of {RUNS} runs, Python {sys.version.split()[0]}")
    print(f"{'renderer':<20} {'paper':>6} {'median µs':>10} {'bytes':>7}")
    for name, render in cases:
        for width_mm in (58, 80):
            micros, size = median_microseconds(partial(render, width_mm))
            print(f"{name:<20} {width_mm:>4}mm {micros:>10.0f} {size:>7}")


if __name__ == "__main__":
    main()
