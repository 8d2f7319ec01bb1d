"""Seat blocks: the operator leases a TVM seats for selling offline, and they go back.

A block is ``seats`` seats of one class on one run for journeys boarding at
the TVM's station. Each block seat is taken as a live sale from that station
to the end of the run (``TrainInventory.reserve``: the station's own quotas
first, the tightest free run, only quotas that allow every stop after the
station), owned by the block: nothing else can sell it, and its segments
before the station stay on sale (seat reuse). The TVM sells from the block
offline; each sale it uploads shortens its seat's block sale to the ticket's
journey (``central.blocks.sales``). At the block's return time (the
housekeeping round) or when the operator says so, every seat still held is
given back: its block sale is released, as a refund would. A block returns
when the train leaves the station at the latest.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, insert, select, update

from central.blocks.keys import current_key
from central.inventory.engine import Placement
from central.operating import audit
from central.romanise import romanised
from central.sales.context import SalesContext
from central.settings import CentralSettings
from central.store import tables as t
from central.store.runs import LoadedRun, bump_version, write_seats
from central.timetable import RunInfo
from protocol.errors import ErrorCode, StationKitError
from protocol.tvm import BlockRequest, BlockSeat, BlockStop, BlockView

RETURNS_PER_ROUND = 50  # blocks a housekeeping round gives back at most


class BlockError(StationKitError):
    """A block request was refused; the code says why."""


def lease(
    conn: Connection, ctx: SalesContext, run_id: int, req: BlockRequest, actor: str
) -> BlockView:
    """Reserve seats for a TVM's offline sales, all or none (audited); the block."""
    now = ctx.now()
    device = _leasable_tvm(conn, req.device_id)
    run = ctx.cache.for_write(conn, run_id)
    board = run.info.stop_index(device.station)
    departs = run.info.departs(board)
    if now >= departs:
        raise BlockError(
            f"train {run.info.spec.train} has left {device.station}", ErrorCode.TOO_LATE
        )
    if req.return_at <= now:
        raise BlockError(f"return_at {req.return_at:%Y-%m-%d %H:%M} is past", ErrorCode.TOO_LATE)
    placements = run.inventory.reserve(req.seat_class, board, req.seats, device.station)
    bump_version(conn, run)
    write_seats(conn, run, [p.seat for p in placements if p.seat is not None])
    block = _store_block(conn, ctx.settings, run, device, req, placements, now)
    block_id = block["block_id"]
    audit.record(
        conn,
        at=now,
        actor=actor,
        action="block.lease",
        run_id=run_id,
        reason=f"{req.seats} {req.seat_class} seats for {req.device_id} at {device.station}",
        detail={"block_id": block_id, "seats": [[p.coach, p.number] for p in placements]},
    )
    return block_view(
        run.info, find_block(conn, block_id), held_seats(conn, block_id), ctx.settings
    )


def return_block(
    conn: Connection, ctx: SalesContext, block_id: str, actor: str, run_id: int | None = None
) -> BlockView:
    """Give a block's unsold seats back to the train now (a returned block: as it is)."""
    block = find_block(conn, block_id)
    if run_id is not None and block.run_id != run_id:
        raise BlockError(f"no block {block_id} on this train run", ErrorCode.UNKNOWN_BLOCK)
    run = ctx.cache.for_write(conn, block.run_id)
    block = find_block(conn, block_id)  # read again under the run's lock
    if block.status == "active":
        _give_back(conn, ctx, run, block, actor)
        block = find_block(conn, block_id)
    return block_view(run.info, block, held_seats(conn, block_id), ctx.settings)


def return_due(conn: Connection, ctx: SalesContext) -> list[str]:
    """Return the blocks whose time has come; what was done, for the housekeeping log."""
    blocks = t.seat_blocks.c
    due = conn.execute(
        select(blocks.block_id)
        .where(blocks.status == "active", blocks.return_at <= ctx.now())
        .order_by(blocks.return_at)
        .limit(RETURNS_PER_ROUND)
    ).scalars()
    done = []
    for block_id in list(due):
        view = return_block(conn, ctx, block_id, "scheduler")
        done.append(f"block {block_id} of {view.train} {view.date} returned")
    return done


def find_block(conn: Connection, block_id: str) -> Any:
    """A block row, or ``unknown_block``."""
    row = conn.execute(select(t.seat_blocks).where(t.seat_blocks.c.block_id == block_id)).first()
    if row is None:
        raise BlockError(f"no block {block_id}", ErrorCode.UNKNOWN_BLOCK)
    return row


def held_seats(conn: Connection, block_id: str) -> list[Any]:
    """The seats a block still holds for sale, in coach and seat order."""
    seats = t.block_seats.c
    query = (
        select(t.block_seats)
        .where(seats.block_id == block_id, seats.status == "held")
        .order_by(seats.coach, seats.number)
    )
    return list(conn.execute(query))


def block_view(info: RunInfo, block: Any, seats: list[Any], settings: CentralSettings) -> BlockView:
    """A block as the TVM keeps it: its seats still held, its stops with fares, its window."""
    board = block.board
    stops = info.spec.stops
    return BlockView(
        block_id=block.block_id,
        device_id=block.device_id,
        train=info.spec.train,
        date=info.spec.date,
        station=block.station,
        station_name=stops[board].name,
        station_pinyin=romanised(stops[board].name).pinyin,
        station_initials=romanised(stops[board].name).initials,
        departs_at=info.departs(board).astimezone(UTC),  # answers give UTC
        seat_class=block.seat_class,
        seats=[BlockSeat(coach=seat.coach, seat=seat.number) for seat in seats],
        stops=[
            BlockStop(
                code=info.codes[stop],
                name=stops[stop].name,
                pinyin=romanised(stops[stop].name).pinyin,
                initials=romanised(stops[stop].name).initials,
                arrives_at=info.arrives(stop).astimezone(UTC),
                price_fen=info.price_fen(block.seat_class, board, stop),
            )
            for stop in range(board + 1, len(stops))
        ],
        return_at=block.return_at,
        status=block.status,
        checkin_opens_minutes=settings.checkin_opens_minutes,
        valid_after_arrival_minutes=settings.valid_after_arrival_minutes,
    )


def _leasable_tvm(conn: Connection, device_id: str) -> Any:
    """An active, enrolled TVM at a station, with a signing key."""
    device = conn.execute(select(t.devices).where(t.devices.c.device_id == device_id)).first()
    if device is None or device.kind != "tvm" or not device.active or device.token_hash is None:
        raise BlockError(f"no enrolled, active TVM {device_id}", ErrorCode.UNKNOWN_DEVICE)
    if current_key(conn, device_id) is None:
        raise BlockError(
            f"TVM {device_id} has registered no signing key: it could not sign block tickets",
            ErrorCode.NO_SIGNING_KEY,
        )
    return device


def _store_block(
    conn: Connection,
    settings: CentralSettings,
    run: LoadedRun,
    device: Any,
    req: BlockRequest,
    placements: list[Placement],
    now: datetime,
) -> dict[str, Any]:
    """Insert the block and its seats; returns the block's row values."""
    board = placements[0].board
    last = len(run.info.codes) - 1
    valid_until = run.info.arrives(last) + timedelta(minutes=settings.valid_after_arrival_minutes)
    block = {
        "block_id": secrets.token_hex(12),
        "run_id": run.run_id,
        "device_id": device.device_id,
        "station": device.station,
        "board": board,
        "seat_class": str(req.seat_class),
        "return_at": min(req.return_at, run.info.departs(board)),
        "valid_until": valid_until,
        "status": "active",
        "created_at": now,
    }
    conn.execute(insert(t.seat_blocks).values(block))
    seats = [
        {
            "block_id": block["block_id"],
            "seat_no": p.seat,
            "coach": p.coach,
            "number": p.number,
            "status": "held",
        }
        for p in placements
    ]
    conn.execute(insert(t.block_seats), seats)
    return block


def _give_back(conn: Connection, ctx: SalesContext, run: LoadedRun, block: Any, actor: str) -> None:
    """Release the block sale of every seat still held; the block is returned (audited)."""
    now = ctx.now()
    seats = held_seats(conn, block.block_id)
    last = len(run.info.codes) - 1
    for seat in seats:
        run.inventory.release_sale(seat.seat_no, block.board, last)
    if seats:
        bump_version(conn, run)
        write_seats(conn, run, [seat.seat_no for seat in seats])
    held = (t.block_seats.c.block_id == block.block_id, t.block_seats.c.status == "held")
    conn.execute(update(t.block_seats).where(*held).values(status="returned"))
    conn.execute(
        update(t.seat_blocks)
        .where(t.seat_blocks.c.block_id == block.block_id)
        .values(status="returned", returned_at=now)
    )
    audit.record(
        conn,
        at=now,
        actor=actor,
        action="block.return",
        run_id=block.run_id,
        reason=f"{len(seats)} unsold seats back to the train",
        detail={"block_id": block.block_id, "seats": [[s.coach, s.number] for s in seats]},
    )
