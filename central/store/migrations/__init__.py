"""Store migrations: central's store is moved from one layout to the next by Alembic.

Each revision under ``versions/`` changes the layout one step; the baseline
(``0001``) is the layout StationKit had before migrations, when a store
recorded it as version 3 in a ``store_schema`` table. ``migrate`` (what
``stationkit central migrate`` runs) is the only thing that upgrades a
store; ``ready`` (what every process opening the store runs) creates a new,
empty store at the head and refuses any other store not at the head, saying
what to do. Both work under the store's layout lock in one transaction, so
a crash leaves the store as it was and two of them at once do the work once.
The Alembic configuration is built here in code: an installed package needs
no ``alembic.ini``.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect, text

from central.store.tables import metadata

HERE = Path(__file__).resolve().parent
VERSIONS = HERE / "versions"
BASELINE = "0001"
LEGACY_TABLE = "store_schema"  # where stores from before migrations kept their layout version
LEGACY_LAYOUT = 3  # the last of those versions: the baseline's layout
VERSION_TABLE = "alembic_version"
LOCK_KEY = 0x53544B4C  # PostgreSQL advisory lock of a store's layout ("STKL")
CENTRAL_TABLES = frozenset(metadata.tables) | {LEGACY_TABLE}


class StoreLayoutError(RuntimeError):
    """The store is not at this StationKit's layout; the message says what to do."""


@dataclass(frozen=True)
class StoreState:
    """Where a store stands: its revision, and whether Alembic stamped it.

    ``revision`` is None for a new store (none of central's tables); a store
    from before migrations, at layout 3, stands at the baseline unstamped.
    """

    revision: str | None
    is_stamped: bool = True


@dataclass(frozen=True)
class Migration:
    """What ``migrate`` did: the revision before (None: a new store) and after."""

    before: str | None
    after: str
    adopted: bool = False  # a store from before migrations was taken as the baseline


def alembic_config(extra_versions: Sequence[Path] = ()) -> Config:
    """Alembic's configuration, built in code (``extra_versions``: more revision folders)."""
    config = Config()
    config.set_main_option("script_location", str(HERE))
    config.set_main_option("path_separator", "os")
    folders = [VERSIONS, *extra_versions]
    config.set_main_option("version_locations", os.pathsep.join(str(f) for f in folders))
    config.set_main_option("file_template", "v%%(rev)s_%%(slug)s")  # a module name mypy takes
    return config


def head(config: Config | None = None) -> str:
    """The newest revision this StationKit knows (or ``config`` knows)."""
    return _newest(_revisions(config))


def ready(engine: Engine, config: Config | None = None) -> str:
    """The store's revision, once it is at the head: a new store is created there.

    A store behind the head (or from before migrations) or ahead of it is
    refused with ``StoreLayoutError``; nothing is migrated here.
    """
    revisions = _revisions(config)
    with engine.connect().execution_options(read_only=True) as conn:  # no lock to look
        state = store_state(conn)
    if state.revision is None:
        with layout_lock(engine) as conn:
            state = store_state(conn)
            if state.revision is None:
                return _create(conn, revisions)
    return _require_head(engine, state, revisions)


def migrate(engine: Engine, config: Config | None = None) -> Migration:
    """Upgrade the store to the head (a new store is created there); say from where."""
    config = config or alembic_config()
    revisions = ScriptDirectory.from_config(config)
    with layout_lock(engine) as conn:
        state = store_state(conn)
        if state.revision is None:
            return Migration(None, _create(conn, revisions))
        _require_known(engine, state.revision, revisions)
        if not state.is_stamped:
            MigrationContext.configure(conn).stamp(revisions, BASELINE)
        config.attributes["connection"] = conn  # what env.py runs the revisions on
        try:
            command.upgrade(config, "head")
        finally:
            del config.attributes["connection"]
        return Migration(state.revision, _newest(revisions), adopted=not state.is_stamped)


def store_state(conn: Connection) -> StoreState:
    """Read where the store stands; refuse a store StationKit cannot migrate."""
    tables = set(inspect(conn).get_table_names())
    if not tables & CENTRAL_TABLES:
        return StoreState(None)  # a leftover version row alone does not make a store
    revision = MigrationContext.configure(conn).get_current_revision()
    if revision is not None:
        return StoreState(revision)
    legacy = _legacy_layout(conn) if LEGACY_TABLE in tables else None
    if legacy == LEGACY_LAYOUT:
        return StoreState(BASELINE, is_stamped=False)
    layout = f"layout version {legacy}" if legacy is not None else "no layout version"
    raise StoreLayoutError(
        f"the store {_shown(conn.engine)} has {layout} from before migrations; only "
        f"layout {LEGACY_LAYOUT} can be migrated: load the timetable into a new store"
    )


def _legacy_layout(conn: Connection) -> int | None:
    found = conn.execute(text(f"SELECT max(version) FROM {LEGACY_TABLE}")).scalar()
    return int(found) if found is not None else None


def _revisions(config: Config | None) -> ScriptDirectory:
    return _shipped_revisions() if config is None else ScriptDirectory.from_config(config)


@functools.cache
def _shipped_revisions() -> ScriptDirectory:
    """The revisions that come with this StationKit, read once per process."""
    return ScriptDirectory.from_config(alembic_config())


def _newest(revisions: ScriptDirectory) -> str:
    newest = revisions.get_current_head()
    assert newest is not None, "central's store has no revisions"
    return newest


def _create(conn: Connection, revisions: ScriptDirectory) -> str:
    """Lay out a new store at the head: the tables as declared, stamped with the head.

    Faster than running every revision from empty, and the layout autogenerate
    compares with; a test checks that the revisions lay out the same.
    """
    metadata.create_all(conn)
    if inspect(conn).has_table(VERSION_TABLE):  # left by a store whose tables were dropped
        conn.execute(text(f"DELETE FROM {VERSION_TABLE}"))
    MigrationContext.configure(conn).stamp(revisions, "head")
    return _newest(revisions)


def _require_head(engine: Engine, state: StoreState, revisions: ScriptDirectory) -> str:
    revision = state.revision
    assert revision is not None
    _require_known(engine, revision, revisions)
    newest = _newest(revisions)
    if revision == newest and state.is_stamped:
        return revision
    where = f"is at revision {revision}"
    if not state.is_stamped:
        where = f"was made before migrations (its layout is revision {revision})"
    raise StoreLayoutError(
        f"the store {_shown(engine)} {where}; this StationKit needs revision {newest}: "
        "run `stationkit central migrate` (with the same --db or --config) first"
    )


def _require_known(engine: Engine, revision: str, revisions: ScriptDirectory) -> None:
    if revision not in {rev.revision for rev in revisions.walk_revisions()}:
        raise StoreLayoutError(
            f"the store {_shown(engine)} is at revision {revision}, which this StationKit "
            f"does not know (its newest is {_newest(revisions)}): it was migrated by a newer "
            "StationKit; run that one, or upgrade this one"
        )


def _shown(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


@contextlib.contextmanager
def layout_lock(engine: Engine) -> Iterator[Connection]:
    """A transaction holding the store's layout lock until it commits or rolls back.

    PostgreSQL takes an advisory lock; SQLite's ``BEGIN IMMEDIATE`` (the
    store's writing transactions) is the lock there. SQLite's foreign keys
    are off meanwhile, as a table rebuilt by a batch migration needs, and
    checked before the commit: that pragma only changes outside a transaction.
    """
    with engine.connect() as conn, _sqlite_foreign_keys_off(conn), conn.begin():
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
        yield conn
        if conn.dialect.name == "sqlite":
            _check_foreign_keys(conn)


@contextlib.contextmanager
def _sqlite_foreign_keys_off(conn: Connection) -> Iterator[None]:
    if conn.dialect.name != "sqlite":
        yield
        return
    driver = conn.connection.driver_connection
    assert driver is not None
    driver.execute("PRAGMA foreign_keys=OFF")
    try:
        yield
    finally:
        driver.execute("PRAGMA foreign_keys=ON")


def _check_foreign_keys(conn: Connection) -> None:
    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        table, rowid, parent = broken[0][:3]
        raise StoreLayoutError(
            f"the migration would leave {len(broken)} row(s) pointing nowhere (first: "
            f"{table} row {rowid} -> {parent}); nothing was changed"
        )
