"""Operator endpoints: timetables, quotas, pre-allocation, adjustments, audit, stats, devices.

Every change is audited with the operator as actor, in the same transaction
as the change; queries answer from the read path.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request, Response

from central.api.access import OPERATOR_ONLY, SELLERS, Routes, caller
from central.api.routes_sales import answer, read, service
from central.writer.commands import (
    Adjust,
    Command,
    LoadTrainRun,
    Preallocate,
    RegisterDevice,
    Release,
    SetStanding,
)
from protocol.fields import ServiceDate, Station, Train
from protocol.messages import (
    AdjustmentRequest,
    AuditRecord,
    DeviceCredential,
    DeviceRequest,
    PreallocationRunRequest,
    SalesStatsResponse,
    StandingAdjustmentRequest,
)
from protocol.timetable import TrainRunSpec
from protocol.units import EnrolmentCode

router = Routes(prefix="/v1")
RUN = "/train-runs/{train}/{date}"


async def operate(request: Request, command: Command, status: int = 200) -> Response:
    """Run an operator command once per Idempotency-Key, answered after commit."""
    who = caller(request)
    return answer(await service(request).mutate(request, who.name, status, command))


@router.post("/train-runs", access=OPERATOR_ONLY, lean=True, errors=(409,), status_code=201)
async def load_train_run(request: Request, body: TrainRunSpec) -> Response:
    """Load a train run from its timetable, every seat free."""
    return await operate(request, LoadTrainRun(spec=body, actor=caller(request).name), 201)


@router.get("/train-runs", access=SELLERS)
async def list_train_runs(request: Request, date: ServiceDate | None = None) -> Response:
    """Loaded runs, optionally of one service date."""
    return await read(request, service(request).reads.train_runs, date)


@router.get(RUN + "/quotas", access=OPERATOR_ONLY, errors=(404,))
async def quotas(request: Request, train: Train, date: ServiceDate) -> Response:
    """The run's quotas with purpose, station, sharing and seats."""
    return await read(request, service(request).reads.quotas, train, date)


@router.get(RUN + "/od-matrix", access=SELLERS, errors=(404,))
async def od_matrix(
    request: Request, train: Train, date: ServiceDate, station: Station | None = None
) -> Response:
    """Seats sellable for every OD pair and class: ``classes[c][a][b]``."""
    return await read(request, service(request).reads.od_matrix, train, date, station)


@router.post(RUN + "/adjustments", access=OPERATOR_ONLY, lean=True, errors=(404, 409))
async def adjust(
    request: Request, train: Train, date: ServiceDate, body: AdjustmentRequest
) -> Response:
    """Temporary adjustment: move seats between quotas (audited)."""
    actor = caller(request).name
    return await operate(request, Adjust(train=train, date=date, actor=actor, adjustment=body))


@router.post(RUN + "/standing", access=OPERATOR_ONLY, lean=True, errors=(404, 409))
async def standing(
    request: Request, train: Train, date: ServiceDate, body: StandingAdjustmentRequest
) -> Response:
    """Set a class's standing capacity (audited)."""
    actor = caller(request).name
    return await operate(request, SetStanding(train=train, date=date, actor=actor, standing=body))


@router.post(RUN + "/preallocation", access=OPERATOR_ONLY, lean=True, errors=(404, 409))
async def preallocation(
    request: Request, train: Train, date: ServiceDate, body: PreallocationRunRequest
) -> Response:
    """Run automatic pre-allocation now (forecast supplied or from past sales)."""
    actor = caller(request).name
    return await operate(request, Preallocate(train=train, date=date, actor=actor, request=body))


@router.post(RUN + "/release", access=OPERATOR_ONLY, lean=True, errors=(404, 409))
async def release(request: Request, train: Train, date: ServiceDate) -> Response:
    """Give unsold pre-allocated seats back to the common pool now."""
    return await operate(request, Release(train=train, date=date, actor=caller(request).name))


@router.get("/audit", access=OPERATOR_ONLY, response_model=list[AuditRecord])
async def audit_trail(
    request: Request, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> Response:
    """The newest audited actions first."""
    return await read(request, service(request).reads.audit, limit)


@router.get("/stats/sales", access=OPERATOR_ONLY, response_model=SalesStatsResponse)
async def stats(
    request: Request,
    date_from: ServiceDate | None = None,
    date_to: ServiceDate | None = None,
    train: Train | None = None,
) -> Response:
    """Sales by hour, station, channel and OD pair; feeds the forecast."""
    return await read(request, service(request).reads.sales_stats, date_from, date_to, train)


@router.post(
    "/devices",
    access=OPERATOR_ONLY,
    lean=True,
    errors=(409,),
    status_code=201,
    response_model=DeviceCredential | EnrolmentCode,  # a channel's token, or a unit's code
)
async def create_device(request: Request, body: DeviceRequest) -> Response:
    """Register a device or channel; its bearer token is in the answer, once."""
    return await operate(request, RegisterDevice(device=body, actor=caller(request).name), 201)
