"""A hub database holding years of finished tickets, made once and cached.

Each historical ticket was issued, called, started and finished (one in
twenty a no-show) on a past clinic day, with its four event-log lines and its
printed print job, so today's queue stays as small as on an empty database.
The file is cached under var/bench/ and named after the count and a hash of
the schema; each run copies it.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bench.hubproc import ROOT, dentist_ids, service_ids

logger = logging.getLogger(__name__)

GENERATOR_VERSION = "1"


def cached_history(
    folder: Path, tickets: int, per_day: int, dentists: int, timezone: str
) -> Path:
    """Return the path of a database with `tickets` past tickets, making it once."""
    schema = (ROOT / "server" / "models.py").read_bytes()
    key = hashlib.sha256(
        schema + f"{GENERATOR_VERSION}:{per_day}:{dentists}".encode()
    ).hexdigest()[:10]
    path = folder / f"history-{tickets}-{key}.sqlite3"
    if path.exists():
        return path

    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob(f"history-{tickets}-*.sqlite3*"):
        stale.unlink()
    partial = path.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    started = time.monotonic()
    yesterday = datetime.now(ZoneInfo(timezone)).date() - timedelta(days=1)
    generate(partial, tickets, per_day, dentist_ids(dentists), yesterday)
    partial.rename(path)
    logger.info(
        "made %s (%d tickets) in %.0f s", path.name, tickets, time.monotonic() - started
    )
    return path


def generate(
    path: Path, tickets: int, per_day: int, dentists: list[str], last_day: date
) -> None:
    """Write the hub's tables into path and fill them with finished tickets."""
    _create_tables(path)
    services = service_ids()
    prefixes = _prefixes()
    db = sqlite3.connect(path)
    db.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;")
    extra, values = _defaults("dentist", ["id", "active", "pin_hash"])
    db.executemany(
        f"INSERT INTO dentist (id, active, pin_hash{_columns(extra)}) "
        f"VALUES (:id, 1, ''{_params(extra)})",
        [dict(values, id=d) for d in dentists],
    )
    # Dentist n serves service n mod the service count (see hubproc.py).
    db.execute(
        "CREATE TEMP TABLE service_of (k INTEGER PRIMARY KEY, id, prefix, staff)"
    )
    db.execute("CREATE TEMP TABLE dentist_of (service, k, id, room)")
    for k, service in enumerate(services):
        staff = [d for n, d in enumerate(dentists) if n % len(services) == k]
        db.execute(
            "INSERT INTO service_of VALUES (?, ?, ?, ?)",
            (k, service, prefixes[service], len(staff)),
        )
        db.executemany(
            "INSERT INTO dentist_of VALUES (?, ?, ?, ?)",
            [(k, j, d, str(dentists.index(d) + 1)) for j, d in enumerate(staff)],
        )
    _fill_tickets(db, tickets, per_day, len(services), last_day)
    _fill_events_and_jobs(db)
    db.commit()
    db.close()
    # The hub's own indexes, made after the rows (much faster than before).
    _create_tables(path, indexes=True)
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.close()


def _fill_tickets(db, tickets: int, per_day: int, services: int, last_day: date):
    # Oldest first, so ids grow with time as the hub's own do; the oldest day
    # is the partial one when tickets is not a multiple of per_day.
    pad = -tickets % per_day
    columns = [
        "id", "day", "service", "number", "label", "state", "lang", "kiosk", "token",
        "dentist_id", "room", "recalls", "issued_at", "called_at", "started_at",
        "finished_at",
    ]  # fmt: skip
    # Newer schemas number each service's own series (transfers keep it).
    series = ", series" if "series" in _column_names("ticket") else ""
    extra, values = _defaults("ticket", [*columns, "series"])
    db.execute(
        f"""
        INSERT INTO ticket ({", ".join(columns)}{series}{_columns(extra)})
        WITH RECURSIVE n(i) AS (
            SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < :last
        ),
        slot AS (
            SELECT i, (:padded - 1 - (i + :pad)) / :per_day AS day_back,
                   (i + :pad) % :per_day AS k
            FROM n
        ),
        row AS (
            SELECT i, date(:last_day, '-' || day_back || ' days') AS day,
                   k % :services AS s, k / :services + 1 AS number, k
            FROM slot
        )
        SELECT row.i + 1, row.day, service_of.id, row.number,
               service_of.prefix || '-' || printf('%03d', row.number),
               CASE WHEN row.i % 20 = 7 THEN 'no_show' ELSE 'done' END,
               'uz', 'kiosk-' || printf('%02d', row.i % 10 + 1),
               'h' || row.i || '-' || lower(hex(randomblob(4))),
               dentist_of.id, dentist_of.room, 0,
               datetime(row.day, '+' || (10800 + row.k * 30) || ' seconds'),
               datetime(row.day, '+' || (10800 + row.k * 30 + 900) || ' seconds'),
               datetime(row.day, '+' || (10800 + row.k * 30 + 960) || ' seconds'),
               datetime(row.day, '+' || (10800 + row.k * 30 + 2700) || ' seconds')
               {", service_of.id" if series else ""}{_params(extra)}
        FROM row
        JOIN service_of ON service_of.k = row.s
        JOIN dentist_of ON dentist_of.service = service_of.k
             AND dentist_of.k = row.number % service_of.staff
        """,
        dict(
            values,
            last=tickets - 1,
            padded=tickets + pad,
            pad=pad,
            per_day=per_day,
            last_day=last_day.isoformat(),
            services=services,
        ),
    )


def _fill_events_and_jobs(db) -> None:
    extra, values = _defaults(
        "ticketevent", ["ticket_id", "action", "from_state", "to_state", "actor", "at"]
    )
    db.execute(
        f"""
        INSERT INTO ticketevent (ticket_id, action, from_state, to_state, actor, at
                                 {_columns(extra)})
        SELECT t.id,
               CASE WHEN step.o = 4 THEN t.state ELSE step.action END,
               CASE WHEN step.o = 4 AND t.state = 'no_show' THEN 'called'
                    ELSE step.from_state END,
               CASE WHEN step.o = 4 THEN t.state ELSE step.to_state END,
               CASE WHEN step.o = 1 THEN 'kiosk:' || t.kiosk
                    ELSE 'dentist:' || t.dentist_id END,
               CASE step.o WHEN 1 THEN t.issued_at WHEN 2 THEN t.called_at
                    WHEN 3 THEN t.started_at ELSE t.finished_at END
               {_params(extra)}
        FROM ticket t
        JOIN (SELECT 1 AS o, 'issued' AS action, NULL AS from_state,
                     'waiting' AS to_state
              UNION ALL SELECT 2, 'called', 'waiting', 'called'
              UNION ALL SELECT 3, 'started', 'called', 'serving'
              UNION ALL SELECT 4, 'done', 'serving', 'done') step
        WHERE NOT (t.state = 'no_show' AND step.o = 3)
        ORDER BY t.id, step.o
        """,
        values,
    )
    columns = [
        "ticket_id", "printer", "state", "attempts", "next_attempt_at", "last_error",
        "created_at", "printed_at",
    ]  # fmt: skip
    extra, values = _defaults("printjob", columns)
    db.execute(
        f"""
        INSERT INTO printjob ({", ".join(columns)}{_columns(extra)})
        SELECT id, kiosk || '-printer', 'printed', 1, issued_at, '', issued_at,
               issued_at {_params(extra)}
        FROM ticket
        """,
        values,
    )


def _defaults(table: str, given: list[str]) -> tuple[list[str], dict]:
    """Name the table's other required columns and their models' defaults.

    Columns that newer code adds then need no change here.
    """
    from server.models import TABLES

    model = next(m for m in TABLES if m._meta.table_name == table)
    extra, values = [], {}
    for field in model._meta.sorted_fields:
        if field.column_name in given or field.null or field.default is None:
            continue
        default = field.default() if callable(field.default) else field.default
        extra.append(field.column_name)
        values[f"default_{field.column_name}"] = field.db_value(default)
    return extra, values


def _column_names(table: str) -> set[str]:
    from server.models import TABLES

    model = next(m for m in TABLES if m._meta.table_name == table)
    return {field.column_name for field in model._meta.sorted_fields}


def _columns(extra: list[str]) -> str:
    return "".join(f", {column}" for column in extra)


def _params(extra: list[str]) -> str:
    return "".join(f", :default_{column}" for column in extra)


def _create_tables(path: Path, indexes: bool = False) -> None:
    """Create the hub's tables through its own models (indexes only if asked)."""
    from server.db import open_sqlite
    from server.models import TABLES

    db = open_sqlite(path)
    with db.connection_context():
        for model in TABLES:
            if indexes:
                model._schema.create_indexes(safe=True)
            else:
                model._schema.create_table(safe=True)
    db.close_all()  # the hub's pool keeps connections open; this file needs none


def _prefixes() -> dict[str, str]:
    import tomllib

    raw = tomllib.loads((ROOT / "config.toml").read_text(encoding="utf-8"))
    return {s["id"]: s["prefix"] for s in raw["services"]}
