"""The ticket cache and the revocations, stored: upsert in batches, look up by index, purge.

Tickets are keyed by their 8-byte id, which is the table's row id, so a
lookup is one B-tree descent; they are indexed by holder tag (several
tickets may share one; the index covers only tagged tickets) and by arrival
time (for purging). A feed page of thousands of tickets is upserted in one
transaction; replaying a page changes nothing, and an older feed event never
overwrites a newer one. Revocations live in their own table with no link to
the ticket, so a revocation that arrives before its ticket, or after it,
marks it revoked either way; every ticket lookup returns the two together.
No query here scans: each runs on an index whatever the cache's size (the
tests hold SQLite's query plans to that), except :meth:`TicketCache.count`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from offline_store.columns import (
    check_limit,
    from_day,
    from_seconds,
    ticket_id_of,
    ticket_key,
    to_day,
    to_seconds,
)
from offline_store.connection import StoreConnection, query, query_one, write_transaction
from offline_store.tickets import CachedTicket, Revocation, TicketRecord, check_holder_tag
from protocol.ids import SeatClass, StationCode, TrainNumber

DEFAULT_PURGE_LIMIT = 10_000
DEFAULT_HOLDER_LIMIT = 100

_TICKET_COLUMNS = (
    "ticket_id, event_id, train, service_day, from_station, to_station, departs_at,"
    " arrives_at, seat_class, coach, seat, key_id, holder_tag, token, gate_group"
)
UPSERT_TICKET_SQL = f"""
INSERT INTO tickets ({_TICKET_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (ticket_id) DO UPDATE SET
    event_id = excluded.event_id, train = excluded.train, service_day = excluded.service_day,
    from_station = excluded.from_station, to_station = excluded.to_station,
    departs_at = excluded.departs_at, arrives_at = excluded.arrives_at,
    seat_class = excluded.seat_class, coach = excluded.coach, seat = excluded.seat,
    key_id = excluded.key_id, holder_tag = excluded.holder_tag, token = excluded.token,
    gate_group = excluded.gate_group
WHERE excluded.event_id >= tickets.event_id"""
_SELECT_CACHED = """
SELECT t.ticket_id, t.event_id, t.train, t.service_day, t.from_station, t.to_station,
       t.departs_at, t.arrives_at, t.seat_class, t.coach, t.seat, t.holder_tag, t.token,
       t.gate_group, r.reason, r.revoked_at, r.arrives_at, r.event_id
FROM tickets AS t LEFT JOIN revocations AS r ON r.ticket_id = t.ticket_id"""
GET_TICKET_SQL = _SELECT_CACHED + " WHERE t.ticket_id = ?"
BY_HOLDER_SQL = _SELECT_CACHED + " WHERE t.holder_tag = ? ORDER BY t.departs_at LIMIT ?"
UPSERT_REVOCATION_SQL = """
INSERT INTO revocations (ticket_id, event_id, reason, revoked_at, arrives_at)
VALUES (?, ?, ?, ?, ?)
ON CONFLICT (ticket_id) DO UPDATE SET
    event_id = excluded.event_id, reason = excluded.reason,
    revoked_at = excluded.revoked_at, arrives_at = excluded.arrives_at
WHERE excluded.event_id >= revocations.event_id"""
GET_REVOCATION_SQL = """
SELECT ticket_id, reason, revoked_at, arrives_at, event_id FROM revocations WHERE ticket_id = ?"""
PURGE_SQL = """
DELETE FROM {table} WHERE ticket_id IN
    (SELECT ticket_id FROM {table} WHERE arrives_at / 86400 < ? LIMIT ?)"""
_DAY_ZERO = dt.date(1970, 1, 1)


class TicketCache:
    """The tickets the gate's station may see, on one connection."""

    def __init__(self, conn: StoreConnection) -> None:
        self._conn = conn

    def upsert(self, records: Iterable[TicketRecord]) -> int:
        """Insert or update ``records`` in one transaction; returns how many were given.

        A record whose feed event is older than the stored one is skipped.
        Inside an outer :func:`write_transaction` it joins that transaction.
        """
        rows = [_ticket_row(record) for record in records]
        with write_transaction(self._conn) as conn:
            conn.executemany(UPSERT_TICKET_SQL, rows)
        return len(rows)

    def get(self, ticket_id: str) -> CachedTicket | None:
        """The ticket with ``ticket_id`` and its revocation, or None if not cached."""
        return query_one(self._conn, GET_TICKET_SQL, (ticket_key(ticket_id),), _cached_from_row)

    def by_holder_tag(self, tag: bytes, limit: int = DEFAULT_HOLDER_LIMIT) -> list[CachedTicket]:
        """The tickets whose holder tag is ``tag``, earliest departure first, at most ``limit``."""
        args = (check_holder_tag(tag), check_limit(limit))
        return query(self._conn, BY_HOLDER_SQL, args, _cached_from_row)

    def purge_arrived_before(self, day: dt.date, limit: int = DEFAULT_PURGE_LIMIT) -> int:
        """Delete at most ``limit`` tickets that arrived before the UTC day ``day``.

        Returns how many went. Bounded so it never holds the write lock for
        long: call it again while it returns ``limit``. Whole days, because
        the arrival index is by day (see ``offline_store.schema``).
        """
        return _purge(self._conn, "tickets", day, limit)

    def count(self) -> int:
        """How many tickets are cached. Reads a whole index: for health pages, not decisions."""
        (count,) = query(self._conn, "SELECT count(*) FROM tickets", (), lambda row: int(row[0]))
        return count


class Revocations:
    """Withdrawn ticket ids, whether or not the ticket itself is cached."""

    def __init__(self, conn: StoreConnection) -> None:
        self._conn = conn

    def record(self, revocations: Iterable[Revocation]) -> int:
        """Store ``revocations`` in one transaction; returns how many were given."""
        rows = [_revocation_row(revocation) for revocation in revocations]
        with write_transaction(self._conn) as conn:
            conn.executemany(UPSERT_REVOCATION_SQL, rows)
        return len(rows)

    def get(self, ticket_id: str) -> Revocation | None:
        """The revocation of ``ticket_id``, or None if it stands."""
        args = (ticket_key(ticket_id),)
        return query_one(self._conn, GET_REVOCATION_SQL, args, lambda row: _revocation(*row))

    def purge_arrived_before(self, day: dt.date, limit: int = DEFAULT_PURGE_LIMIT) -> int:
        """Delete at most ``limit`` revocations of tickets that arrived before UTC day ``day``."""
        return _purge(self._conn, "revocations", day, limit)


def _purge(conn: StoreConnection, table: str, day: dt.date, limit: int) -> int:
    """One bounded delete by the arrival-day index of ``table``."""
    check_limit(limit)
    if isinstance(day, dt.datetime) or not isinstance(day, dt.date):
        raise ValueError(f"day must be a date, got {day!r}")
    with write_transaction(conn):
        cursor = conn.execute(PURGE_SQL.format(table=table), ((day - _DAY_ZERO).days, limit))
    return cursor.rowcount


def _ticket_row(record: TicketRecord) -> tuple[object, ...]:
    """The column values of ``record``, in ``_TICKET_COLUMNS`` order."""
    if not isinstance(record, TicketRecord):
        raise ValueError(f"expected a TicketRecord, got {type(record).__name__}")
    return (
        ticket_key(record.ticket_id), record.event_id, record.train,
        to_day("service_date", record.service_date), record.from_station, record.to_station,
        to_seconds("departs_at", record.departs_at), to_seconds("arrives_at", record.arrives_at),
        record.seat_class.value, record.coach, record.seat, record.key_id, record.holder_tag,
        record.token, record.gate_group,
    )  # fmt: skip


def _revocation_row(revocation: Revocation) -> tuple[object, ...]:
    """The column values of ``revocation``."""
    if not isinstance(revocation, Revocation):
        raise ValueError(f"expected a Revocation, got {type(revocation).__name__}")
    return (
        ticket_key(revocation.ticket_id), revocation.event_id, revocation.reason,
        to_seconds("revoked_at", revocation.revoked_at),
        to_seconds("arrives_at", revocation.arrives_at),
    )  # fmt: skip


def _cached_from_row(row: Sequence[Any]) -> CachedTicket:
    """A CachedTicket from one row of ``_SELECT_CACHED``."""
    (key, event_id, train, day, origin, destination, departs, arrives, seat_class, coach, seat,
     tag, token, group, reason, revoked_at, revoked_arrives, revoked_event) = row  # fmt: skip
    record = TicketRecord(
        ticket_id=ticket_id_of(key), train=TrainNumber(train), service_date=from_day(day),
        from_station=StationCode(origin), to_station=StationCode(destination),
        departs_at=from_seconds(departs), arrives_at=from_seconds(arrives),
        seat_class=SeatClass(seat_class), coach=coach, seat=seat, token=token,
        event_id=event_id, holder_tag=tag, gate_group=group,
    )  # fmt: skip
    if reason is None:
        return CachedTicket(record, None)
    return CachedTicket(
        record, _revocation(key, reason, revoked_at, revoked_arrives, revoked_event)
    )


def _revocation(key: int, reason: str, revoked_at: int, arrives_at: int, event: int) -> Revocation:
    """A Revocation from its column values."""
    return Revocation(
        ticket_id_of(key), reason, from_seconds(revoked_at), from_seconds(arrives_at), event
    )
