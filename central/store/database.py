"""Opening central's database: SQLite (WAL, durable) or PostgreSQL (psycopg 3).

SQLite runs with ``synchronous=FULL`` so an acknowledged sale survives a
power cut, and every writing transaction starts with ``BEGIN IMMEDIATE``: the
write lock is taken up front, so two server processes never both read a stale
inventory and then write it (readers ask for
``read_only`` and begin deferred). On PostgreSQL
the same guarantee comes from locking the train run's row (``SELECT ... FOR UPDATE``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, func, insert, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from central.store.tables import metadata, store_schema, train_runs

# The store's layout version; raise it whenever a table changes in a way an
# older store cannot be used as it is (2: versions moved to run_versions; 3: each
# seat row keeps its live journeys).
SCHEMA_VERSION = 3

SQLITE_BUSY_TIMEOUT_MS = 30_000
SQLITE_CACHE_KIB = 64 * 1024


def open_database(url: str) -> Engine:
    """Create an engine for ``url`` and make sure the schema exists."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = _sqlite_engine(url)
    elif parsed.get_backend_name() == "postgresql":
        engine = create_engine(
            parsed.set(drivername="postgresql+psycopg"), pool_size=8, pool_pre_ping=True
        )
    else:
        raise ValueError(
            f"unsupported database {parsed.get_backend_name()!r}: use sqlite or postgresql"
        )
    metadata.create_all(engine)
    try:
        with engine.begin() as conn:
            _check_schema(conn, url)
    except IntegrityError:  # another process stamped the new store meanwhile: check again
        with engine.begin() as conn:
            _check_schema(conn, url)
    return engine


class StoreSchemaError(RuntimeError):
    """The store was laid out by another version of StationKit."""


def _check_schema(conn: Connection, url: str) -> None:
    """Stamp a new store with its layout version; refuse a store of another layout."""
    found = conn.execute(select(store_schema.c.version)).scalar()
    if found is None:
        if conn.execute(select(func.count()).select_from(train_runs)).scalar():
            found = 1  # made before stores were stamped
        else:
            conn.execute(insert(store_schema).values(version=SCHEMA_VERSION))
            return
    if found != SCHEMA_VERSION:
        raise StoreSchemaError(
            f"the store {make_url(url).render_as_string(hide_password=True)} has layout "
            f"version {found}; this StationKit needs version {SCHEMA_VERSION}. Load the "
            "timetable into a new store (there is no migration between these versions)."
        )


def is_sqlite(engine: Engine) -> bool:
    """True for the embedded store."""
    return engine.dialect.name == "sqlite"


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
