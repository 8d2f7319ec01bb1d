"""Tickets: how they are shown, and how a ticket gives its place back."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, select, update

from central.sales.holders import LIVE_STATUSES
from central.store import tables as t
from central.store.runs import LoadedRun, bump_version, write_seats, write_standing
from central.timetable import RunInfo
from protocol.messages import TicketView


def ticket_view(info: RunInfo, row: Any) -> TicketView:
    """A ticket row as the API shows it."""
    return TicketView(
        ticket_id=row.ticket_id,
        passenger=row.passenger_name,
        coach=row.coach,
        seat=row.number,
        price_fen=row.price_fen,
        status=row.status,
        token=row.token if row.status == "issued" else None,
        train=info.spec.train,
        date=info.spec.date,
        from_station=info.codes[row.board],
        to_station=info.codes[row.dest],
        seat_class=row.seat_class,
        remote=row.is_remote,
    )


def release_ticket(
    conn: Connection, run: LoadedRun, ticket: Any, status: str, now: datetime, **values: Any
) -> None:
    """Close a live ticket with ``status`` and give its seat or standing place back."""
    inventory = run.inventory
    if ticket.seat_no is None:
        inventory.release_standing(ticket.seat_class, ticket.board, ticket.dest)
        bump_version(conn, run)
        write_standing(conn, run, ticket.seat_class)
    else:
        inventory.release_seat(ticket.seat_no, _other_sales(conn, ticket))
        bump_version(conn, run)
        write_seats(conn, run, [ticket.seat_no])
    conn.execute(
        update(t.tickets)
        .where(t.tickets.c.seq == ticket.seq)
        .values(status=status, closed_at=now, **values)
    )


def _other_sales(conn: Connection, ticket: Any) -> list[tuple[int, int]]:
    """The seat's other live sales, in sale order, for the reuse replay."""
    rows = conn.execute(
        select(t.tickets.c.board, t.tickets.c.dest)
        .where(
            and_(
                t.tickets.c.run_id == ticket.run_id,
                t.tickets.c.seat_no == ticket.seat_no,
                t.tickets.c.status.in_(LIVE_STATUSES),
                t.tickets.c.seq != ticket.seq,
            )
        )
        .order_by(t.tickets.c.seq)
    )
    return [(int(r.board), int(r.dest)) for r in rows]
