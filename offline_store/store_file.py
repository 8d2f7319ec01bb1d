"""The store file itself: created private, and looked at before SQLite opens it.

A new store is created with mode 0600 before SQLite touches it, because it
will hold the unit's bearer credential (SQLite gives its ``-wal`` and
``-shm`` files the same mode). An existing file's 100-byte header is read
first, so a file that is not SQLite, or one cut short by a bad SD card or an
interrupted copy, is refused at open with an error naming the file instead
of failing later inside a lookup. The truncation check needs the header's
page count to be current, which it is whenever the write-ahead log is empty
(after a clean close, the usual state of a copied or restored file); with a
log still holding frames the check is left to SQLite.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

from offline_store.errors import StoreCorrupt, StoreNotSqlite, StoreUnopenable

SQLITE_MAGIC = b"SQLite format 3\x00"
HEADER_BYTES = 100
WAL_HEADER_BYTES = 32
PRIVATE_MODE = 0o600
_MIN_PAGE_SIZE = 512
_MAX_PAGE_SIZE = 65536
_FILE_FORMATS = (1, 2)  # legacy (rollback journal) and write-ahead log


def create_private(path: Path) -> bool:
    """Create an empty file at ``path`` readable by its owner only; False if it exists."""
    try:
        descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, PRIVATE_MODE)
    except FileExistsError:
        return False
    except OSError as exc:
        raise StoreUnopenable(path, f"cannot create the store file: {exc.strerror}") from None
    os.close(descriptor)
    _sync_directory(path.parent)  # else a power cut could forget the file, keeping its log
    return True


def _sync_directory(directory: Path) -> None:
    """fsync a directory, so the names just created in it survive a power cut."""
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def check_header(path: Path) -> None:
    """Refuse a file that is not SQLite, or whose header shows it was cut short.

    An empty file passes: it is what a crash between creating the file and
    writing its schema leaves, and SQLite treats it as a new database.
    """
    header, size = _read_header(path)
    if not header:
        return
    if not header.startswith(SQLITE_MAGIC[: len(header)]):
        raise StoreNotSqlite(path, "the file is not an SQLite database (wrong header)")
    if len(header) < HEADER_BYTES:
        raise StoreCorrupt(path, f"the store file is truncated: {size} bytes, not even a header")
    page_size = _page_size(path, header)
    if header[18] not in _FILE_FORMATS or header[19] not in _FILE_FORMATS:
        raise StoreCorrupt(path, "the store file's header is damaged (file format bytes)")
    if size % page_size:
        raise StoreCorrupt(path, f"the store file is truncated: {size} bytes is not whole pages")
    if _log_is_empty(path):
        _check_page_count(path, header, size, page_size)


def _read_header(path: Path) -> tuple[bytes, int]:
    """The first 100 bytes of the file and its size."""
    try:
        with path.open("rb") as file:
            return file.read(HEADER_BYTES), os.fstat(file.fileno()).st_size
    except OSError as exc:
        raise StoreUnopenable(path, f"cannot read the store file: {exc.strerror}") from None


def _page_size(path: Path, header: bytes) -> int:
    """The page size the header declares (1 stands for 65536)."""
    (raw,) = struct.unpack_from(">H", header, 16)
    size = _MAX_PAGE_SIZE if raw == 1 else raw
    if size < _MIN_PAGE_SIZE or size & (size - 1):
        raise StoreCorrupt(path, f"the store file's header is damaged (page size {raw})")
    return size


def _log_is_empty(path: Path) -> bool:
    """True when no write-ahead log holds frames, so the main file must hold every page."""
    log = path.with_name(path.name + "-wal")
    try:
        return log.stat().st_size <= WAL_HEADER_BYTES
    except FileNotFoundError:
        return True


def _check_page_count(path: Path, header: bytes, size: int, page_size: int) -> None:
    """Refuse a file shorter than the page count its header records."""
    (change_counter,) = struct.unpack_from(">I", header, 24)
    (page_count,) = struct.unpack_from(">I", header, 28)
    (valid_for,) = struct.unpack_from(">I", header, 92)
    # SQLite trusts the header's count only when it was written with the counter
    if valid_for != change_counter or page_count == 0:
        return
    expected = page_count * page_size
    if size < expected:
        raise StoreCorrupt(
            path, f"the store file is truncated: {size} bytes of the {expected} its header records"
        )
