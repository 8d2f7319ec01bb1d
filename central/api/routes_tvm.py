"""Endpoints of the TVMs beyond selling: finding a train, signing keys, emergency seat blocks.

Destinations and journeys are public, like availability, and answer from
the read path. A TVM registers the key it signs offline tickets with, reads
its active blocks and uploads what it sold from them offline (each sale
once by its ticket id, so neither POST takes an Idempotency-Key). The
operator leases a block to a TVM and may return it early; both audited and
keyed.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request, Response

from central.api.access import OPERATOR_ONLY, PUBLIC, Access, Routes, caller
from central.api.errors import json_response
from central.api.routes_operator import RUN, operate
from central.api.routes_sales import read, service
from central.writer.commands import LeaseBlock, RegisterUnitKey, ReturnBlock, UploadBlockSales
from protocol.fields import ServiceDate, Station, Train
from protocol.tvm import (
    BlockRef,
    BlockRequest,
    BlockSalesAnswer,
    BlockSalesUpload,
    BlocksResponse,
    BlockView,
    DestinationsResponse,
    JourneysResponse,
    SigningKeyRequest,
    SigningKeyView,
)

router = Routes(prefix="/v1")
TVM_ONLY = Access("a TVM", frozenset({"tvm"}))


@router.get("/stations/{station}/destinations", access=PUBLIC, response_model=DestinationsResponse)
async def destinations(request: Request, station: Station, date: ServiceDate) -> Response:
    """Stations reachable from ``station`` by a run of the service date, by name."""
    return await read(request, service(request).reads.tvm.destinations, station, date)


@router.get("/journeys", access=PUBLIC, response_model=JourneysResponse)
async def journeys(
    request: Request,
    from_station: Annotated[Station, Query(alias="from")],
    to_station: Annotated[Station, Query(alias="to")],
    date: ServiceDate,
    station: Station | None = None,
) -> Response:
    """Every run of the date from ``from`` to ``to``, with seats sellable now and fares."""
    reads = service(request).reads.tvm
    return await read(request, reads.journeys, from_station, to_station, date, station)


@router.post(
    "/units/me/signing-key",
    access=TVM_ONLY,
    keyed=False,
    lean=True,
    errors=(409,),
    response_model=SigningKeyView,
)
async def signing_key(request: Request, body: SigningKeyRequest) -> Response:
    """Register the key this TVM signs offline tickets with; its key id (128..254)."""
    principal = caller(request)
    assert principal.station is not None  # every TVM is registered at a station
    command = RegisterUnitKey(
        device_id=principal.name, station=principal.station, public_key=body.public_key
    )
    found = await service(request).writer.execute(command)
    return json_response(SigningKeyView.model_validate(found).model_dump(mode="json"))


@router.get("/units/me/blocks", access=TVM_ONLY, response_model=BlocksResponse)
async def my_blocks(request: Request) -> Response:
    """This TVM's active blocks, each with the seats it still holds."""
    return await read(request, service(request).reads.tvm.blocks, caller(request).name)


@router.post(
    "/units/me/block-sales",
    access=TVM_ONLY,
    keyed=False,
    lean=True,
    response_model=BlockSalesAnswer,
)
async def block_sales(request: Request, body: BlockSalesUpload) -> Response:
    """What this TVM sold offline from its blocks: issued, duplicate or refused, in order."""
    principal = caller(request)
    assert principal.station is not None
    command = UploadBlockSales(device_id=principal.name, station=principal.station, upload=body)
    found = await service(request).writer.execute(command)
    return json_response(BlockSalesAnswer.model_validate(found).model_dump(mode="json"))


@router.post(
    RUN + "/blocks",
    access=OPERATOR_ONLY,
    lean=True,
    errors=(404, 409),
    status_code=201,
    response_model=BlockView,
)
async def lease_block(
    request: Request, train: Train, date: ServiceDate, body: BlockRequest
) -> Response:
    """Lease seats to a TVM for offline sale at its station (audited)."""
    command = LeaseBlock(train=train, date=date, actor=caller(request).name, block=body)
    return await operate(request, command, 201)


@router.post(
    RUN + "/blocks/{block_id}/return",
    access=OPERATOR_ONLY,
    lean=True,
    errors=(404,),
    response_model=BlockView,
)
async def return_block(
    request: Request, train: Train, date: ServiceDate, block_id: BlockRef
) -> Response:
    """Give a block's unsold seats back to the train now (audited)."""
    actor = caller(request).name
    return await operate(
        request, ReturnBlock(train=train, date=date, actor=actor, block_id=block_id)
    )
