"""Operator commands on train runs: load timetables, adjust quotas and standing.

Every command here is audited in the same transaction as its effect: who,
when, what and why. Temporary adjustment (席位临时调整) moves seats between
quotas, into a new quota if asked; standing capacity is adjustable too,
which the centralised seat store of old could not do.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from central.inventory import Quota
from central.operating import audit
from central.sales.context import SalesContext
from central.store.runs import (
    LoadedRun,
    bump_version,
    insert_run,
    write_quotas,
    write_seats,
    write_standing,
)
from protocol.errors import ErrorCode, StationKitError
from protocol.messages import AdjustmentRequest, StandingAdjustmentRequest
from protocol.timetable import TrainRunSpec


class OperationError(StationKitError):
    """An operator command was refused; the code says why."""


def load_train_run(conn: Connection, ctx: SalesContext, spec: TrainRunSpec, actor: str) -> int:
    """Store a new train run from its timetable; returns the run id."""
    run_id = insert_run(conn, spec, ctx.now())
    audit.record(
        conn,
        at=ctx.now(),
        actor=actor,
        action="train_run.load",
        run_id=run_id,
        reason="timetable loaded",
        detail={"train": spec.train, "date": spec.date.isoformat(), "stops": len(spec.stops)},
    )
    return run_id


def adjust_quota(
    conn: Connection, ctx: SalesContext, run_id: int, req: AdjustmentRequest, actor: str
) -> dict[str, Any]:
    """Move seats from one quota to another (new or existing), audited."""
    run = ctx.cache.for_write(conn, run_id)
    inventory = run.inventory
    new_quota = _checked_adjustment(run, req)  # everything is checked before anything changes
    if new_quota is not None:
        inventory.add_quota(new_quota)
    moved = inventory.move_seats(req.from_quota, req.to_quota, req.seats)
    _write_quota_change(conn, run, moved)
    detail = {"from_quota": req.from_quota, "to_quota": req.to_quota, "seats": moved}
    audit.record(
        conn,
        at=ctx.now(),
        actor=actor,
        action="quota.adjust",
        run_id=run_id,
        reason=req.reason,
        detail=detail,
    )
    return detail


def adjust_standing(
    conn: Connection, ctx: SalesContext, run_id: int, req: StandingAdjustmentRequest, actor: str
) -> dict[str, Any]:
    """Set a class's standing capacity (never below what is sold), audited."""
    run = ctx.cache.for_write(conn, run_id)
    before = run.inventory.standing_capacity.get(req.seat_class, 0)
    run.inventory.set_standing_capacity(req.seat_class, req.capacity)
    bump_version(conn, run, quotas_changed=True)
    write_standing(conn, run, req.seat_class)
    detail = {"class": req.seat_class, "before": before, "after": req.capacity}
    audit.record(
        conn,
        at=ctx.now(),
        actor=actor,
        action="standing.adjust",
        run_id=run_id,
        reason=req.reason,
        detail=detail,
    )
    return detail


def _checked_adjustment(run: LoadedRun, req: AdjustmentRequest) -> Quota | None:
    """Refuse an adjustment that cannot be done; the new quota to add, if any."""
    inventory = run.inventory
    available = len(inventory.quota_seats(req.from_quota))  # an unknown quota is refused here
    if available < req.seats:
        raise OperationError(
            f"quota {req.from_quota} has {available} seats, {req.seats} asked",
            ErrorCode.NOT_ENOUGH_SEATS,
        )
    target = inventory.pools.get(req.to_quota)
    if target is None and req.new_quota is None:
        raise OperationError(
            f"no quota {req.to_quota!r}: describe it in new_quota", ErrorCode.UNKNOWN_QUOTA
        )
    if target is not None:
        new_quota, target_class = None, target.quota.seat_class
    else:
        assert req.new_quota is not None  # refused just above
        new_quota = run.info.quota(req.new_quota)
        target_class = new_quota.seat_class
    source_class = inventory.pools[req.from_quota].quota.seat_class
    if target_class != source_class:
        raise OperationError(
            f"quota {req.from_quota} holds {source_class} seats, {req.to_quota} {target_class}",
            ErrorCode.UNKNOWN_QUOTA,
        )
    return new_quota


def quota_summary(run: LoadedRun) -> list[dict[str, Any]]:
    """Each quota with its purpose, station, sharing and seat count."""
    inventory, codes = run.inventory, run.info.codes
    summary = []
    for quota in inventory.quotas():
        summary.append(
            {
                "quota": quota.quota_id,
                "class": quota.seat_class,
                "purpose": quota.purpose.value,
                "station": None if quota.board is None else codes[quota.board],
                "min_dest": codes[quota.min_dest] if quota.min_dest else None,
                "share": quota.share.value,
                "sharers": sorted(quota.sharers),
                "seats": len(inventory.quota_seats(quota.quota_id)),
            }
        )
    return summary


def _write_quota_change(conn: Connection, run: LoadedRun, moved: list[int]) -> None:
    bump_version(conn, run, quotas_changed=True)
    write_quotas(conn, run.run_id, run.inventory.quotas())
    write_seats(conn, run, moved)
