"""Selling endpoints: availability, orders, payment, refund, change, keys.

Every mutating call goes through ``CentralService.mutate``: authenticated,
idempotent by key, run by the writer and answered after its commit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel
from sqlalchemy import Connection, select

from central.api.auth import AuthError, Principal
from central.api.errors import json_response
from central.api.idempotency import StoredAnswer
from central.api.service import CentralService
from central.sales import aftersales, feed, orders
from central.sales.context import SalesContext
from central.sales.orders import OrderError
from central.sales.tickets import ticket_view
from central.store import tables as t
from protocol.errors import ErrorCode
from protocol.messages import (
    AvailabilityClass,
    AvailabilityResponse,
    ChangeRequest,
    ChangeResponse,
    ErrorResponse,
    KeysResponse,
    OrderRequest,
    OrderView,
    PaymentRequest,
    RefundResponse,
    TicketView,
)

router = APIRouter(prefix="/v1")
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse} for code in (401, 404, 409, 422)
}
StationParam = Annotated[str, Query(pattern=r"^[A-Z]{3}$")]
TrainParam = Annotated[str, Query(pattern=r"^[A-Z]?[0-9]{1,5}$")]


def service(request: Request) -> CentralService:
    """The process's service, set up at start-up."""
    return request.app.state.service  # type: ignore[no-any-return]


def seller(svc: CentralService, request: Request) -> Principal:
    """A caller allowed to sell: the operator or a selling device (not a gate)."""
    principal = svc.principal(request)
    if principal.role == "gate":
        raise AuthError(f"{principal.name} is a gate; gates do not sell", ErrorCode.FORBIDDEN)
    return principal


def check_channel(principal: Principal, body: OrderRequest) -> None:
    """A device sells only as what it was registered as, at its own station."""
    if principal.is_operator:
        return
    if body.channel != principal.role or body.station != principal.station:
        raise AuthError(
            f"{principal.name} is registered as {principal.role} at {principal.station}; "
            f"it cannot sell as {body.channel} at {body.station}",
            ErrorCode.FORBIDDEN,
        )


SaleCommand = Callable[[Connection, SalesContext], BaseModel]


async def sale(request: Request, command: SaleCommand) -> Response:
    """Run a selling command for a seller, once per Idempotency-Key, answered after commit."""
    svc = service(request)
    principal = seller(svc, request)
    return answer(await svc.mutate(request, principal, 200, lambda conn: command(conn, svc.ctx)))


def answer(stored: StoredAnswer) -> Response:
    """Send a stored answer as it was first given."""
    return Response(stored.body, status_code=stored.status, media_type="application/json")


@router.get("/availability", response_model=AvailabilityResponse, responses=ERRORS)
async def availability(
    request: Request,
    train: TrainParam,
    date: dt.date,
    from_station: Annotated[str, Query(alias="from", pattern=r"^[A-Z]{3}$")],
    to_station: Annotated[str, Query(alias="to", pattern=r"^[A-Z]{3}$")],
    station: StationParam | None = None,
) -> Response:
    """Seats and standing places sellable now per class, with the fare (exact)."""
    svc = service(request)
    with svc.engine.connect().execution_options(read_only=True) as conn:
        run_id = svc.ctx.cache.run_id(conn, train, date)
    run = await svc.fresh_run(run_id)
    with svc.ctx.cache.lock:
        a, b = run.info.journey(from_station, to_station)
        classes = [
            AvailabilityClass(
                seat_class=c,
                seats=(left := run.inventory.availability(c, a, b, station)).seats,
                standing=left.standing,
                price_fen=run.info.price_fen(c, a, b),
            )
            for c in run.info.seat_classes()
        ]
    body = AvailabilityResponse(
        train=train, date=date, from_station=from_station, to_station=to_station, classes=classes
    )
    return json_response(body.model_dump(mode="json", by_alias=True))


@router.post("/orders", status_code=201, response_model=OrderView, responses=ERRORS)
async def create_order(request: Request, body: OrderRequest) -> Response:
    """Hold seats for the passengers (real-name), for ``hold_minutes``."""
    svc = service(request)
    principal = seller(svc, request)
    check_channel(principal, body)
    stored = await svc.mutate(
        request, principal, 201, lambda conn: orders.hold(conn, svc.ctx, body)
    )
    return answer(stored)


@router.get("/orders/{order_id}", response_model=OrderView, responses=ERRORS)
async def get_order(request: Request, order_id: str) -> Response:
    """An order with its tickets (tokens once issued)."""
    svc = service(request)
    svc.principal(request)
    view = await svc.writer.run(lambda conn: orders.order_view(conn, svc.ctx, order_id))
    return json_response(view.model_dump(mode="json", by_alias=True))


@router.post("/orders/{order_id}/pay", response_model=OrderView, responses=ERRORS)
async def pay_order(request: Request, order_id: str, body: PaymentRequest) -> Response:
    """Pay the whole order with one method and issue its signed tickets."""
    return await sale(request, lambda conn, ctx: orders.pay(conn, ctx, order_id, body))


@router.post("/orders/{order_id}/cancel", response_model=OrderView, responses=ERRORS)
async def cancel_order(request: Request, order_id: str) -> Response:
    """Give up a held order; the seats go back at once."""
    return await sale(request, lambda conn, ctx: orders.cancel(conn, ctx, order_id))


@router.post("/tickets/{ticket_id}/refund", response_model=RefundResponse, responses=ERRORS)
async def refund_ticket(request: Request, ticket_id: str) -> Response:
    """Refund an issued ticket with the fee schedule; the seat goes back."""
    return await sale(request, lambda conn, ctx: aftersales.refund(conn, ctx, ticket_id))


@router.post("/tickets/{ticket_id}/change", response_model=ChangeResponse, responses=ERRORS)
async def change_ticket(request: Request, ticket_id: str, body: ChangeRequest) -> Response:
    """Swap a ticket for another journey atomically."""
    return await sale(request, lambda conn, ctx: aftersales.change(conn, ctx, ticket_id, body))


@router.get("/tickets/{ticket_id}", response_model=TicketView, responses=ERRORS)
async def get_ticket(request: Request, ticket_id: str) -> Response:
    """One ticket and its status."""
    svc = service(request)
    svc.principal(request)
    with svc.engine.connect().execution_options(read_only=True) as conn:
        row = conn.execute(select(t.tickets).where(t.tickets.c.ticket_id == ticket_id)).first()
    if row is None:
        raise OrderError(f"no ticket {ticket_id}", ErrorCode.UNKNOWN_TICKET)
    run = await svc.fresh_run(row.run_id)
    view = ticket_view(run.info, row)
    return json_response(view.model_dump(mode="json", by_alias=True))


@router.get("/stations/{station}/tickets", responses=ERRORS)
async def station_tickets(
    request: Request,
    station: Annotated[str, Path(pattern=r"^[A-Z]{3}$")],
    since: Annotated[int, Query(ge=0, le=2**62)] = 0,
    limit: Annotated[int, Query(ge=1, le=feed.MAX_PAGE)] = 1000,
) -> Response:
    """The station's ticket feed for gates: issued tokens and revocations after ``since``."""
    svc = service(request)
    principal = svc.principal(request)
    if principal.station is not None and principal.station != station and principal.role == "gate":
        raise AuthError(
            f"gate {principal.name} belongs to {principal.station}", ErrorCode.FORBIDDEN
        )
    with svc.engine.connect().execution_options(read_only=True) as conn:
        page = feed.station_feed(conn, station, since, limit)
    return json_response(page)


@router.get("/keys", response_model=KeysResponse)
async def keys(request: Request) -> Response:
    """Every public key that signs tickets, so gates verify offline."""
    return json_response(service(request).ctx.keys.key_ring().to_json_dict())
