"""The database handle, its pragmas, and the one lock around writes."""

from __future__ import annotations

import contextlib
import sqlite3
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from peewee import DatabaseProxy, Value
from playhouse.pool import PooledSqliteDatabase

database = DatabaseProxy()

# One process-wide lock around every write transaction. SQLite allows one
# writer; queueing writers here (a green lock under eventlet) is much cheaper
# than letting them spin in SQLite's busy handler, which blocks every greenlet.
_write_lock = threading.RLock()

PRAGMAS = {
    "journal_mode": "wal",
    "synchronous": "normal",
    "foreign_keys": 1,
    "busy_timeout": 5000,
}


def open_sqlite(path: Path) -> PooledSqliteDatabase:
    """Bind the models to the SQLite file at path, creating its folder.

    Connections are pooled: opening one per request (pragmas, then a WAL
    checkpoint, fsync and file deletions when the last one closes) cost
    several times the query itself.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    db = PooledSqliteDatabase(
        str(path),
        pragmas=PRAGMAS,
        check_same_thread=False,
        max_connections=64,
        stale_timeout=600,
    )
    if database.obj is not None:
        database.obj.close_all()  # a previous binding's idle connections (tests)
    database.initialize(db)
    return db


def checkpoint_in_background(path: Path, interval: float = 1.0) -> None:
    """Move the WAL's checkpoints out of the requests, into an OS thread.

    SQLite checkpoints when a commit finds the WAL long, and a checkpoint
    ends in fsync: milliseconds, more on a large database, during which an
    eventlet hub serves nobody. A thread of its own checkpoints instead
    (SQLite lets go of the GIL meanwhile); the hub's connections no longer do.
    """
    with database.connection_context():
        database.obj.pragma("wal_autocheckpoint", 0, permanent=True)
    database.obj.close_idle()  # pooled connections opened with the old setting
    threading_, time_ = _native("threading"), _native("time")

    def checkpoint_forever() -> None:
        connection = sqlite3.connect(str(path), check_same_thread=False)
        while True:
            time_.sleep(interval)
            try:
                connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            except sqlite3.Error as err:
                # Not through logging: its locks are eventlet's, not this thread's.
                print(f"navbat: checkpointing {path} failed: {err}", file=sys.stderr)

    threading_.Thread(
        target=checkpoint_forever, name="wal-checkpoint", daemon=True
    ).start()


def _native(module: str):
    """Return a module as Python made it, even when eventlet patched it."""
    try:
        from eventlet import patcher
    except ImportError:
        return __import__(module)
    return patcher.original(module)


@contextlib.contextmanager
def writing() -> Iterator[None]:
    """Run a block as one immediate write transaction under the write lock.

    Never emit, print or wait on the network inside: commit, then publish.
    """
    with _write_lock, database.connection_context(), database.atomic("IMMEDIATE"):
        yield


@contextlib.contextmanager
def reading() -> Iterator[None]:
    """Run a block with a connection open (reused if one already is)."""
    with database.connection_context():
        yield


class Prepared:
    """A query peewee compiles to SQL once; later runs only swap in new values.

    peewee builds a query's SQL anew for every run, which takes several
    times longer than SQLite takes to run it, and every queue event runs the
    same few queries. build(*markers) returns the query with one marker
    where each value goes.
    """

    def __init__(self, build: Callable[..., object], values: int):
        self._build = build
        self._values = values
        self._compiled: tuple[str, list, list[int]] | None = None

    def execute(self, *values):
        """Run the query with values in the markers' places; return the cursor."""
        sql, params = self.sql(*values)
        return database.execute_sql(sql, params)

    def rows(self, model, *values) -> list:
        """Run a select and return model instances, as peewee's own would."""
        sql, params = self.sql(*values)
        return list(model.raw(sql, *params))

    def sql(self, *values) -> tuple[str, list]:
        if self._compiled is None:
            self._compiled = self._compile()
        sql, params, places = self._compiled
        params = list(params)
        for place, value in zip(places, values, strict=True):
            params[place] = value
        return sql, params

    def _compile(self) -> tuple[str, list, list[int]]:
        markers = [object() for _ in range(self._values)]
        query = self._build(*(Value(m, converter=False) for m in markers))
        sql, params = query.sql()
        places = [
            next(i for i, param in enumerate(params) if param is marker)
            for marker in markers
        ]
        return sql, params, places


_inserts: dict[type, tuple[list[str], Prepared]] = {}


def insert(model, **fields):
    """Create a row as Model.create does, with the INSERT compiled once per model."""
    row = model(**fields)
    if model not in _inserts:
        names = [f.name for f in model._meta.sorted_fields if not f.primary_key]
        _inserts[model] = (
            names,
            Prepared(
                lambda *values: model.insert(**dict(zip(names, values, strict=True))),
                len(names),
            ),
        )
    names, statement = _inserts[model]
    row.id = statement.execute(*(row.__data__.get(name) for name in names)).lastrowid
    row._dirty.clear()
    return row
