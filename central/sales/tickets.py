"""Tickets: how they are shown, and how a ticket gives its place back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, update

from central.inventory.engine import Placement
from central.store import tables as t
from central.store.runs import LoadedRun, bump_version, write_seats, write_standing
from central.timetable import RunInfo
from protocol.messages import TicketView
from protocol.token import passenger_hash


@dataclass(frozen=True)
class Holder:
    """The passenger a ticket is for: shown name, masked ID, the real-name key.

    ``id_number`` is used only to bind the token to its holder; it is not stored.
    """

    name: str
    id_masked: str
    id_key: str
    id_number: str
    tag: str  # what gates find the holder's tickets by (``protocol.units.holder_tag``)


@dataclass(frozen=True)
class Sale:
    """The order a ticket belongs to and where it was sold."""

    order_id: str
    channel: str
    station: str | None


def ticket_row(
    ticket_id: str,
    run_id: int,
    placement: Placement,
    holder: Holder,
    sale: Sale,
    price: int,
    times: tuple[datetime, datetime, datetime],
) -> dict[str, Any]:
    """A new ticket row (status held): its place, holder, sale and journey times."""
    departs, arrives, now = times
    return {
        "ticket_id": ticket_id,
        "order_id": sale.order_id,
        "run_id": run_id,
        "seat_class": str(placement.seat_class),
        "board": placement.board,
        "dest": placement.dest,
        "seat_no": placement.seat,
        "coach": placement.coach,
        "number": placement.number,
        "quota_id": placement.quota_id,
        "fit": None if placement.fit is None else "-".join(placement.fit),  # why this seat
        "is_remote": placement.is_remote,
        "passenger_name": holder.name,
        "id_masked": holder.id_masked,
        "id_key": holder.id_key,
        "name_hash": passenger_hash(ticket_id, holder.name).hex(),
        "id_hash": passenger_hash(ticket_id, holder.id_number, is_id_number=True).hex(),
        "holder_tag": holder.tag,
        "price_fen": price,
        "status": "held",
        "departs_at": departs,
        "arrives_at": arrives,
        "channel": sale.channel,
        "station": sale.station,
        "created_at": now,
    }


def mask_id(id_number: str) -> str:
    """Keep the first four and last four characters of an ID number for display."""
    text = id_number.strip()
    if len(text) <= 8:
        return text[:2] + "*" * (len(text) - 2)
    return text[:4] + "*" * (len(text) - 8) + text[-4:]


def ticket_json(info: RunInfo, row: Any) -> dict[str, Any]:
    """A ticket row as the API shows it (``TicketView``), as plain JSON values.

    The hold's answer is sent as built here, without a model: every value
    comes from the store or the validated timetable (a test holds it equal
    to the model's own output).
    """
    return {
        "ticket_id": row.ticket_id,
        "passenger": row.passenger_name,
        "coach": row.coach,
        "seat": row.number,
        "price_fen": row.price_fen,
        "status": row.status,
        "token": row.token if row.status == "issued" else None,
        "train": info.spec.train,
        "date": info.spec.date,
        "from": info.codes[row.board],
        "to": info.codes[row.dest],
        "class": row.seat_class,
        "remote": bool(row.is_remote),
        "replaced_by": getattr(row, "replaced_by", None),  # a changed ticket's successor
    }


def ticket_view(info: RunInfo, row: Any) -> TicketView:
    """A ticket row as the API shows it."""
    return TicketView.model_validate(ticket_json(info, row))


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
        inventory.release_sale(ticket.seat_no, ticket.board, ticket.dest)
        bump_version(conn, run)
        write_seats(conn, run, [ticket.seat_no])
    conn.execute(
        update(t.tickets)
        .where(t.tickets.c.seq == ticket.seq)
        .values(status=status, closed_at=now, **values)
    )
