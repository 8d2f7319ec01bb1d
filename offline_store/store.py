"""Opening a unit's store, and the :class:`UnitStore` that holds all its parts on one connection.

:func:`open_connection` is the one way in: it creates the file (mode 0600)
if missing, refuses a file that is not a unit store, configures the
connection (write-ahead log, ``synchronous=FULL``, busy timeout, foreign
keys), runs the schema's migration steps and checks the schema they leave.
Each thread that uses the store opens its own connection (the gate's
decision path one, its sync task another). :class:`UnitStore` bundles the
parts over one connection and gives the transaction that spans them::

    with UnitStore.open(path, settings) as store:
        with store.transaction():            # one feed page, all or nothing
            store.tickets.upsert(page_tickets)
            store.revocations.record(page_revocations)
            store.cursors.set("station_feed", page_cursor)
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

from offline_store.blocks import Blocks, BlockSales, UnitKey
from offline_store.connection import (
    DEFAULT_SETTINGS,
    StoreConnection,
    StoreSettings,
    check_integrity,
    checkpoint,
    connect,
    write_transaction,
)
from offline_store.journal import PassageJournal
from offline_store.key_store import VerificationKeys
from offline_store.migrations import Migration, check_schema, migrate
from offline_store.sales import SalesJournal
from offline_store.schema import MIGRATIONS
from offline_store.ticket_cache import Revocations, TicketCache
from offline_store.unit_state import Enrolment, SyncCursors, UnitState


def open_connection(
    path: str | os.PathLike[str],
    settings: StoreSettings = DEFAULT_SETTINGS,
    migrations: Sequence[Migration] = MIGRATIONS,
) -> StoreConnection:
    """A configured, migrated connection to the store at ``path``; StoreError if unusable."""
    conn = connect(Path(path), settings)
    try:
        migrate(conn, migrations)
        check_schema(conn, migrations)
    except BaseException:
        conn.close()
        raise
    return conn


class UnitStore:
    """Every part of a unit's store over one connection (one per thread)."""

    def __init__(self, conn: StoreConnection, settings: StoreSettings = DEFAULT_SETTINGS) -> None:
        self.connection = conn
        self.tickets = TicketCache(conn)
        self.revocations = Revocations(conn)
        self.keys = VerificationKeys(conn)
        self.journal = PassageJournal(conn, slot_minutes=settings.counter_slot_minutes)
        self.counters = self.journal.counters
        self.cursors = SyncCursors(conn)
        self.enrolment = Enrolment(conn)
        self.state = UnitState(conn)
        self.sales = SalesJournal(conn)
        self.blocks = Blocks(conn)
        self.block_sales = BlockSales(conn)
        self.unit_key = UnitKey(conn)

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str],
        settings: StoreSettings = DEFAULT_SETTINGS,
        migrations: Sequence[Migration] = MIGRATIONS,
    ) -> UnitStore:
        """Open the store at ``path`` on a connection of its own (see :func:`open_connection`)."""
        return cls(open_connection(path, settings, migrations), settings)

    @property
    def path(self) -> Path:
        """The store file."""
        return self.connection.store_path

    @contextmanager
    def transaction(self) -> Iterator[UnitStore]:
        """One atomic, durable write across parts: every call inside commits together or not."""
        with write_transaction(self.connection):
            yield self

    def check_integrity(self) -> None:
        """Read every page and raise StoreCorrupt if any is damaged (slow on a large cache)."""
        check_integrity(self.connection)

    def checkpoint(self) -> tuple[int, int]:
        """Copy the log into the main file (see ``offline_store.connection.checkpoint``)."""
        return checkpoint(self.connection)

    def close(self) -> None:
        """Close the connection; the last one to close checkpoints and removes the log."""
        self.connection.close()

    def __enter__(self) -> UnitStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
