"""The writer's commands: every change to the store, as a typed object.

A route builds a command (``Hold(order=...)``) and hands it to the writer
(``central.writer.base.Writer``); the writer runs ``command.run(conn, ctx)``
inside its transaction, once per Idempotency-Key for a mutation. A reader
follows a sale from its route to its commit by going to definitions: the
route names the class, the class calls the selling code.

Commands are pydantic models, so a writer process receives the same object
its HTTP process built: ``to_wire`` and ``from_wire`` carry it as a name and
JSON values, and ``WIRE_NAMES`` is the one table that maps the two.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar, TypedDict

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Connection

from central.blocks import keys as unit_keys
from central.blocks import leases
from central.blocks import sales as block_sales
from central.gates import passages
from central.operating import adjustments, audit, devices, housekeeping, presale
from central.sales import aftersales, orders
from central.sales.context import SalesContext
from central.writer.once import StoredAnswer, run_once
from protocol.errors import ErrorCode, StationKitError
from protocol.messages import (
    AdjustmentRequest,
    ChangeRequest,
    DeviceRequest,
    OrderRequest,
    PaymentRequest,
    PreallocationRunRequest,
    StandingAdjustmentRequest,
)
from protocol.timetable import TrainRunSpec
from protocol.tvm import BlockRequest, BlockSalesUpload
from protocol.units import EnrolmentRequest, PassageUpload

Result = BaseModel | dict[str, Any]


class Once(TypedDict):
    """How a mutation is made idempotent: who asked, their key, the request's fingerprint."""

    scope: str
    key: str
    fingerprint: str
    status: int  # the HTTP status of a successful answer


class Command(BaseModel):
    """One change to the store; ``run`` does it inside the writer's transaction."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    wire_name: ClassVar[str]

    def run(self, conn: Connection, ctx: SalesContext) -> Result:
        """Do the change; the answer as a model or JSON values."""
        raise NotImplementedError

    def to_wire(self) -> dict[str, Any]:
        """The command as a writer process receives it."""
        return {"command": self.wire_name, "args": self.model_dump(mode="json", by_alias=True)}


class UnknownCommand(StationKitError):
    """A writer request names no command (a bug in the sender)."""


def from_wire(message: dict[str, Any]) -> Command:
    """The command a ``to_wire`` message carries."""
    kind = WIRE_NAMES.get(message.get("command", ""))
    if kind is None:
        raise UnknownCommand(f"no writer command {message.get('command')!r}", ErrorCode.BAD_REQUEST)
    return kind.model_validate(message.get("args", {}))


def perform(conn: Connection, ctx: SalesContext, command: Command, once: Once | None) -> Any:
    """Run one command in the writer's transaction; the answer as JSON values.

    A mutation (with ``once``) answers ``{"status", "body"}``: the body as
    first given, even for a refusal. Without ``once`` the command's result
    is returned as JSON values, or its ``StationKitError`` raised.
    """
    if once is None:
        return _plain(command.run(conn, ctx))
    stored = run_once(
        conn,
        once["scope"],
        once["key"],
        once["fingerprint"],
        ctx.now(),
        once["status"],
        lambda c: command.run(c, ctx),
    )
    return {"status": stored.status, "body": stored.body.decode()}


def stored_answer(answer: dict[str, Any]) -> StoredAnswer:
    """A mutation's ``perform`` answer as the HTTP side sends it."""
    return StoredAnswer(answer["status"], answer["body"].encode())


def _plain(result: Result) -> Any:
    if isinstance(result, BaseModel):
        return result.model_dump(mode="json", by_alias=True)
    return result


# --- selling ---------------------------------------------------------------


class Hold(Command):
    """Hold seats for an order's passengers."""

    wire_name = "hold"
    order: OrderRequest

    def run(self, conn: Connection, ctx: SalesContext) -> Result:
        return orders.hold(conn, ctx, self.order)


class Pay(Command):
    """Pay a held order and issue its tickets."""

    wire_name = "pay"
    order_id: str
    payment: PaymentRequest

    def run(self, conn: Connection, ctx: SalesContext) -> Result:
        return orders.pay(conn, ctx, self.order_id, self.payment)


class Cancel(Command):
    """Give up a held order."""

    wire_name = "cancel"
    order_id: str

    def run(self, conn: Connection, ctx: SalesContext) -> Result:
        return orders.cancel(conn, ctx, self.order_id)


class Refund(Command):
    """Refund an issued ticket."""

    wire_name = "refund"
    ticket_id: str

    def run(self, conn: Connection, ctx: SalesContext) -> Result:
        return aftersales.refund(conn, ctx, self.ticket_id)


class Change(Command):
    """Swap a ticket for another journey."""

    wire_name = "change"
    ticket_id: str
    change: ChangeRequest

    def run(self, conn: Connection, ctx: SalesContext) -> Result:
        return aftersales.change(conn, ctx, self.ticket_id, self.change)


# --- operating -------------------------------------------------------------


class OnRun(Command):
    """A command on one train run, by train and service date, done by an actor."""

    train: str
    date: dt.date
    actor: str

    def run_id(self, conn: Connection, ctx: SalesContext) -> int:
        """The run this command is about."""
        return ctx.cache.run_id(conn, self.train, self.date)


class LoadTrainRun(Command):
    """Store a new train run from its timetable."""

    wire_name = "load_train_run"
    spec: TrainRunSpec
    actor: str

    def run(self, conn: Connection, ctx: SalesContext) -> Result:
        run_id = adjustments.load_train_run(conn, ctx, self.spec, self.actor)
        run = ctx.cache.for_write(conn, run_id)
        return {
            "run_id": run_id,
            "train": self.spec.train,
            "date": self.spec.date.isoformat(),
            "seats": len(run.inventory.seats),
            "quotas": adjustments.quota_summary(run),
        }


class Adjust(OnRun):
    """Temporary adjustment: move seats between quotas."""

    wire_name = "adjust"
    adjustment: AdjustmentRequest

    def run(self, conn: Connection, ctx: SalesContext) -> Result:
        run_id = self.run_id(conn, ctx)
        return adjustments.adjust_quota(conn, ctx, run_id, self.adjustment, self.actor)


class SetStanding(OnRun):
    """Set a class's standing capacity."""

    wire_name = "standing"
    standing: StandingAdjustmentRequest

    def run(self, conn: Connection, ctx: SalesContext) -> Result:
        run_id = self.run_id(conn, ctx)
        return adjustments.adjust_standing(conn, ctx, run_id, self.standing, self.actor)


class Preallocate(OnRun):
    """Run automatic pre-allocation now."""

    wire_name = "preallocate"
    request: PreallocationRunRequest

    def run(self, conn: Connection, ctx: SalesContext) -> Result:
        run_id = self.run_id(conn, ctx)
        return presale.preallocate(conn, ctx, run_id, self.request.forecast, self.actor)


class Release(OnRun):
    """Give unsold pre-allocated seats back to the common pool now."""

    wire_name = "release"

    def run(self, conn: Connection, ctx: SalesContext) -> Result:
        return presale.release(conn, ctx, self.run_id(conn, ctx), self.actor)


class RegisterDevice(Command):
    """Register a unit (its enrolment code in the answer) or a channel (its token), once."""

    wire_name = "register_device"
    device: DeviceRequest
    actor: str

    def run(self, conn: Connection, ctx: SalesContext) -> Result:
        now = ctx.now()
        answer = devices.register_device(conn, self.device, now, ctx.settings.enrolment_minutes)
        audit.record(
            conn,
            at=now,
            actor=self.actor,
            action="device.register",
            run_id=None,
            reason="device registered",
            detail=self.device.model_dump(mode="json"),
        )
        return answer


class RevokeDevice(Command):
    """Withdraw a device's credential for good."""

    wire_name = "revoke_device"
    device_id: str
    actor: str

    def run(self, conn: Connection, ctx: SalesContext) -> Result:
        answer = devices.revoke_device(conn, self.device_id)
        audit.record(
            conn,
            at=ctx.now(),
            actor=self.actor,
            action="device.revoke",
            run_id=None,
            reason="device revoked",
            detail={"device_id": self.device_id},
        )
        return answer


class Enrol(Command):
    """A unit exchanges its one-time code for its credential (the token's hash)."""

    wire_name = "enrol"
    enrolment: EnrolmentRequest

    def run(self, conn: Connection, ctx: SalesContext) -> Result:
        body = self.enrolment
        return devices.enrol(conn, body.enrolment_code, body.credential_hash, ctx.now())


class UploadPassages(Command):
    """A gate's journal and counts, stored once per passage id; the conflicts found."""

    wire_name = "upload_passages"
    device_id: str
    station: str
    upload: PassageUpload

    def run(self, conn: Connection, ctx: SalesContext) -> Result:
        return passages.record_upload(conn, self.device_id, self.station, self.upload, ctx.now())


# --- emergency selling (TVM keys, seat blocks, offline sales) ----------------


class RegisterUnitKey(Command):
    """A TVM makes ``public_key`` its signing key (the same key again: the same answer)."""

    wire_name = "register_unit_key"
    device_id: str
    station: str
    public_key: str

    def run(self, conn: Connection, ctx: SalesContext) -> Result:
        now = ctx.now()
        answer = unit_keys.register(conn, self.device_id, self.station, self.public_key, now)
        audit.record(
            conn,
            at=now,
            actor=self.device_id,
            action="unit_key.register",
            run_id=None,
            reason="signing key registered",
            detail=answer,
        )
        return answer


class LeaseBlock(OnRun):
    """Reserve seats of the run for a TVM's offline sales."""

    wire_name = "lease_block"
    block: BlockRequest

    def run(self, conn: Connection, ctx: SalesContext) -> Result:
        return leases.lease(conn, ctx, self.run_id(conn, ctx), self.block, self.actor)


class ReturnBlock(OnRun):
    """Give a block's unsold seats back to the run now."""

    wire_name = "return_block"
    block_id: str

    def run(self, conn: Connection, ctx: SalesContext) -> Result:
        run_id = self.run_id(conn, ctx)
        return leases.return_block(conn, ctx, self.block_id, self.actor, run_id)


class UploadBlockSales(Command):
    """A TVM's offline sales from its blocks, taken once per ticket id."""

    wire_name = "upload_block_sales"
    device_id: str
    station: str
    upload: BlockSalesUpload

    def run(self, conn: Connection, ctx: SalesContext) -> Result:
        return block_sales.upload(conn, ctx, self.device_id, self.station, self.upload)


class Chores(Command):
    """One round of housekeeping: expire holds, presale work and blocks due, forget old answers."""

    wire_name = "chores"

    def run(self, conn: Connection, ctx: SalesContext) -> Result:
        expired, done = housekeeping.chores(conn, ctx)
        return {"expired": expired, "done": done}


WIRE_NAMES: dict[str, type[Command]] = {
    kind.wire_name: kind
    for kind in (
        Hold,
        Pay,
        Cancel,
        Refund,
        Change,
        LoadTrainRun,
        Adjust,
        SetStanding,
        Preallocate,
        Release,
        RegisterDevice,
        RevokeDevice,
        Enrol,
        UploadPassages,
        RegisterUnitKey,
        LeaseBlock,
        ReturnBlock,
        UploadBlockSales,
        Chores,
    )
}
