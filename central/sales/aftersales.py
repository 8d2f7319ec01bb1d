"""After the sale: refund (退票) and change (改签) of issued tickets.

A refund charges the fee of the schedule and gives the seat back; the money
goes back the way it came (the order's payment method and acquirer). A
change takes the new place and releases the old one in one transaction: if
the new journey cannot be had, nothing changes. When the new ticket is
cheaper the difference is refunded less the refund fee on that difference
(China Railway practice); when dearer the passenger pays the difference.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from central.inventory.engine import Placement
from central.sales import feed
from central.sales.context import SalesContext
from central.sales.holders import check_holders
from central.sales.orders import STATIONLESS_CHANNELS, OrderError, sign_ticket
from central.sales.tickets import Holder, Sale, release_ticket, ticket_row, ticket_view
from central.store import tables as t
from central.store.runs import LoadedRun, bump_version, write_seats, write_standing
from protocol.errors import ErrorCode
from protocol.ids import new_ticket_id
from protocol.messages import ChangeRequest, ChangeResponse, RefundResponse


def refund(conn: Connection, ctx: SalesContext, ticket_id: str) -> RefundResponse:
    """Refund an issued ticket: fee by the schedule, seat back to the inventory."""
    now = ctx.now()
    ticket = issued_ticket(conn, ticket_id)
    fee = ctx.refunds.fee_fen(ticket.price_fen, ticket.departs_at, now)
    run = ctx.cache.for_write(conn, ticket.run_id)
    refund_fen = ticket.price_fen - fee
    release_ticket(conn, run, ticket, "refunded", now, fee_fen=fee, refund_fen=refund_fen)
    feed.record_revoked(conn, run, ticket, "refunded", now)
    order = conn.execute(select(t.orders).where(t.orders.c.order_id == ticket.order_id)).one()
    return RefundResponse(
        ticket_id=ticket_id,
        fee_fen=fee,
        refund_fen=refund_fen,
        status="refunded",
        method=order.payment_method,
        acquirer=order.acquirer,
    )


def change(
    conn: Connection, ctx: SalesContext, ticket_id: str, req: ChangeRequest
) -> ChangeResponse:
    """Swap an issued ticket for another journey atomically."""
    now = ctx.now()
    old = _changeable(conn, ctx, ticket_id, req.id_number, now)
    new_run, placement = _new_place(conn, ctx, old, req, now)
    price = new_run.info.price_fen(req.seat_class, placement.board, placement.dest)
    difference = price - old.price_fen
    fee = ctx.refunds.fee_fen(-difference, old.departs_at, now) if difference < 0 else 0
    new = _issue_replacement(conn, ctx, new_run, old, placement, price, req.id_number)
    old_run = ctx.cache.for_write(conn, old.run_id)
    release_ticket(conn, old_run, old, "changed", now, replaced_by=new.ticket_id, fee_fen=fee)
    feed.record_revoked(conn, old_run, old, "changed", now)
    return ChangeResponse(
        old_ticket_id=ticket_id,
        ticket=ticket_view(new_run.info, new),
        price_difference_fen=difference,
        fee_fen=fee,
    )


def _changeable(
    conn: Connection, ctx: SalesContext, ticket_id: str, id_number: str, now: datetime
) -> Any:
    """The issued ticket to change, once its holder is proven and its train not gone."""
    old = issued_ticket(conn, ticket_id)
    if ctx.keys.holder_key(id_number) != old.id_key:
        raise OrderError(f"ID number does not match ticket {ticket_id}", ErrorCode.HOLDER_MISMATCH)
    if now >= old.departs_at:
        raise OrderError(
            f"ticket {ticket_id} has departed; it cannot be changed", ErrorCode.TOO_LATE
        )
    return old


def _new_place(
    conn: Connection, ctx: SalesContext, old: Any, req: ChangeRequest, now: datetime
) -> tuple[LoadedRun, Placement]:
    """Take the new journey's place (the old one is still held: no overlap in between)."""
    run = ctx.cache.for_write(conn, ctx.cache.run_id(conn, req.train, req.date))
    a, b = run.info.journey(req.from_station, req.to_station)
    if now >= run.info.departs(a):
        raise OrderError(f"train {req.train} has left {req.from_station}", ErrorCode.TOO_LATE)
    departs, arrives = run.info.departs(a), run.info.arrives(b)
    check_holders(conn, [old.id_key], departs, arrives, except_ticket=old.ticket_id)
    seller = None if old.channel in STATIONLESS_CHANNELS else old.station
    placement = run.inventory.allocate(req.seat_class, a, b, 1, seller)[0]
    bump_version(conn, run)
    if placement.seat is None:
        write_standing(conn, run, placement.seat_class)
    else:
        write_seats(conn, run, [placement.seat])
    return run, placement


def _issue_replacement(
    conn: Connection,
    ctx: SalesContext,
    run: LoadedRun,
    old: Any,
    placement: Placement,
    price: int,
    id_number: str,
) -> Any:
    """Insert, sign and publish the new ticket; returns its row."""
    now = ctx.now()
    new_id = new_ticket_id()
    times = (run.info.departs(placement.board), run.info.arrives(placement.dest), now)
    tag = ctx.keys.holder_tag(id_number)
    holder = Holder(old.passenger_name, old.id_masked, old.id_key, id_number, tag)
    sale = Sale(old.order_id, old.channel, old.station)
    row = ticket_row(new_id, run.run_id, placement, holder, sale, price, times)
    conn.execute(insert(t.tickets).values({**row, "status": "issued", "issued_at": now}))
    token = sign_ticket(ctx, run, find_ticket(conn, new_id))
    conn.execute(t.tickets.update().where(t.tickets.c.ticket_id == new_id).values(token=token))
    new = find_ticket(conn, new_id)
    feed.record_issued(conn, run, new, token, now)
    return new


def issued_ticket(conn: Connection, ticket_id: str) -> Any:
    """An issued ticket's row, or ``unknown_ticket`` / ``ticket_not_issued``."""
    ticket = find_ticket(conn, ticket_id)
    if ticket.status != "issued":
        raise OrderError(
            f"ticket {ticket_id} is {ticket.status}, not issued", ErrorCode.TICKET_NOT_ISSUED
        )
    return ticket


def find_ticket(conn: Connection, ticket_id: str) -> Any:
    """A ticket row by id, or ``unknown_ticket``."""
    row = conn.execute(select(t.tickets).where(t.tickets.c.ticket_id == ticket_id)).first()
    if row is None:
        raise OrderError(f"no ticket {ticket_id}", ErrorCode.UNKNOWN_TICKET)
    return row
