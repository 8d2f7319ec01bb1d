"""Operator endpoints: timetables, quotas, pre-allocation, adjustments, audit, stats, devices.

All need the operator token; every change is audited with the operator as
actor, in the same transaction as the change.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection, select

from central import audit, operations, presale
from central.api.auth import AuthError, Principal, register_device
from central.api.errors import json_response
from central.api.routes_sales import ERRORS, TrainParam, answer, service
from central.api.service import OPERATOR_ONLY, CentralService
from central.sales.context import SalesContext
from central.stats import sales_stats
from central.store import tables as t
from protocol.errors import ErrorCode
from protocol.messages import (
    AdjustmentRequest,
    AuditRecord,
    PreallocationRunRequest,
    SalesStatsResponse,
    StandingAdjustmentRequest,
)
from protocol.timetable import TrainRunSpec

router = APIRouter(prefix="/v1")


class DeviceRequest(BaseModel):
    """Register a device or selling channel (a TVM, a gate, a ticket window ...)."""

    model_config = ConfigDict(extra="forbid")
    device_id: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    kind: str = Field(pattern=r"^(tvm|gate|window|agent|phone|internet|sms)$")
    station: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")


def operator(svc: CentralService, request: Request) -> Principal:
    """The operator, or 403."""
    principal = svc.principal(request)
    if not principal.is_operator:
        raise AuthError(OPERATOR_ONLY, ErrorCode.FORBIDDEN)
    return principal


def run_id_of(svc: CentralService, conn: Connection, train: str, date: dt.date) -> int:
    """A run id inside a writer command."""
    return svc.ctx.cache.run_id(conn, train, date)


RunAction = Callable[[Connection, SalesContext, int, str], object]


async def on_run(request: Request, train: str, date: dt.date, action: RunAction) -> Response:
    """Run an audited operator command on one train run, once per Idempotency-Key."""
    svc = service(request)
    who = operator(svc, request)
    stored = await svc.mutate(
        request,
        who,
        200,
        lambda conn: action(conn, svc.ctx, run_id_of(svc, conn, train, date), who.name),
    )
    return answer(stored)


@router.post("/train-runs", status_code=201, responses=ERRORS)
async def load_train_run(request: Request, body: TrainRunSpec) -> Response:
    """Load one train run's timetable, seats, quotas, fares and policies."""
    svc = service(request)
    who = operator(svc, request)

    def command(conn: Connection) -> dict[str, object]:
        run_id = operations.load_train_run(conn, svc.ctx, body, who.name)
        run = svc.ctx.cache.for_write(conn, run_id)
        return {
            "run_id": run_id,
            "train": body.train,
            "date": body.date.isoformat(),
            "seats": len(run.inventory.seats),
            "quotas": operations.quota_summary(run),
        }

    return answer(await svc.mutate(request, who, 201, command))


@router.get("/train-runs", responses=ERRORS)
async def list_train_runs(request: Request, date: dt.date | None = None) -> Response:
    """Loaded runs, optionally of one service date."""
    svc = service(request)
    svc.principal(request)
    query = select(
        t.train_runs.c.run_id,
        t.train_runs.c.train,
        t.train_runs.c.service_date,
        t.train_runs.c.departs_at,
    ).order_by(t.train_runs.c.departs_at)
    if date is not None:
        query = query.where(t.train_runs.c.service_date == date.isoformat())
    with svc.engine.connect().execution_options(read_only=True) as conn:
        rows = conn.execute(query).all()
    return json_response(
        {
            "runs": [
                {
                    "run_id": r.run_id,
                    "train": r.train,
                    "date": r.service_date,
                    "departs_at": r.departs_at.isoformat(),
                }
                for r in rows
            ]
        }
    )


@router.get("/train-runs/{train}/{date}/quotas", responses=ERRORS)
async def quotas(request: Request, train: str, date: dt.date) -> Response:
    """The run's quotas with purpose, station, sharing and seats."""
    svc = service(request)
    operator(svc, request)
    run = await svc.writer.run(
        lambda conn: svc.ctx.cache.for_write(conn, run_id_of(svc, conn, train, date))
    )
    with svc.ctx.cache.lock:
        return json_response({"quotas": operations.quota_summary(run)})


@router.get("/train-runs/{train}/{date}/od-matrix", responses=ERRORS)
async def od_matrix(
    request: Request,
    train: str,
    date: dt.date,
    station: Annotated[str | None, Query(pattern=r"^[A-Z]{3}$")] = None,
) -> Response:
    """Seats sellable for every OD pair and class: ``classes[c][a][b]``."""
    svc = service(request)
    svc.principal(request)
    run = await svc.writer.run(
        lambda conn: svc.ctx.cache.for_write(conn, run_id_of(svc, conn, train, date))
    )
    with svc.ctx.cache.lock:
        matrix = {str(c): run.inventory.od_matrix(c, station) for c in run.info.seat_classes()}
    return json_response({"stops": run.info.codes, "classes": matrix})


@router.post("/train-runs/{train}/{date}/adjustments", responses=ERRORS)
async def adjust(request: Request, train: str, date: dt.date, body: AdjustmentRequest) -> Response:
    """Temporary adjustment: move seats between quotas (audited)."""
    return await on_run(
        request,
        train,
        date,
        lambda conn, ctx, run_id, actor: operations.adjust_quota(conn, ctx, run_id, body, actor),
    )


@router.post("/train-runs/{train}/{date}/standing", responses=ERRORS)
async def standing(
    request: Request, train: str, date: dt.date, body: StandingAdjustmentRequest
) -> Response:
    """Set a class's standing capacity (audited)."""
    return await on_run(
        request,
        train,
        date,
        lambda conn, ctx, run_id, actor: operations.adjust_standing(conn, ctx, run_id, body, actor),
    )


@router.post("/train-runs/{train}/{date}/preallocation", responses=ERRORS)
async def preallocation(
    request: Request, train: str, date: dt.date, body: PreallocationRunRequest
) -> Response:
    """Run automatic pre-allocation now (forecast supplied or from past sales)."""
    return await on_run(
        request,
        train,
        date,
        lambda conn, ctx, run_id, actor: presale.preallocate(
            conn, ctx, run_id, body.forecast, actor
        ),
    )


@router.post("/train-runs/{train}/{date}/release", responses=ERRORS)
async def release(request: Request, train: str, date: dt.date) -> Response:
    """Give unsold pre-allocated seats back to the common pool now."""
    return await on_run(request, train, date, presale.release)


@router.get("/audit", response_model=list[AuditRecord], responses=ERRORS)
async def audit_trail(
    request: Request, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> Response:
    """The newest audited actions first."""
    svc = service(request)
    operator(svc, request)
    with svc.engine.connect().execution_options(read_only=True) as conn:
        records = audit.recent(conn, limit)
    return json_response([r.model_dump(mode="json") for r in records])


@router.get("/stats/sales", response_model=SalesStatsResponse, responses=ERRORS)
async def stats(
    request: Request,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    train: TrainParam | None = None,
) -> Response:
    """Sales by hour, station, channel and OD pair; feeds the forecast."""
    svc = service(request)
    operator(svc, request)
    with svc.engine.connect().execution_options(read_only=True) as conn:
        result = sales_stats(conn, date_from, date_to, train)
    return json_response(result.model_dump(mode="json"))


@router.post("/devices", status_code=201, responses=ERRORS)
async def create_device(request: Request, body: DeviceRequest) -> Response:
    """Register a device or channel; its bearer token is in the answer, once."""
    svc = service(request)
    who = operator(svc, request)

    def command(conn: Connection) -> dict[str, Any]:
        token = register_device(conn, body.device_id, body.kind, body.station, svc.now())
        audit.record(
            conn,
            at=svc.now(),
            actor=who.name,
            action="device.register",
            run_id=None,
            reason="device registered",
            detail=body.model_dump(),
        )
        return {"device_id": body.device_id, "token": token}

    return answer(await svc.mutate(request, who, 201, command))
