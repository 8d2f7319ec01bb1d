"""Endpoints of the units (gates, TVMs): enrolment, who-am-I, the gate feed, passages.

Also the operator's side of them: listing and revoking devices, and the
anomalies gates' uploads revealed. A unit enrols without a credential (its
one-time code is the proof), then calls with the bearer token it made.
"""

from __future__ import annotations

import gzip
from typing import Annotated

import orjson
from fastapi import Query, Request, Response
from starlette.concurrency import run_in_threadpool

from central.api.access import (
    GATE_ONLY,
    GATES,
    OPERATOR_ONLY,
    PUBLIC,
    UNITS,
    Authenticator,
    AuthError,
    Routes,
    caller,
)
from central.api.errors import json_response
from central.api.routes_sales import answer, read, service
from central.gates.feed import MAX_PAGE
from central.writer.commands import Enrol, RevokeDevice, UploadPassages
from protocol.errors import ErrorCode
from protocol.fields import MAX_FEED_CURSOR, DeviceId, ServiceDate, Station
from protocol.units import (
    AnomalyView,
    DeviceView,
    EnrolmentRequest,
    FeedPage,
    PassageAnswer,
    PassageUpload,
    UnitProfile,
)

router = Routes(prefix="/v1")
GZIP_FROM_BYTES = 1024  # below this, compressing costs more than it saves


@router.post(
    "/enrolments",
    access=PUBLIC,
    keyed=False,
    lean=True,
    errors=(404, 409),
    response_model=UnitProfile,
)
async def enrol(request: Request, body: EnrolmentRequest) -> Response:
    """Exchange a one-time enrolment code for a credential (send the token's SHA-256 only)."""
    profile = await service(request).writer.execute(Enrol(enrolment=body))
    return json_response(UnitProfile.model_validate(profile).model_dump(mode="json"))


@router.get("/units/me", access=UNITS, response_model=UnitProfile)
async def me(request: Request) -> Response:
    """The calling unit as central knows it, and central's time."""
    return await read(request, service(request).reads.unit, caller(request).name)


@router.get("/devices", access=OPERATOR_ONLY, response_model=list[DeviceView])
async def devices(request: Request) -> Response:
    """Every registered device and channel."""
    return await read(request, service(request).reads.devices)


@router.post("/devices/{device_id}/revoke", access=OPERATOR_ONLY, errors=(404,))
async def revoke(request: Request, device_id: DeviceId) -> Response:
    """Withdraw a device's credential for good (audited); it answers 401 from then on."""
    who = caller(request)
    command = RevokeDevice(device_id=device_id, actor=who.name)
    stored = await service(request).mutate(request, who.name, 200, command)
    authenticator: Authenticator = request.app.state.authenticator
    authenticator.forget(device_id)  # this process refuses the token from now on
    return answer(stored)


@router.get("/stations/{station}/feed", access=GATES, response_model=FeedPage)
async def station_feed(
    request: Request,
    station: Station,
    cursor: Annotated[int, Query(ge=0, le=MAX_FEED_CURSOR)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1000,
) -> Response:
    """The station's tickets, revocations and keys after ``cursor`` (gzip when accepted)."""
    principal = caller(request)
    if not principal.is_operator and principal.station != station:
        raise AuthError(
            f"gate {principal.name} belongs to {principal.station}", ErrorCode.FORBIDDEN
        )
    page = await run_in_threadpool(service(request).reads.station_feed, station, cursor, limit)
    return _compressed(request, orjson.dumps(page))


def _compressed(request: Request, body: bytes) -> Response:
    headers = {"Vary": "Accept-Encoding"}
    if len(body) >= GZIP_FROM_BYTES and accepts_gzip(request.headers.get("accept-encoding", "")):
        body = gzip.compress(body, compresslevel=6)
        headers["Content-Encoding"] = "gzip"
    return Response(body, media_type="application/json", headers=headers)


def accepts_gzip(accept_encoding: str) -> bool:
    """True when an Accept-Encoding header names gzip with a weight above 0 (RFC 9110)."""
    for item in accept_encoding.split(","):
        coding, *params = (part.strip() for part in item.split(";"))
        if coding.lower() == "gzip":
            return _weight(params) > 0
    return False


def _weight(params: list[str]) -> float:
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                return float(value)
            except ValueError:
                return 0.0
    return 1.0


@router.post("/passages", access=GATE_ONLY, keyed=False, lean=True, response_model=PassageAnswer)
async def upload_passages(request: Request, body: PassageUpload) -> Response:
    """A gate's journal and counts; passages central has already change nothing."""
    principal = caller(request)
    assert principal.station is not None  # every gate is registered at a station
    command = UploadPassages(device_id=principal.name, station=principal.station, upload=body)
    found = await service(request).writer.execute(command)
    return json_response(PassageAnswer.model_validate(found).model_dump(mode="json"))


@router.get("/anomalies", access=OPERATOR_ONLY, response_model=list[AnomalyView])
async def anomalies(
    request: Request, date: ServiceDate, station: Station | None = None
) -> Response:
    """Anomalies of one day (report time zone), of one station or all."""
    return await read(request, service(request).reads.anomalies, station, date)
