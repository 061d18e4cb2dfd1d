"""Time patient search at 100,000 cards: name in either script, phone, number.

Fills a fresh SQLite file (in a temporary folder) with made-up patients whose
names are Uzbek and Russian, half typed in Latin and half in Cyrillic, then
times the registry's search the way reception uses it. The target is under
100 ms for every kind of query.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from server import config as config_module  # noqa: E402
from server.db import open_sqlite, writing  # noqa: E402
from server.models import Patient, create_tables  # noqa: E402
from server.names import name_key  # noqa: E402
from server.patients import Registry  # noqa: E402

LATIN_FIRST = [
    "Ali",
    "Vali",
    "Dilnoza",
    "Oʻktam",
    "Gʻayrat",
    "Sardor",
    "Nigora",
    "Jasur",
    "Malika",
    "Shahzod",
    "Zebiniso",
    "Bobur",
    "Lola",
    "Aziz",
]
CYRILLIC_FIRST = [
    "Али",
    "Дилноза",
    "Ўктам",
    "Ғайрат",
    "Сардор",
    "Нигора",
    "Анна",
    "Жасур",
    "Малика",
    "Шаҳзод",
    "Ольга",
    "Бобур",
    "Лола",
    "Азиз",
]
LATIN_LAST = [
    "Karimov",
    "Xoʻjayev",
    "Yusupova",
    "Rahimov",
    "Qodirova",
    "Nazarov",
    "Toshmatov",
    "Gʻulomova",
    "Ergashev",
    "Sobirova",
    "Ismoilov",
]
CYRILLIC_LAST = [
    "Каримов",
    "Хўжаев",
    "Юсупова",
    "Рахимов",
    "Кодирова",
    "Назаров",
    "Тошматов",
    "Ғуломова",
    "Эргашев",
    "Собирова",
    "Иванов",
]
QUERIES = {
    "name, Latin (Karimov)": "Karimov",
    "name, Cyrillic (Каримов)": "Каримов",
    "short prefix (Ka)": "Ka",
    "first and last (Ali Karimov)": "Ali Karimov",
    "no match (Smith)": "Smith",
    "phone (90 123-45-67)": "90 123-45-67",
    "card number (P-054321)": "P-054321",
}


def fill(count: int, seed: int) -> None:
    """Insert count made-up patients in batches."""
    rng = random.Random(seed)
    born = date(1940, 1, 1)
    rows = []
    for n in range(count):
        cyrillic = rng.random() < 0.5
        first = rng.choice(CYRILLIC_FIRST if cyrillic else LATIN_FIRST)
        last = rng.choice(CYRILLIC_LAST if cyrillic else LATIN_LAST)
        phone = "+998901234567" if n == 4242 else f"+99893{n:07d}"
        rows.append(
            {
                "first_name": first,
                "last_name": last,
                "birth_date": born + timedelta(days=rng.randrange(30000)),
                "phone": phone,
                "name_key": name_key(last, first),
                "name_key_reversed": name_key(first, last),
            }
        )
    with writing():
        for start in range(0, count, 5000):
            Patient.insert_many(rows[start : start + 5000]).execute()


def timed(registry: Registry, query: str, runs: int) -> tuple[float, float, int]:
    """Return the median and slowest time in ms and the number of cards found."""
    found = len(registry.search(query))
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        registry.search(query)
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings), max(timings), found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="navbat-bench-") as folder:
        config = config_module.load()
        open_sqlite(Path(folder) / "patients.sqlite3")
        create_tables()
        started = time.perf_counter()
        fill(args.patients, args.seed)
        filled = time.perf_counter() - started
        registry = Registry(config)

        print(
            f"{args.patients} patients filled in {filled:.1f} s; {args.runs} runs each"
        )
        print(f"{'query':<30} {'median ms':>10} {'max ms':>8} {'found':>6}")
        slowest = 0.0
        for label, query in QUERIES.items():
            median, worst, found = timed(registry, query, args.runs)
            slowest = max(slowest, median)
            print(f"{label:<30} {median:>10.2f} {worst:>8.2f} {found:>6}")
        verdict = "under" if slowest < 100 else "OVER"
        print(f"slowest median {slowest:.2f} ms: {verdict} the 100 ms target")
    return 0 if slowest < 100 else 1


if __name__ == "__main__":
    sys.exit(main())
