"""Operator endpoints: timetables, quotas, pre-allocation, adjustments, audit, stats, devices.

All need the operator token; every change is audited with the operator as
actor, in the same transaction as the change.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from central import audit
from central.api.auth import AuthError, Principal
from central.api.errors import json_response
from central.api.routes_sales import ERRORS, TrainParam, answer, body_text, service
from central.api.service import OPERATOR_ONLY, CentralService
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
BODY_COMMANDS = frozenset({"adjust", "standing", "preallocate"})  # run commands with a body


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


async def on_run(request: Request, train: str, date: dt.date, command: str) -> Response:
    svc = service(request)
    who = operator(svc, request)
    args = {"train": train, "date": date.isoformat(), "actor": who.name}
    if command in BODY_COMMANDS:
        args["body"] = await body_text(request)
    return answer(await svc.mutate(request, who, 200, command, args))


@router.post("/train-runs", status_code=201, responses=ERRORS)
async def load_train_run(request: Request, body: TrainRunSpec) -> Response:
    svc = service(request)
    who = operator(svc, request)
    args = {"actor": who.name, "body": await body_text(request)}
    return answer(await svc.mutate(request, who, 201, "load_train_run", args))


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
    return json_response(await svc.query("quotas", {"train": train, "date": date.isoformat()}))


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
    args = {"train": train, "date": date.isoformat(), "station": station}
    return json_response(await svc.query("od_matrix", args))


@router.post("/train-runs/{train}/{date}/adjustments", responses=ERRORS)
async def adjust(request: Request, train: str, date: dt.date, body: AdjustmentRequest) -> Response:
    """Temporary adjustment: move seats between quotas (audited)."""
    return await on_run(request, train, date, "adjust")


@router.post("/train-runs/{train}/{date}/standing", responses=ERRORS)
async def standing(
    request: Request, train: str, date: dt.date, body: StandingAdjustmentRequest
) -> Response:
    """Set a class's standing capacity (audited)."""
    return await on_run(request, train, date, "standing")


@router.post("/train-runs/{train}/{date}/preallocation", responses=ERRORS)
async def preallocation(
    request: Request, train: str, date: dt.date, body: PreallocationRunRequest
) -> Response:
    """Run automatic pre-allocation now (forecast supplied or from past sales)."""
    return await on_run(request, train, date, "preallocate")


@router.post("/train-runs/{train}/{date}/release", responses=ERRORS)
async def release(request: Request, train: str, date: dt.date) -> Response:
    """Give unsold pre-allocated seats back to the common pool now."""
    return await on_run(request, train, date, "release")


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

    args = {"actor": who.name, "device": body.model_dump()}
    return answer(await svc.mutate(request, who, 201, "register_device", args))
