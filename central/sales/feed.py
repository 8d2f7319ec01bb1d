"""The events gates sync from: every ticket issued, refunded or changed, in order.

Every issue, refund and change appends an event in the same transaction as
the sale, with an increasing id; a gate asks for its station's events after
the last id it holds (``central.gates.feed``), so a sync is incremental,
restartable and never misses a revocation: a refunded or changed ticket
stops opening gates after the next sync of an offline gate. An issued
ticket's event carries the gate group its train checks in at where it boards
(the stop's ``gate_group`` in the timetable, or none), on both insert paths.

On PostgreSQL several processes may write at once, and a sequence hands out
ids at insert, not at commit: a gate could read event 12 before event 11
commits and move its cursor past it. Each appending transaction therefore
takes one transaction-scoped advisory lock first, so ids commit in order.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, text

from central.store import fastsql
from central.store import tables as t
from central.store.runs import LoadedRun

FEED_ORDER_LOCK = 0x5354_4B46  # 'STKF': the feed's advisory lock key on PostgreSQL
_TAKE_ORDER_LOCK = text("SELECT pg_advisory_xact_lock(:key)")


def _in_order(conn: Connection) -> None:
    """Take the feed's turn until commit (PostgreSQL; SQLite has one writer anyway)."""
    if conn.dialect.name == "postgresql":
        conn.execute(_TAKE_ORDER_LOCK, {"key": FEED_ORDER_LOCK})


def record_issued(conn: Connection, run: LoadedRun, ticket: Any, token: str, now: datetime) -> None:
    """A ticket was issued with ``token``; gates learn where its train checks in."""
    _append(
        conn,
        run,
        ticket,
        now,
        kind="issued",
        token=token,
        holder_tag=ticket.holder_tag,
        gate_group=run.info.gate_group(ticket.board),
    )


INSERT_ISSUED = fastsql.Statement(
    "INSERT INTO ticket_events (at, kind, ticket_id, run_id, board_station, dest_station,"
    " departs_at, arrives_at, token, holder_tag, gate_group) VALUES (:at, 'issued', :ticket_id,"
    " :run_id, :board_station, :dest_station, :departs_at, :arrives_at, :token, :holder_tag,"
    " :gate_group)"
)


def record_issued_many(
    conn: Connection, run: LoadedRun, tickets: Sequence[Any], now: datetime
) -> None:
    """Tickets were issued, each with its ``token`` (the payment's path, hand-written SQL)."""
    at, codes = fastsql.db_time(conn, now), run.info.codes
    rows = [
        {
            "at": at,
            "ticket_id": ticket.ticket_id,
            "run_id": run.run_id,
            "board_station": codes[ticket.board],
            "dest_station": codes[ticket.dest],
            "departs_at": fastsql.db_time(conn, ticket.departs_at),
            "arrives_at": fastsql.db_time(conn, ticket.arrives_at),
            "token": ticket.token,
            "holder_tag": ticket.holder_tag,
            "gate_group": run.info.gate_group(ticket.board),
        }
        for ticket in tickets
    ]
    _in_order(conn)
    fastsql.run_many(conn, INSERT_ISSUED, rows)


def record_revoked(
    conn: Connection, run: LoadedRun, ticket: Any, reason: str, now: datetime
) -> None:
    """A ticket no longer admits: refunded or changed."""
    _append(conn, run, ticket, now, kind="revoked", reason=reason)


def _append(conn: Connection, run: LoadedRun, ticket: Any, now: datetime, **values: Any) -> None:
    _in_order(conn)
    conn.execute(
        insert(t.ticket_events).values(
            at=now,
            ticket_id=ticket.ticket_id,
            run_id=run.run_id,
            board_station=run.info.codes[ticket.board],
            dest_station=run.info.codes[ticket.dest],
            departs_at=ticket.departs_at,
            arrives_at=ticket.arrives_at,
            **values,
        )
    )
