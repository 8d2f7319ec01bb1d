"""A unit's durable local state in one SQLite file: tickets, keys, journal, cursors, identity.

Open it with :meth:`UnitStore.open` (or :func:`open_connection` and the part
classes, each of which takes a connection). See ``docs/offline-store.md``.
"""

from offline_store.connection import StoreConnection, StoreSettings, write_transaction
from offline_store.counters import PassageCounters, SlotCount
from offline_store.errors import (
    MigrationFailed,
    StoreBusy,
    StoreCorrupt,
    StoreError,
    StoreErrorCode,
    StoreForeign,
    StoreFull,
    StoreNotSqlite,
    StoreTooNew,
    StoreUnopenable,
)
from offline_store.journal import PassageJournal
from offline_store.key_store import HolderTagKey, VerificationKeys
from offline_store.migrations import Migration
from offline_store.passages import (
    Direction,
    NewPassage,
    Passage,
    PassageKind,
    UnitMode,
    UploadAnswer,
    UploadState,
)
from offline_store.schema import MIGRATIONS
from offline_store.store import UnitStore, open_connection
from offline_store.ticket_cache import Revocations, TicketCache
from offline_store.tickets import CachedTicket, Revocation, TicketRecord
from offline_store.unit_state import DeviceIdentity, Enrolment, SyncCursors, UnitState

__all__ = [
    "MIGRATIONS",
    "CachedTicket",
    "DeviceIdentity",
    "Direction",
    "Enrolment",
    "HolderTagKey",
    "Migration",
    "MigrationFailed",
    "NewPassage",
    "Passage",
    "PassageCounters",
    "PassageJournal",
    "PassageKind",
    "Revocation",
    "Revocations",
    "SlotCount",
    "StoreBusy",
    "StoreConnection",
    "StoreCorrupt",
    "StoreError",
    "StoreErrorCode",
    "StoreForeign",
    "StoreFull",
    "StoreNotSqlite",
    "StoreSettings",
    "StoreTooNew",
    "StoreUnopenable",
    "SyncCursors",
    "TicketCache",
    "TicketRecord",
    "UnitMode",
    "UnitState",
    "UnitStore",
    "UploadAnswer",
    "UploadState",
    "VerificationKeys",
    "open_connection",
    "write_transaction",
]
