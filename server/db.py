"""The database handle, its pragmas, and the one lock around writes."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path

from peewee import DatabaseProxy
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
