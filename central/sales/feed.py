"""The events gates sync from: every ticket issued, refunded or changed, in order.

Every issue, refund and change appends an event in the same transaction as
the sale, with an increasing id; a gate asks for its station's events after
the last id it holds (``central.gates.feed``), so a sync is incremental,
restartable and never misses a revocation: a refunded or changed ticket
stops opening gates after the next sync of an offline gate.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert

from central.store import fastsql
from central.store import tables as t
from central.store.runs import LoadedRun


def record_issued(conn: Connection, run: LoadedRun, ticket: Any, token: str, now: datetime) -> None:
    """A ticket was issued with ``token``."""
    _append(conn, run, ticket, now, kind="issued", token=token, holder_tag=ticket.holder_tag)


INSERT_ISSUED = fastsql.Statement(
    "INSERT INTO ticket_events (at, kind, ticket_id, run_id, board_station, dest_station,"
    " departs_at, arrives_at, token, holder_tag) VALUES (:at, 'issued', :ticket_id, :run_id,"
    " :board_station, :dest_station, :departs_at, :arrives_at, :token, :holder_tag)"
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
        }
        for ticket in tickets
    ]
    fastsql.run_many(conn, INSERT_ISSUED, rows)


def record_revoked(
    conn: Connection, run: LoadedRun, ticket: Any, reason: str, now: datetime
) -> None:
    """A ticket no longer admits: refunded or changed."""
    _append(conn, run, ticket, now, kind="revoked", reason=reason)


def _append(conn: Connection, run: LoadedRun, ticket: Any, now: datetime, **values: Any) -> None:
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
