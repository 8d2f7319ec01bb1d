"""Writer commands by name: what the API asks of the store, as plain data.

A request handler never hands the writer a closure. It names a command and
gives its arguments as JSON values (request bodies stay the JSON text they
arrived as), so the same request runs the same code whether the writer is a
thread of this process or a process of its own reached over a socket
(``central.writer_server``). ``perform`` runs one request inside the writer's
transaction: a mutation once per Idempotency-Key (its answer stored with the
effect), a query as it is.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any, TypedDict

from pydantic import BaseModel
from sqlalchemy import Connection

from central import audit, operations, presale
from central.devices import register_device
from central.once import run_once
from central.sales import aftersales, orders
from central.sales.context import SalesContext
from central.sales.tickets import ticket_view
from protocol.errors import ErrorCode, StationKitError
from protocol.messages import (
    AdjustmentRequest,
    AvailabilityClass,
    AvailabilityResponse,
    ChangeRequest,
    OrderRequest,
    PaymentRequest,
    PreallocationRunRequest,
    StandingAdjustmentRequest,
)
from protocol.timetable import TrainRunSpec

Args = dict[str, Any]
Result = BaseModel | dict[str, Any]
Command = Callable[[Connection, SalesContext, Args], Result]


class Once(TypedDict):
    """How a mutation is made idempotent: who asked, their key, the request's fingerprint."""

    scope: str
    key: str
    fingerprint: str
    status: int  # the HTTP status of a successful answer


class WriterRequest(TypedDict, total=False):
    """One request to the writer: a command, its arguments, and ``once`` for a mutation."""

    name: str
    args: Args
    once: Once


class UnknownCommand(StationKitError):
    """A writer request names no command (a bug in the caller)."""


def perform(conn: Connection, ctx: SalesContext, request: WriterRequest) -> Any:
    """Run one request in the writer's transaction; the answer as JSON values.

    A mutation answers ``{"status", "body"}`` (the body as first given, even
    for a refusal); a query answers its result, or raises ``StationKitError``.
    """
    command = COMMANDS.get(request["name"])
    if command is None:
        raise UnknownCommand(f"no writer command {request['name']!r}", ErrorCode.BAD_REQUEST)
    args = request.get("args", {})
    once = request.get("once")
    if once is None:
        return _plain(command(conn, ctx, args))
    stored = run_once(
        conn,
        once["scope"],
        once["key"],
        once["fingerprint"],
        ctx.now(),
        once["status"],
        lambda c: command(c, ctx, args),
    )
    return {"status": stored.status, "body": stored.body.decode()}


def _plain(result: Result) -> Any:
    if isinstance(result, BaseModel):
        return result.model_dump(mode="json", by_alias=True)
    return result


def _run_id(conn: Connection, ctx: SalesContext, args: Args) -> int:
    return ctx.cache.run_id(conn, args["train"], date.fromisoformat(args["date"]))


# --- selling ---------------------------------------------------------------


def _hold(conn: Connection, ctx: SalesContext, args: Args) -> Result:
    return orders.hold(conn, ctx, OrderRequest.model_validate_json(args["body"]))


def _pay(conn: Connection, ctx: SalesContext, args: Args) -> Result:
    body = PaymentRequest.model_validate_json(args["body"])
    return orders.pay(conn, ctx, args["order_id"], body)


def _cancel(conn: Connection, ctx: SalesContext, args: Args) -> Result:
    return orders.cancel(conn, ctx, args["order_id"])


def _refund(conn: Connection, ctx: SalesContext, args: Args) -> Result:
    return aftersales.refund(conn, ctx, args["ticket_id"])


def _change(conn: Connection, ctx: SalesContext, args: Args) -> Result:
    body = ChangeRequest.model_validate_json(args["body"])
    return aftersales.change(conn, ctx, args["ticket_id"], body)


def _order(conn: Connection, ctx: SalesContext, args: Args) -> Result:
    return orders.order_view(conn, ctx, args["order_id"])


def _ticket(conn: Connection, ctx: SalesContext, args: Args) -> Result:
    found = aftersales.find_ticket(conn, args["ticket_id"])
    run = ctx.cache.for_write(conn, found.run_id)
    return ticket_view(run.info, found)


def _availability(conn: Connection, ctx: SalesContext, args: Args) -> Result:
    run = ctx.cache.for_write(conn, _run_id(conn, ctx, args))
    a, b = run.info.journey(args["from"], args["to"])
    classes = []
    for seat_class in run.info.seat_classes():
        left = run.inventory.availability(seat_class, a, b, args.get("station"))
        classes.append(
            AvailabilityClass(
                seat_class=seat_class,
                seats=left.seats,
                standing=left.standing,
                price_fen=run.info.price_fen(seat_class, a, b),
            )
        )
    return AvailabilityResponse(
        train=args["train"],
        date=date.fromisoformat(args["date"]),
        from_station=args["from"],
        to_station=args["to"],
        classes=classes,
    )


# --- operating -------------------------------------------------------------


def _load_train_run(conn: Connection, ctx: SalesContext, args: Args) -> Result:
    spec = TrainRunSpec.model_validate_json(args["body"])
    run_id = operations.load_train_run(conn, ctx, spec, args["actor"])
    run = ctx.cache.for_write(conn, run_id)
    return {
        "run_id": run_id,
        "train": spec.train,
        "date": spec.date.isoformat(),
        "seats": len(run.inventory.seats),
        "quotas": operations.quota_summary(run),
    }


def _quotas(conn: Connection, ctx: SalesContext, args: Args) -> Result:
    run = ctx.cache.for_write(conn, _run_id(conn, ctx, args))
    return {"quotas": operations.quota_summary(run)}


def _od_matrix(conn: Connection, ctx: SalesContext, args: Args) -> Result:
    run = ctx.cache.for_write(conn, _run_id(conn, ctx, args))
    station = args.get("station")
    matrix = {str(c): run.inventory.od_matrix(c, station) for c in run.info.seat_classes()}
    return {"stops": run.info.codes, "classes": matrix}


def _adjust(conn: Connection, ctx: SalesContext, args: Args) -> Result:
    body = AdjustmentRequest.model_validate_json(args["body"])
    return operations.adjust_quota(conn, ctx, _run_id(conn, ctx, args), body, args["actor"])


def _standing(conn: Connection, ctx: SalesContext, args: Args) -> Result:
    body = StandingAdjustmentRequest.model_validate_json(args["body"])
    return operations.adjust_standing(conn, ctx, _run_id(conn, ctx, args), body, args["actor"])


def _preallocate(conn: Connection, ctx: SalesContext, args: Args) -> Result:
    body = PreallocationRunRequest.model_validate_json(args["body"])
    run_id = _run_id(conn, ctx, args)
    return presale.preallocate(conn, ctx, run_id, body.forecast, args["actor"])


def _release(conn: Connection, ctx: SalesContext, args: Args) -> Result:
    return presale.release(conn, ctx, _run_id(conn, ctx, args), args["actor"])


def _register_device(conn: Connection, ctx: SalesContext, args: Args) -> Result:
    body = args["device"]
    now: datetime = ctx.now()
    token = register_device(conn, body["device_id"], body["kind"], body.get("station"), now)
    audit.record(
        conn,
        at=now,
        actor=args["actor"],
        action="device.register",
        run_id=None,
        reason="device registered",
        detail=body,
    )
    return {"device_id": body["device_id"], "token": token}


COMMANDS: dict[str, Command] = {
    "hold": _hold,
    "pay": _pay,
    "cancel": _cancel,
    "refund": _refund,
    "change": _change,
    "order": _order,
    "ticket": _ticket,
    "availability": _availability,
    "load_train_run": _load_train_run,
    "quotas": _quotas,
    "od_matrix": _od_matrix,
    "adjust": _adjust,
    "standing": _standing,
    "preallocate": _preallocate,
    "release": _release,
    "register_device": _register_device,
}
