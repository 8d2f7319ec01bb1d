"""Connections to a unit's store file, configured for durability, and transactions on them.

Every connection runs the write-ahead log with ``synchronous=FULL``: when a
write transaction's COMMIT returns, its log frames have been fsynced, so a
passage journaled before the relay opens survives a power cut. Readers never
wait for the writer; writers wait up to the busy timeout for each other.
Each thread opens its own connection (the gate's decision path and its sync
task each hold one); a connection may move between threads (``asyncio``'s
worker threads) but must serve one of them at a time.

:func:`write_transaction` is the only way the store writes: ``BEGIN
IMMEDIATE`` takes the write lock up front, so a transaction never fails half
way for want of it. Called inside another it becomes a savepoint, which lets
the sync task put a feed page's tickets, revocations and cursor in one
transaction while each part still commits alone when called alone.
:func:`translated_errors` turns SQLite's failures into ``StoreError``, and
:func:`query` reads through it: a stored row that fails the checks its record
makes at construction means the file is damaged, and is ``StoreCorrupt`` too.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from offline_store.errors import (
    StoreCorrupt,
    StoreError,
    StoreForeign,
    is_store_failure,
    store_error_from,
)
from offline_store.store_file import check_header, create_private

# "SKUS", StationKit unit store: marks the file as ours in SQLite's header
APPLICATION_ID = 0x534B5553
Parsed = TypeVar("Parsed")


class StoreSettings(BaseModel):
    """The ``[store]`` settings of a unit's profile; every field has a safe default."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    busy_timeout_ms: int = Field(default=5000, ge=0, le=600_000, strict=True)
    cache_kib: int = Field(default=8192, ge=256, le=1_048_576, strict=True)
    # 0 leaves checkpoints to another connection (keep the decision path's commits short)
    wal_autocheckpoint_pages: int = Field(default=1000, ge=0, le=1_000_000, strict=True)
    counter_slot_minutes: int = Field(default=15, ge=1, le=1440, strict=True)


DEFAULT_SETTINGS = StoreSettings()


class StoreConnection(sqlite3.Connection):
    """An SQLite connection that knows its store file, so errors can name it."""

    store_path: Path


def connect(path: Path, settings: StoreSettings = DEFAULT_SETTINGS) -> StoreConnection:
    """Open (creating with mode 0600 if missing) and configure a connection to ``path``.

    The file is checked before and after SQLite opens it; a file that is not
    a unit store raises a ``StoreError`` naming it. Migrations are not run
    here (see ``offline_store.store.open_connection``).
    """
    path = Path(path)
    create_private(path)
    check_header(path)
    conn = _sqlite_connect(path, settings.busy_timeout_ms)
    try:
        with translated_errors(conn, reading_file=True):
            _check_is_unit_store(conn)  # before any pragma writes to another program's file
            _configure(conn, settings)
    except BaseException:
        conn.close()
        raise
    return conn


def _sqlite_connect(path: Path, busy_timeout_ms: int) -> StoreConnection:
    """A bare connection with its busy timeout, in autocommit mode: we issue every BEGIN."""
    try:
        conn = sqlite3.connect(
            path,
            timeout=busy_timeout_ms / 1000,
            isolation_level=None,
            check_same_thread=False,
            factory=StoreConnection,
        )
    except sqlite3.Error as exc:
        raise store_error_from(path, exc) from exc
    conn.store_path = path
    return conn


def _configure(conn: StoreConnection, settings: StoreSettings) -> None:
    """The pragmas every connection needs; WAL must really be on."""
    (mode,) = conn.execute("PRAGMA journal_mode = WAL").fetchone()
    if str(mode).lower() != "wal":
        raise StoreError(conn.store_path, f"SQLite refused the write-ahead log (mode {mode})")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute(f"PRAGMA cache_size = -{settings.cache_kib}")
    conn.execute(f"PRAGMA wal_autocheckpoint = {settings.wal_autocheckpoint_pages}")


def _check_is_unit_store(conn: StoreConnection) -> None:
    """Refuse another program's SQLite file; read the schema so a damaged one fails now."""
    (application_id,) = conn.execute("PRAGMA application_id").fetchone()
    tables = [row[0] for row in conn.execute("SELECT name FROM sqlite_schema WHERE type='table'")]
    if application_id != APPLICATION_ID and (application_id or tables):
        raise StoreForeign(conn.store_path, "an SQLite database of another program, not a store")
    for table in tables:
        # reads each table's first leaf: cheap, and finds a damaged root at once
        conn.execute(f'SELECT * FROM "{table}" LIMIT 1').fetchall()


def check_integrity(conn: StoreConnection, *, limit: int = 10) -> None:
    """Run SQLite's ``quick_check`` over the whole file; StoreCorrupt listing what is wrong.

    It reads every page (tens of seconds for ten million tickets on an SD
    card), so the unit runs it when a technician asks, or off the decision path.
    """
    with translated_errors(conn, reading_file=True):
        problems = [row[0] for row in conn.execute(f"PRAGMA quick_check({int(limit)})")]
    if problems != ["ok"]:
        raise StoreCorrupt(conn.store_path, "the store file is damaged: " + "; ".join(problems))


def checkpoint(conn: StoreConnection) -> tuple[int, int]:
    """Copy the write-ahead log into the main file as far as readers allow, without waiting.

    Returns the frames in the log and how many are now in the main file.
    A connection with ``wal_autocheckpoint_pages = 0`` (the decision path's)
    leaves this to another task, which must call it regularly or the log
    grows without bound.
    """
    with translated_errors(conn):
        _, frames, copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    return int(frames), int(copied)


def query(
    conn: StoreConnection, sql: str, args: Sequence[object], parse: Callable[[Any], Parsed]
) -> list[Parsed]:
    """Every row of a read, parsed; StoreError for SQLite's failures and for damaged rows."""
    with translated_errors(conn):
        rows = _fetch_all(conn, sql, args)
    try:
        return [parse(row) for row in rows]
    except (ValueError, TypeError, KeyError, IndexError, ArithmeticError) as exc:
        raise StoreCorrupt(conn.store_path, f"a stored row fails its checks: {exc}") from exc


def _fetch_all(conn: StoreConnection, sql: str, args: Sequence[object]) -> list[Any]:
    """The rows of a read; a text column that is not UTF-8 is damage, not a bug."""
    try:
        return conn.execute(sql, args).fetchall()
    except sqlite3.OperationalError as exc:
        # raised by Python's sqlite3 itself (no SQLite code) for a value it cannot convert
        if getattr(exc, "sqlite_errorcode", None) is None:
            raise StoreCorrupt(conn.store_path, f"a stored value is garbled: {exc}") from exc
        raise


def query_one(
    conn: StoreConnection, sql: str, args: Sequence[object], parse: Callable[[Any], Parsed]
) -> Parsed | None:
    """The first row of a read, parsed, or None (see :func:`query`)."""
    found = query(conn, sql, args, parse)
    return found[0] if found else None


@contextmanager
def translated_errors(conn: StoreConnection, *, reading_file: bool = False) -> Iterator[None]:
    """Re-raise SQLite's failures of the file or system as ``StoreError`` naming the file.

    Mistakes in our own SQL pass through unchanged, as bugs should, except
    while a file is first read (``reading_file``): then any database error
    means the file is not what it should be. Text that is not UTF-8 (the
    store only ever writes UTF-8) is damage wherever it is met.
    """
    try:
        yield
    except sqlite3.DatabaseError as exc:
        if is_store_failure(exc):
            raise store_error_from(conn.store_path, exc) from exc
        if reading_file:
            raise StoreCorrupt(conn.store_path, f"the store file cannot be read: {exc}") from exc
        raise
    except UnicodeDecodeError as exc:
        raise StoreCorrupt(conn.store_path, f"the store file holds garbled text: {exc}") from exc


@contextmanager
def write_transaction(conn: StoreConnection) -> Iterator[StoreConnection]:
    """One atomic, durable write: all of the block's changes are on disk when it ends, or none.

    Inside another write transaction it is a savepoint: its changes roll back
    alone if the block raises, and commit with the outer transaction.
    """
    with translated_errors(conn), _begin(conn) as transaction:
        yield transaction


@contextmanager
def _begin(conn: StoreConnection) -> Iterator[StoreConnection]:
    """BEGIN IMMEDIATE (or a savepoint) ... COMMIT, rolled back on any exception."""
    nested = conn.in_transaction
    conn.execute("SAVEPOINT nested" if nested else "BEGIN IMMEDIATE")
    try:
        yield conn
        conn.execute("RELEASE nested" if nested else "COMMIT")
    except BaseException:
        _roll_back(conn, nested)
        raise


def _roll_back(conn: StoreConnection, nested: bool) -> None:
    """Undo the block; SQLite may already have rolled back after an I/O error."""
    if not conn.in_transaction:
        return
    if nested:
        conn.execute("ROLLBACK TO nested")
        conn.execute("RELEASE nested")
    else:
        conn.execute("ROLLBACK")
