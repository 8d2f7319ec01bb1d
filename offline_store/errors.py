"""The offline store's errors, one tree with stable codes.

Every failure the store reports on purpose is a ``StoreError`` carrying a
``StoreErrorCode`` and the path of the store file, so the unit can decide what
to do (rebuild the cache, go out of service, call a technician) and its logs
say which file. SQLite's own exceptions never leave the package: a corrupt
page met by a lookup surfaces as ``StoreCorrupt`` naming the file, not as a
traceback from deep inside ``sqlite3``. Bad arguments (a malformed ticket id,
a naive datetime) are ``ValueError``, as elsewhere in the project.
"""

from __future__ import annotations

import sqlite3
from enum import StrEnum
from pathlib import Path


class StoreErrorCode(StrEnum):
    """Why the store could not do what was asked; never renamed once shipped."""

    NOT_SQLITE = "store_not_sqlite"  # the file is something else entirely
    FOREIGN = "store_foreign"  # an SQLite file, but not a unit store
    CORRUPT = "store_corrupt"  # damaged or truncated
    TOO_NEW = "store_too_new"  # written by newer code (a higher schema version)
    MIGRATION = "store_migration_failed"  # a schema step failed; the file kept its version
    UNOPENABLE = "store_unopenable"  # missing directory, no permission, a directory
    BUSY = "store_busy"  # another connection held the write lock past the busy timeout
    FULL = "store_full"  # the disk (SD card) is full
    IO = "store_io"  # the operating system failed a read or write


class StoreError(Exception):
    """Base of every store failure; ``code`` says which kind, ``path`` which file."""

    code: StoreErrorCode = StoreErrorCode.IO

    def __init__(self, path: Path, message: str, code: StoreErrorCode | None = None) -> None:
        super().__init__(f"{path}: {message}")
        if code is not None:
            self.code = code
        self.path = path
        self.message = message


class StoreNotSqlite(StoreError):
    """The file is not an SQLite database at all."""

    code = StoreErrorCode.NOT_SQLITE


class StoreForeign(StoreError):
    """The file is an SQLite database of some other program."""

    code = StoreErrorCode.FOREIGN


class StoreCorrupt(StoreError):
    """The file is damaged: truncated, or a page SQLite cannot read."""

    code = StoreErrorCode.CORRUPT


class StoreTooNew(StoreError):
    """The file's schema is newer than this code knows; it is left untouched."""

    code = StoreErrorCode.TOO_NEW

    def __init__(self, path: Path, found: int, known: int) -> None:
        super().__init__(
            path,
            f"store schema version {found} is newer than this code's version {known}; "
            "run newer code or move the file aside",
        )
        self.found = found
        self.known = known


class MigrationFailed(StoreError):
    """A schema step raised; its transaction was rolled back and the file keeps its version."""

    code = StoreErrorCode.MIGRATION


class StoreUnopenable(StoreError, OSError):
    """The file cannot be opened or created (directory missing, permissions)."""

    code = StoreErrorCode.UNOPENABLE


class StoreBusy(StoreError, TimeoutError):
    """The write lock stayed taken longer than the busy timeout."""

    code = StoreErrorCode.BUSY


class StoreFull(StoreError, OSError):
    """The disk is full; the transaction was rolled back."""

    code = StoreErrorCode.FULL


# SQLite's primary result codes (the low byte of an extended code).
_SQLITE_BUSY = 5
_SQLITE_LOCKED = 6
_SQLITE_IOERR = 10
_SQLITE_CORRUPT = 11
_SQLITE_FULL = 13
_SQLITE_CANTOPEN = 14
_SQLITE_NOTADB = 26

_BY_SQLITE_CODE: dict[int, type[StoreError]] = {
    _SQLITE_BUSY: StoreBusy,
    _SQLITE_LOCKED: StoreBusy,
    _SQLITE_CORRUPT: StoreCorrupt,
    _SQLITE_NOTADB: StoreNotSqlite,
    _SQLITE_FULL: StoreFull,
    _SQLITE_CANTOPEN: StoreUnopenable,
}


def is_store_failure(exc: sqlite3.Error) -> bool:
    """True when ``exc`` is the file's or the system's fault, not a mistake in our SQL.

    A constraint violation or a syntax error is a bug to surface as is; a
    corrupt page, a full disk or a lock timeout is the store's condition.
    """
    code = getattr(exc, "sqlite_errorcode", None)
    return code is not None and (code & 0xFF) in (*_BY_SQLITE_CODE, _SQLITE_IOERR)


def store_error_from(path: Path, exc: sqlite3.Error) -> StoreError:
    """The ``StoreError`` that says what SQLite's ``exc`` means for the file at ``path``."""
    code = getattr(exc, "sqlite_errorcode", _SQLITE_IOERR) & 0xFF
    kind = _BY_SQLITE_CODE.get(code, StoreError)
    return kind(path, f"{_ADVICE.get(kind, 'SQLite failed')}: {exc}")


_ADVICE: dict[type[StoreError], str] = {
    StoreBusy: "the store stayed locked by another connection",
    StoreCorrupt: "the store file is damaged",
    StoreNotSqlite: "the file is not an SQLite database",
    StoreFull: "the disk is full",
    StoreUnopenable: "the store file cannot be opened",
}
