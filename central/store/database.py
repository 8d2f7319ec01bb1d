"""Opening central's database: SQLite (WAL, durable) or PostgreSQL (psycopg 3).

SQLite runs with ``synchronous=FULL`` so an acknowledged sale survives a
power cut, and every writing transaction starts with ``BEGIN IMMEDIATE``: the
write lock is taken up front, so two server processes never both read a stale
inventory and then write it (readers ask for ``read_only`` and begin
deferred). On PostgreSQL the same guarantee comes from locking the train
run's row (``SELECT ... FOR UPDATE``). ``open_database`` also makes sure the
store is at this StationKit's layout (``central.store.migrations``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from central.store.migrations import ready

SQLITE_BUSY_TIMEOUT_MS = 30_000
SQLITE_CACHE_KIB = 64 * 1024


def open_database(url: str) -> Engine:
    """An engine on a store at this StationKit's layout; a new, empty store is laid out.

    A store behind or ahead of the layout is refused with
    ``StoreLayoutError``: only ``stationkit central migrate`` upgrades one.
    """
    engine = connect(url)
    try:
        ready(engine)
    except BaseException:
        engine.dispose()
        raise
    return engine


def connect(url: str) -> Engine:
    """An engine for ``url``, set up for central; the store's layout is not looked at."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    if parsed.get_backend_name() == "postgresql":
        return create_engine(
            parsed.set(drivername="postgresql+psycopg"), pool_size=8, pool_pre_ping=True
        )
    raise ValueError(
        f"unsupported database {parsed.get_backend_name()!r}: use sqlite or postgresql"
    )


def _sqlite_engine(url: str) -> Engine:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")  # the hot indexes stay in memory
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Readers opt out with execution_options(read_only=True) and never block writers.
        is_reader = connection.get_execution_options().get("read_only", False)
        connection.exec_driver_sql("BEGIN" if is_reader else "BEGIN IMMEDIATE")

    return engine
