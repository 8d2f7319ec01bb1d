"""The station ticket feed that gates sync: issued tokens and revocations, in order.

Every issue, refund and change appends an event in the same transaction as
the sale, with an increasing id. A gate asks for the events of its station
(boarding or alighting there) after the last id it holds, so a sync is
incremental, restartable and never misses a revocation: a refunded or
changed ticket stops opening gates after the next sync of an offline gate.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, or_, select

from central.store import fastsql
from central.store import tables as t
from central.store.runs import LoadedRun

MAX_PAGE = 5000


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


def station_feed(conn: Connection, station: str, since: int, limit: int) -> dict[str, Any]:
    """Events of a station after event id ``since``, oldest first, at most ``limit``."""
    limit = max(1, min(limit, MAX_PAGE))
    events = t.ticket_events.c
    rows = conn.execute(
        select(t.ticket_events, t.train_runs.c.train, t.train_runs.c.service_date)
        .select_from(t.ticket_events.join(t.train_runs, events.run_id == t.train_runs.c.run_id))
        .where(events.event_id > since)
        .where(or_(events.board_station == station, events.dest_station == station))
        .order_by(events.event_id)
        .limit(limit + 1)
    ).all()
    page = rows[:limit]
    return {
        "station": station,
        "cursor": page[-1].event_id if page else since,
        "more": len(rows) > limit,
        "events": [_event_view(row) for row in page],
    }


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


def _event_view(row: Any) -> dict[str, Any]:
    view = {
        "event_id": row.event_id,
        "kind": row.kind,
        "ticket_id": row.ticket_id,
        "train": row.train,
        "date": row.service_date,
        "from": row.board_station,
        "to": row.dest_station,
        "departs_at": row.departs_at.isoformat(),
        "arrives_at": row.arrives_at.isoformat(),
        "at": row.at.isoformat(),
    }
    if row.kind == "issued":
        view["token"] = row.token
    else:
        view["reason"] = row.reason
    return view
