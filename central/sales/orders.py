"""Orders: hold seats, pay and issue signed tickets, cancel, expire.

Each function is one writer command: it runs inside the writer's transaction
with the train run locked, checks everything before it changes anything, and
then changes the inventory and the rows together. A held order keeps its
seats until ``expires_at``; paying after that is refused and the seats go
back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any, NamedTuple

from sqlalchemy import Connection, and_, select, update

from central.inventory.engine import Placement
from central.sales import feed
from central.sales.context import SalesContext
from central.sales.holders import check_holders
from central.sales.tickets import (
    Holder,
    Sale,
    mask_id,
    release_ticket,
    ticket_json,
    ticket_row,
    ticket_view,
)
from central.store import fastsql
from central.store import tables as t
from central.store.runs import LoadedRun, bump_version, write_seats, write_standing
from central.timetable import RunInfo
from protocol.errors import ErrorCode, StationKitError
from protocol.ids import new_order_id, new_ticket_id
from protocol.messages import OrderRequest, OrderView, PaymentRequest, PaymentView
from protocol.token import TicketClaims, encode_token

STATIONLESS_CHANNELS = frozenset({"phone", "internet", "sms"})
TIME_COLUMNS = ("departs_at", "arrives_at", "created_at")
INSERT_ORDER = fastsql.Statement(
    "INSERT INTO orders (order_id, run_id, status, channel, station, created_at, expires_at,"
    " total_fen) VALUES (:order_id, :run_id, :status, :channel, :station, :created_at,"
    " :expires_at, :total_fen)"
)
TICKET_COLUMNS = (
    "ticket_id",
    "order_id",
    "run_id",
    "seat_class",
    "board",
    "dest",
    "seat_no",
    "coach",
    "number",
    "quota_id",
    "fit",
    "is_remote",
    "passenger_name",
    "id_masked",
    "id_key",
    "name_hash",
    "id_hash",
    "holder_tag",
    "price_fen",
    "status",
    "departs_at",
    "arrives_at",
    "channel",
    "station",
    "created_at",
)
INSERT_TICKET = fastsql.Statement(
    f"INSERT INTO tickets ({', '.join(TICKET_COLUMNS)})"
    f" VALUES ({', '.join(':' + column for column in TICKET_COLUMNS)})"
)


class OrderError(StationKitError):
    """An order cannot do what was asked; the code says why."""


def hold(conn: Connection, ctx: SalesContext, req: OrderRequest) -> dict[str, Any]:
    """Hold seats for every passenger of the request, or nothing; the ``OrderView`` answer.

    The answer is plain JSON values, built from what was just written (not
    read back, and not validated again: the sale's busiest path).
    """
    now = ctx.now()
    run = ctx.cache.for_write(conn, ctx.cache.run_id(conn, req.train, req.date))
    a, b = run.info.journey(req.from_station, req.to_station)
    if now >= run.info.departs(a):
        raise OrderError(f"train {req.train} has left {req.from_station}", ErrorCode.TOO_LATE)
    holders = _holders(ctx, req)
    check_holders(conn, [h.id_key for h in holders], run.info.departs(a), run.info.arrives(b))
    seller = None if req.channel in STATIONLESS_CHANNELS else req.station
    placements = run.inventory.allocate(req.seat_class, a, b, len(req.passengers), seller)
    held = HeldOrder(new_order_id(), now + timedelta(minutes=ctx.settings.hold_minutes), now)
    rows = _store_hold(conn, run, req, held, placements, holders)
    _write_placements(conn, run, placements)
    tickets = [ticket_json(run.info, SimpleNamespace(**row, token=None)) for row in rows]
    return {
        "order_id": held.order_id,
        "status": "held",
        "expires_at": held.expires_at,
        "tickets": tickets,
        "total_fen": sum(ticket["price_fen"] for ticket in tickets),
        "payment": None,
    }


@dataclass(frozen=True)
class HeldOrder:
    """An order being held: its id, when it lets its seats go, when it was made."""

    order_id: str
    expires_at: datetime
    created_at: datetime


def _store_hold(
    conn: Connection,
    run: LoadedRun,
    req: OrderRequest,
    held: HeldOrder,
    placements: list[Placement],
    holders: list[Holder],
) -> list[dict[str, Any]]:
    """Insert the order and its tickets; returns the ticket rows."""
    a, b = placements[0].board, placements[0].dest
    price = run.info.price_fen(req.seat_class, a, b)
    times = (run.info.departs(a), run.info.arrives(b), held.created_at)
    sale = Sale(held.order_id, req.channel, req.station)
    rows = [
        ticket_row(new_ticket_id(), run.run_id, place, holder, sale, price, times)
        for place, holder in zip(placements, holders, strict=True)
    ]
    fastsql.run(
        conn,
        INSERT_ORDER,
        {
            "order_id": held.order_id,
            "run_id": run.run_id,
            "status": "held",
            "channel": req.channel,
            "station": req.station,
            "created_at": fastsql.db_time(conn, held.created_at),
            "expires_at": fastsql.db_time(conn, held.expires_at),
            "total_fen": price * len(rows),
        },
    )
    fastsql.run_many(conn, INSERT_TICKET, [_stored_times(conn, row) for row in rows])
    return rows


def pay(conn: Connection, ctx: SalesContext, order_id: str, req: PaymentRequest) -> dict[str, Any]:
    """Record one payment for the whole order and issue its tickets with signed tokens.

    The answer is ``OrderView``'s JSON values, built from what was read and
    written here (a test holds it equal to the model's own output), on
    hand-written statements: this is the second half of every sale.
    """
    now = ctx.now()
    order = _payable_order(conn, ctx, order_id, now)
    if req.amount_fen != order.total_fen:
        raise OrderError(
            f"order {order_id} costs {order.total_fen} fen, payment is {req.amount_fen} fen",
            ErrorCode.AMOUNT_MISMATCH,
        )
    run = ctx.cache.for_write(conn, order.run_id)
    tickets = [_paid_ticket(row) for row in fastsql.fetch_all(conn, READ_TICKETS, {"o": order_id})]
    if req.method == "card":
        _check_card_station(ctx, order, run, tickets, req.confirm_card_station)
    payment = {
        "method": req.method,
        "amount_fen": order.total_fen,
        "reference": req.reference,
        "acquirer": req.acquirer,
        "card_masked": req.card_masked,
        "paid_at": now,
    }
    issued = [t._replace(status="issued", token=sign_ticket(ctx, run, t)) for t in tickets]
    _store_payment(conn, run, order_id, payment, issued, now)
    return {
        "order_id": order_id,
        "status": "issued",
        "expires_at": order.expires_at,
        "tickets": [ticket_json(run.info, ticket) for ticket in issued],
        "total_fen": order.total_fen,
        "payment": payment,
    }


class PaidTicket(NamedTuple):
    """The columns of a ticket the payment reads, signs and answers with."""

    seq: int
    ticket_id: str
    seat_class: str
    board: int
    dest: int
    coach: int | None
    number: int | None
    is_remote: bool
    passenger_name: str
    name_hash: str
    id_hash: str
    holder_tag: str | None
    price_fen: int
    status: str
    departs_at: Any
    arrives_at: Any
    token: str | None


class PayableOrder(NamedTuple):
    """The columns of an order the payment checks."""

    order_id: str
    run_id: int
    status: str
    channel: str
    station: str | None
    expires_at: datetime
    total_fen: int


READ_ORDER = fastsql.Statement(
    "SELECT order_id, run_id, status, channel, station, expires_at, total_fen"
    " FROM orders WHERE order_id = :o"
)
READ_TICKETS = fastsql.Statement(
    f"SELECT {', '.join(PaidTicket._fields)} FROM tickets WHERE order_id = :o ORDER BY seq"
)
PAY_ORDER = fastsql.Statement(
    "UPDATE orders SET status = 'issued', payment_method = :method,"
    " payment_reference = :reference, acquirer = :acquirer, card_masked = :card_masked,"
    " paid_at = :paid_at WHERE order_id = :order_id"
)
ISSUE_TICKET = fastsql.Statement(
    "UPDATE tickets SET status = 'issued', issued_at = :issued_at, token = :token WHERE seq = :seq"
)


def _paid_ticket(row: tuple[Any, ...]) -> PaidTicket:
    ticket = PaidTicket(*row)
    return ticket._replace(
        is_remote=bool(ticket.is_remote),
        departs_at=fastsql.read_time(ticket.departs_at),
        arrives_at=fastsql.read_time(ticket.arrives_at),
    )


def _payable_order(
    conn: Connection, ctx: SalesContext, order_id: str, now: datetime
) -> PayableOrder:
    """A held order that has not run out (an expired one gives its seats back first)."""
    row = fastsql.fetch_one(conn, READ_ORDER, {"o": order_id})
    if row is None:
        raise OrderError(f"no order {order_id}", ErrorCode.UNKNOWN_ORDER)
    order_id, run_id, status, channel, station, expires_at, total_fen = row
    order = PayableOrder(
        order_id, run_id, status, channel, station, fastsql.read_time(expires_at), total_fen
    )
    if order.status != "held" or order.expires_at <= now:
        _held_order(conn, ctx, order_id, now)  # refuses, closing an expired hold
    return order


def _store_payment(
    conn: Connection,
    run: LoadedRun,
    order_id: str,
    payment: dict[str, Any],
    issued: list[PaidTicket],
    now: datetime,
) -> None:
    stored_now = fastsql.db_time(conn, now)
    fastsql.run(conn, PAY_ORDER, {**payment, "paid_at": stored_now, "order_id": order_id})
    fastsql.run_many(
        conn,
        ISSUE_TICKET,
        [{"issued_at": stored_now, "token": t.token, "seq": t.seq} for t in issued],
    )
    feed.record_issued_many(conn, run, issued, now)


def cancel(conn: Connection, ctx: SalesContext, order_id: str) -> OrderView:
    """Give up a held order: its seats go back at once."""
    order = _held_order(conn, ctx, order_id, ctx.now())
    run = _close_order(conn, ctx, order, "cancelled")
    return _current_view(conn, ctx, order_id, run)


def expire_due(conn: Connection, ctx: SalesContext, limit: int = 500) -> int:
    """Expire held orders whose time is up; returns how many."""
    now = ctx.now()
    due = conn.execute(
        select(t.orders)
        .where(and_(t.orders.c.status == "held", t.orders.c.expires_at <= now))
        .order_by(t.orders.c.expires_at)
        .limit(limit)
    ).all()
    for order in due:
        _close_order(conn, ctx, order, "expired")
    return len(due)


def order_view(order: Any, tickets: list[Any], info: RunInfo) -> OrderView:
    """An order row and its ticket rows as the API shows them."""
    payment = None
    if order.payment_method is not None:
        payment = PaymentView(
            method=order.payment_method,
            amount_fen=order.total_fen,
            reference=order.payment_reference,
            acquirer=order.acquirer,
            card_masked=order.card_masked,
            paid_at=order.paid_at,
        )
    return OrderView(
        order_id=order.order_id,
        status=order.status,
        expires_at=order.expires_at,
        tickets=[ticket_view(info, row) for row in tickets],
        total_fen=order.total_fen,
        payment=payment,
    )


def _current_view(conn: Connection, ctx: SalesContext, order_id: str, run: LoadedRun) -> OrderView:
    return order_view(find_order(conn, order_id), order_tickets(conn, order_id), run.info)


def _close_order(conn: Connection, ctx: SalesContext, order: Any, status: str) -> LoadedRun:
    run = ctx.cache.for_write(conn, order.run_id)
    conn.execute(
        update(t.orders).where(t.orders.c.order_id == order.order_id).values(status=status)
    )
    for ticket in order_tickets(conn, order.order_id):
        release_ticket(conn, run, ticket, status, ctx.now())
    return run


def _held_order(conn: Connection, ctx: SalesContext, order_id: str, now: datetime) -> Any:
    order = find_order(conn, order_id)
    if order.status != "held":
        raise OrderError(f"order {order_id} is {order.status}, not held", ErrorCode.ORDER_NOT_HELD)
    if order.expires_at <= now:
        _close_order(conn, ctx, order, "expired")
        raise OrderError(
            f"order {order_id} expired at {order.expires_at:%H:%M:%S}", ErrorCode.ORDER_EXPIRED
        )
    return order


def find_order(conn: Connection, order_id: str) -> Any:
    """An order row by id, or ``unknown_order``."""
    order = conn.execute(select(t.orders).where(t.orders.c.order_id == order_id)).first()
    if order is None:
        raise OrderError(f"no order {order_id}", ErrorCode.UNKNOWN_ORDER)
    return order


def order_tickets(conn: Connection, order_id: str) -> list[Any]:
    """An order's ticket rows, in order."""
    return list(
        conn.execute(
            select(t.tickets).where(t.tickets.c.order_id == order_id).order_by(t.tickets.c.seq)
        )
    )


def _check_card_station(
    ctx: SalesContext, order: Any, run: LoadedRun, tickets: list[Any], confirmed: bool
) -> None:
    """A TVM sells by card only journeys from its own or a card-accepting station."""
    if order.channel != "tvm" or confirmed:
        return
    accepted = set(ctx.settings.card_stations) | {order.station}
    for ticket in tickets:
        board = run.info.codes[ticket.board]
        if board not in accepted:
            raise OrderError(
                f"{board} does not take card refunds; confirm with confirm_card_station",
                ErrorCode.CARD_STATION_NOT_ACCEPTED,
            )


def sign_ticket(ctx: SalesContext, run: LoadedRun, ticket: Any) -> str:
    """The signed token of a ticket row."""
    info = run.info
    claims = TicketClaims(
        ticket_id=ticket.ticket_id,
        train=info.spec.train,
        service_date=info.spec.date,
        from_station=info.codes[ticket.board],
        to_station=info.codes[ticket.dest],
        seat_class=ticket.seat_class,
        coach=ticket.coach,
        seat=ticket.number,
        name_hash=bytes.fromhex(ticket.name_hash),
        id_hash=bytes.fromhex(ticket.id_hash),
        not_before=ticket.departs_at - timedelta(minutes=ctx.settings.checkin_opens_minutes),
        not_after=ticket.arrives_at + timedelta(minutes=ctx.settings.valid_after_arrival_minutes),
    )
    return encode_token(claims, ctx.keys.active)


def _holders(ctx: SalesContext, req: OrderRequest) -> list[Holder]:
    """Each passenger with the keyed hashes the real-name rule and the gates use."""
    keys = ctx.keys
    return [
        Holder(
            p.name,
            mask_id(p.id_number),
            keys.holder_key(p.id_number),
            p.id_number,
            keys.holder_tag(p.id_number),
        )
        for p in req.passengers
    ]


def _stored_times(conn: Connection, row: dict[str, Any]) -> dict[str, Any]:
    """A ticket row with its times as the store keeps them."""
    return {**row, **{column: fastsql.db_time(conn, row[column]) for column in TIME_COLUMNS}}


def _write_placements(conn: Connection, run: LoadedRun, placements: list[Placement]) -> None:
    bump_version(conn, run)
    write_seats(conn, run, [p.seat for p in placements if p.seat is not None])
    for seat_class in {p.seat_class for p in placements if p.seat is None}:
        write_standing(conn, run, seat_class)
