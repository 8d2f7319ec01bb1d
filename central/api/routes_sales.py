"""Selling endpoints: availability, orders, payment, refund, change, keys.

Every mutating call goes through ``CentralService.mutate``: authenticated,
idempotent by key, run by the writer and answered after its commit.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response

from central.api.auth import AuthError, Principal
from central.api.errors import json_response
from central.api.lean_route import LeanRoute
from central.api.service import CentralService
from central.commands import Args
from central.once import StoredAnswer
from central.sales import feed
from protocol.errors import ErrorCode
from protocol.messages import (
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
# The selling mutations, every sale's path: called without FastAPI's per-request machinery.
selling = APIRouter(prefix="/v1", route_class=LeanRoute)
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


async def sale(request: Request, command: str, args: Args) -> Response:
    """Run a selling command for a seller, once per Idempotency-Key, answered after commit."""
    svc = service(request)
    principal = seller(svc, request)
    return answer(await svc.mutate(request, principal, 200, command, args))


async def body_text(request: Request) -> str:
    """The request body as it came (already validated): the writer reads it as JSON."""
    return (await request.body()).decode()


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
    args = {"train": train, "date": date.isoformat(), "from": from_station, "to": to_station}
    return json_response(await svc.query("availability", {**args, "station": station}))


@selling.post("/orders", status_code=201, response_model=OrderView, responses=ERRORS)
async def create_order(request: Request, body: OrderRequest) -> Response:
    """Hold seats for the passengers (real-name), for ``hold_minutes``."""
    svc = service(request)
    principal = seller(svc, request)
    check_channel(principal, body)
    stored = await svc.mutate(request, principal, 201, "hold", {"body": await body_text(request)})
    return answer(stored)


@router.get("/orders/{order_id}", response_model=OrderView, responses=ERRORS)
async def get_order(request: Request, order_id: str) -> Response:
    """An order with its tickets (tokens once issued)."""
    svc = service(request)
    svc.principal(request)
    return json_response(await svc.query("order", {"order_id": order_id}))


@selling.post("/orders/{order_id}/pay", response_model=OrderView, responses=ERRORS)
async def pay_order(request: Request, order_id: str, body: PaymentRequest) -> Response:
    """Pay the whole order with one method and issue its signed tickets."""
    return await sale(request, "pay", {"order_id": order_id, "body": await body_text(request)})


@selling.post("/orders/{order_id}/cancel", response_model=OrderView, responses=ERRORS)
async def cancel_order(request: Request, order_id: str) -> Response:
    """Give up a held order; the seats go back at once."""
    return await sale(request, "cancel", {"order_id": order_id})


@selling.post("/tickets/{ticket_id}/refund", response_model=RefundResponse, responses=ERRORS)
async def refund_ticket(request: Request, ticket_id: str) -> Response:
    """Refund an issued ticket with the fee schedule; the seat goes back."""
    return await sale(request, "refund", {"ticket_id": ticket_id})


@selling.post("/tickets/{ticket_id}/change", response_model=ChangeResponse, responses=ERRORS)
async def change_ticket(request: Request, ticket_id: str, body: ChangeRequest) -> Response:
    """Swap a ticket for another journey atomically."""
    args = {"ticket_id": ticket_id, "body": await body_text(request)}
    return await sale(request, "change", args)


@router.get("/tickets/{ticket_id}", response_model=TicketView, responses=ERRORS)
async def get_ticket(request: Request, ticket_id: str) -> Response:
    """One ticket and its status."""
    svc = service(request)
    svc.principal(request)
    return json_response(await svc.query("ticket", {"ticket_id": ticket_id}))


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
