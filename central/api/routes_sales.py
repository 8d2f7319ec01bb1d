"""Selling endpoints: availability, orders, payment, refund, change, tickets, keys, the feed.

Queries answer from the read path (``central.reads``) in a worker thread;
mutations build a writer command and go through ``CentralService.mutate``:
idempotent by key, run by the writer and answered after its commit. Who may
call each route is declared with it (``central.api.access``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Query, Request, Response
from starlette.concurrency import run_in_threadpool

from central.api.access import PUBLIC, SELLERS, AuthError, Principal, Routes, caller
from central.api.errors import json_response
from central.api.service import CentralService
from central.writer.commands import Cancel, Change, Command, Hold, Pay, Refund
from central.writer.once import StoredAnswer
from protocol.errors import ErrorCode
from protocol.fields import OrderRef, ServiceDate, Station, TicketRef, Train
from protocol.ids import SeatClass
from protocol.messages import (
    AvailabilityResponse,
    ChangeQuote,
    ChangeRequest,
    ChangeResponse,
    KeysResponse,
    OrderRequest,
    OrderView,
    PaymentRequest,
    RefundQuote,
    RefundResponse,
    TicketView,
)

router = Routes(prefix="/v1")


def service(request: Request) -> CentralService:
    """The process's service, set up at start-up."""
    return request.app.state.service  # type: ignore[no-any-return]


async def read(request: Request, query: Callable[..., Any], *args: Any) -> Response:
    """Answer a query from the read path, off the event loop."""
    return json_response(await run_in_threadpool(query, *args))


def answer(stored: StoredAnswer) -> Response:
    """Send a stored answer as it was first given."""
    return Response(stored.body, status_code=stored.status, media_type="application/json")


async def sell(request: Request, command: Command, status: int = 200) -> Response:
    """Run a selling command for the caller, once per Idempotency-Key, answered after commit."""
    principal = caller(request)
    return answer(await service(request).mutate(request, principal.name, status, command))


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


@router.get("/availability", access=PUBLIC, errors=(404,), response_model=AvailabilityResponse)
async def availability(
    request: Request,
    train: Train,
    date: ServiceDate,
    from_station: Annotated[Station, Query(alias="from")],
    to_station: Annotated[Station, Query(alias="to")],
    station: Station | None = None,
) -> Response:
    """Seats and standing places sellable now per class, with the fare (exact)."""
    reads = service(request).reads
    return await read(request, reads.availability, train, date, from_station, to_station, station)


@router.post(
    "/orders",
    access=SELLERS,
    lean=True,
    errors=(404, 409),
    status_code=201,
    response_model=OrderView,
)
async def create_order(request: Request, body: OrderRequest) -> Response:
    """Hold seats for the passengers (real-name), for ``hold_minutes``."""
    check_channel(caller(request), body)
    return await sell(request, Hold(order=body), 201)


@router.get("/orders/{order_id}", access=SELLERS, errors=(404,), response_model=OrderView)
async def get_order(request: Request, order_id: OrderRef) -> Response:
    """An order with its tickets (tokens once issued)."""
    return await read(request, service(request).reads.order, order_id)


@router.post(
    "/orders/{order_id}/pay", access=SELLERS, lean=True, errors=(404,), response_model=OrderView
)
async def pay_order(request: Request, order_id: OrderRef, body: PaymentRequest) -> Response:
    """Pay the whole order with one method and issue its signed tickets."""
    return await sell(request, Pay(order_id=order_id, payment=body))


@router.post(
    "/orders/{order_id}/cancel", access=SELLERS, lean=True, errors=(404,), response_model=OrderView
)
async def cancel_order(request: Request, order_id: OrderRef) -> Response:
    """Give up a held order; the seats go back at once."""
    return await sell(request, Cancel(order_id=order_id))


@router.post(
    "/tickets/{ticket_id}/refund",
    access=SELLERS,
    lean=True,
    errors=(404,),
    response_model=RefundResponse,
)
async def refund_ticket(request: Request, ticket_id: TicketRef) -> Response:
    """Refund an issued ticket with the fee schedule; the seat goes back."""
    return await sell(request, Refund(ticket_id=ticket_id))


@router.post(
    "/tickets/{ticket_id}/change",
    access=SELLERS,
    lean=True,
    errors=(403, 404),
    response_model=ChangeResponse,
)
async def change_ticket(request: Request, ticket_id: TicketRef, body: ChangeRequest) -> Response:
    """Swap a ticket for another journey atomically."""
    return await sell(request, Change(ticket_id=ticket_id, change=body))


@router.get("/tickets/{ticket_id}", access=SELLERS, errors=(404,), response_model=TicketView)
async def get_ticket(request: Request, ticket_id: TicketRef) -> Response:
    """One ticket and its status."""
    return await read(request, service(request).reads.ticket, ticket_id)


@router.get(
    "/tickets/{ticket_id}/refund-quote",
    access=SELLERS,
    errors=(404, 409),
    response_model=RefundQuote,
)
async def refund_quote(request: Request, ticket_id: TicketRef) -> Response:
    """What a refund would keep and pay back now, so the passenger confirms knowing the fee."""
    return await read(request, service(request).reads.refund_quote, ticket_id)


@router.get(
    "/tickets/{ticket_id}/change-quote",
    access=SELLERS,
    errors=(404, 409),
    response_model=ChangeQuote,
)
async def change_quote(
    request: Request,
    ticket_id: TicketRef,
    train: Train,
    date: ServiceDate,
    from_station: Annotated[Station, Query(alias="from")],
    to_station: Annotated[Station, Query(alias="to")],
    seat_class: Annotated[SeatClass, Query(alias="class")],
) -> Response:
    """What a change to that journey would cost now: the new price, the difference, the fee."""
    reads = service(request).reads
    journey = (train, date, from_station, to_station, seat_class)
    return await read(request, reads.change_quote, ticket_id, *journey)


@router.get("/keys", access=PUBLIC, response_model=KeysResponse)
async def keys(request: Request) -> Response:
    """Every public key that signs tickets, so gates verify offline."""
    return json_response(service(request).reads.keys())
