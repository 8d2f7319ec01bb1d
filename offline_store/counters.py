"""Passage counters per direction, kind and time slot: the flow figures the operator watches.

Each journaled passage adds one to the count of its slot (``slot_minutes``
long, aligned to UTC midnight; the slot of central's time when known, else
the unit's), in the same transaction as its journal row, so counts and
journal never disagree after a crash. A slot is uploaded as an absolute count,
which central can store as often as it is sent: a slot stays pending while
its count differs from the count central last acknowledged, and marking an
acknowledgement twice changes nothing. The slot length is kept in each row's
key, so changing the setting never merges slots of different lengths.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from offline_store.columns import check_limit, from_seconds, to_seconds
from offline_store.connection import StoreConnection, query, write_transaction
from offline_store.passages import Direction, NewPassage, PassageKind

DEFAULT_SLOT_MINUTES = 15
MAX_SLOT_MINUTES = 1440
DEFAULT_PAGE = 100

COUNT_SQL = """
INSERT INTO passage_counts (slot_start, slot_seconds, direction, kind, count)
VALUES (?, ?, ?, ?, 1)
ON CONFLICT (slot_start, slot_seconds, direction, kind) DO UPDATE SET count = count + 1"""
_COLUMNS = "slot_start, slot_seconds, direction, kind, count, uploaded_count"
# without INDEXED BY the planner walks the whole table in key order instead
PENDING_COUNTS_SQL = f"""
SELECT {_COLUMNS} FROM passage_counts INDEXED BY passage_counts_pending
WHERE count != uploaded_count ORDER BY slot_start LIMIT ?"""
COUNTS_BETWEEN_SQL = f"""
SELECT {_COLUMNS} FROM passage_counts WHERE slot_start >= ? AND slot_start < ?
ORDER BY slot_start, direction, kind"""
MARK_COUNT_SQL = """
UPDATE passage_counts SET uploaded_count = ?
WHERE slot_start = ? AND slot_seconds = ? AND direction = ? AND kind = ? AND uploaded_count < ?"""


@dataclass(frozen=True, slots=True)
class SlotCount:
    """How many passages of one kind went one way in one slot, and what central has of it."""

    slot_start: dt.datetime
    slot_minutes: int
    direction: Direction
    kind: PassageKind
    count: int
    uploaded_count: int = 0

    @property
    def is_pending(self) -> bool:
        """True while central has not acknowledged this count."""
        return self.count != self.uploaded_count

    def key(self) -> tuple[int, int, str, str]:
        """The row's key columns."""
        return (
            to_seconds("slot_start", self.slot_start),
            self.slot_minutes * 60,
            Direction(self.direction).value,
            PassageKind(self.kind).value,
        )


def check_slot_minutes(value: int) -> int:
    """A slot length of 1..1440 minutes that divides the day evenly."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_SLOT_MINUTES:
        raise ValueError(f"slot_minutes must be 1..{MAX_SLOT_MINUTES}, got {value!r}")
    if MAX_SLOT_MINUTES % value:
        raise ValueError(f"slot_minutes must divide a day evenly, got {value}")
    return value


class PassageCounters:
    """The per-slot passage counts, on one connection."""

    def __init__(self, conn: StoreConnection, *, slot_minutes: int = DEFAULT_SLOT_MINUTES) -> None:
        self._conn = conn
        self.slot_minutes = check_slot_minutes(slot_minutes)

    def add(self, passage: NewPassage) -> None:
        """Count ``passage`` in its slot; joins the caller's transaction (the journal's)."""
        slot_seconds = self.slot_minutes * 60
        at = to_seconds("counted_time", passage.counted_time)
        row = (at - at % slot_seconds, slot_seconds, passage.direction.value, passage.kind.value)
        with write_transaction(self._conn) as conn:
            conn.execute(COUNT_SQL, row)

    def pending(self, limit: int = DEFAULT_PAGE) -> list[SlotCount]:
        """Slots whose count central has not acknowledged, oldest first, at most ``limit``."""
        return query(self._conn, PENDING_COUNTS_SQL, (check_limit(limit),), _slot_count)

    def between(self, start: dt.datetime, end: dt.datetime) -> list[SlotCount]:
        """Every slot starting in ``[start, end)``, for reports and the maintenance menu."""
        bounds = (to_seconds("start", start), to_seconds("end", end))
        return query(self._conn, COUNTS_BETWEEN_SQL, bounds, _slot_count)

    def mark_uploaded(self, sent: Iterable[SlotCount]) -> int:
        """Record that central holds each slot at the count sent; returns how many rows moved.

        Idempotent: a count is only ever raised, so marking twice (or an older
        answer arriving late) changes nothing.
        """
        rows = [(count.count, *count.key(), count.count) for count in sent]
        with write_transaction(self._conn) as conn:
            return sum(conn.execute(MARK_COUNT_SQL, row).rowcount for row in rows)


def _slot_count(row: Sequence[Any]) -> SlotCount:
    """A SlotCount from one row."""
    slot_start, slot_seconds, direction, kind, count, uploaded = row
    return SlotCount(
        from_seconds(slot_start),
        slot_seconds // 60,
        Direction(direction),
        PassageKind(kind),
        count,
        uploaded,
    )
