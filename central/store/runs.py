"""Train runs in the store, and each process's cache of their inventories.

A process keeps each run's ``TrainInventory`` in memory. Before a command
uses it, the run's row is locked and its ``version`` compared: if another
process sold meanwhile, only the seat and standing rows written since are
read back (``version > cached``); a quota change reloads the run whole.
After a command the touched seats are written with the new version, one row
per seat.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, insert, select, update

from central.inventory import Purpose, Quota, SeatState, ShareMode, TrainInventory
from central.inventory.errors import InventoryError
from central.inventory.geometry import Span
from central.store import fastsql
from central.store import tables as t
from central.timetable import RunInfo
from protocol.errors import ErrorCode
from protocol.timetable import TrainRunSpec


class UnknownTrain(InventoryError):
    """No such train run."""

    code = ErrorCode.UNKNOWN_TRAIN


class TrainExists(InventoryError):
    """The train run was loaded already."""

    code = ErrorCode.TRAIN_EXISTS


@dataclass
class LoadedRun:
    """A run's timetable and inventory as this process last saw them."""

    run_id: int
    info: RunInfo
    inventory: TrainInventory
    version: int
    quota_version: int


def insert_run(conn: Connection, spec: TrainRunSpec, now: datetime) -> int:
    """Store a new train run with all its seats free; returns its run id."""
    if find_run_id(conn, spec.train, spec.date) is not None:
        raise TrainExists(f"train {spec.train} on {spec.date} is loaded already")
    info = RunInfo(spec)
    presale = spec.preallocation
    run_id: int = conn.execute(
        insert(t.train_runs).values(
            train=spec.train,
            service_date=spec.date.isoformat(),
            spec=spec.model_dump_json(by_alias=True),
            departs_at=info.departs(0),
            presale_opens_at=info.departs(0) - timedelta(days=presale.opens_days_before),
            release_at=info.departs(0) - timedelta(minutes=presale.release_minutes_before),
            created_at=now,
        )
    ).inserted_primary_key[0]  # type: ignore[index]
    conn.execute(insert(t.run_versions).values(run_id=run_id, version=0, quota_version=0))
    inventory = info.new_inventory()
    write_quotas(conn, run_id, inventory.quotas())
    assignment = info.initial_assignment()
    rows = [
        _seat_row(run_id, n, seat, quota, SeatState(), 0)
        for n, (seat, quota) in enumerate(zip(inventory.seats, assignment, strict=True))
    ]
    conn.execute(insert(t.seats), rows)
    standing = [
        {
            "run_id": run_id,
            "seat_class": c,
            "capacity": cap,
            "sold": json.dumps([0] * (len(spec.stops) - 1)),
            "version": 0,
        }
        for c, cap in inventory.standing_capacity.items()
    ]
    if standing:
        conn.execute(insert(t.standing), standing)
    return run_id


def find_run_id(conn: Connection, train: str, service_date: date) -> int | None:
    """The run id of a train on a date, if loaded."""
    row = conn.execute(
        select(t.train_runs.c.run_id).where(
            t.train_runs.c.train == train, t.train_runs.c.service_date == service_date.isoformat()
        )
    ).first()
    return None if row is None else int(row[0])


def load_run(conn: Connection, run_id: int) -> LoadedRun:
    """Read a run whole from the store."""
    row = conn.execute(select(t.train_runs).where(t.train_runs.c.run_id == run_id)).first()
    if row is None:
        raise UnknownTrain(f"no train run {run_id}")
    info = RunInfo(TrainRunSpec.model_validate_json(row.spec))
    inventory = info.new_inventory()
    for quota in _read_quotas(conn, run_id):
        if quota.quota_id not in inventory.pools:
            inventory.add_quota(quota)
    versions = fastsql.fetch_one(conn, READ_VERSIONS, {"run_id": run_id})
    if versions is None:
        raise UnknownTrain(f"train run {run_id} has no versions row")
    _apply_seats(conn, run_id, inventory, since=-1)
    _apply_standing(conn, run_id, inventory, since=-1)
    return LoadedRun(run_id, info, inventory, int(versions[0]), int(versions[1]))


def lock_run(conn: Connection, run_id: int) -> tuple[int, int]:
    """Lock a run's versions row for this transaction; returns (version, quota_version)."""
    statement = LOCK_VERSIONS_PG if conn.dialect.name == "postgresql" else READ_VERSIONS
    row = fastsql.fetch_one(conn, statement, {"run_id": run_id})
    if row is None:
        raise UnknownTrain(f"no train run {run_id}")
    return int(row[0]), int(row[1])


def catch_up(conn: Connection, run: LoadedRun, version: int, quota_version: int) -> LoadedRun:
    """Bring a cached run up to the stored version (whole reload on quota changes)."""
    if quota_version != run.quota_version:
        return load_run(conn, run.run_id)
    if version != run.version:
        _apply_seats(conn, run.run_id, run.inventory, since=run.version)
        _apply_standing(conn, run.run_id, run.inventory, since=run.version)
        run.version = version
    return run


READ_VERSIONS = fastsql.Statement(
    "SELECT version, quota_version FROM run_versions WHERE run_id = :run_id"
)
LOCK_VERSIONS_PG = fastsql.Statement(READ_VERSIONS.sql + " FOR UPDATE")
BUMP_VERSION = fastsql.Statement(
    "UPDATE run_versions SET version = :version WHERE run_id = :run_id"
)
WRITE_SEAT = fastsql.Statement(
    "UPDATE seats SET quota_id = :quota_id, sold = :sold, blocked = :blocked,"
    " splits = :splits, journeys = :journeys, version = :version"
    " WHERE run_id = :run_id AND seat_no = :seat_no"
)
TOUCHED_RUNS = "stationkit_touched_runs"  # conn.info key: runs whose version this txn advanced


def bump_version(conn: Connection, run: LoadedRun, quotas_changed: bool = False) -> int:
    """Advance a run's version (once per transaction) before writing what changed.

    Other processes catch up on rows newer than the version they hold, so one
    new version per transaction is enough however many commands it carries.
    """
    touched: set[int] = conn.info.setdefault(TOUCHED_RUNS, set())
    if run.run_id in touched and not quotas_changed:
        return run.version
    touched.add(run.run_id)
    run.version += 1
    values: dict[str, Any] = {"version": run.version}
    if quotas_changed:
        run.quota_version += 1
        values["quota_version"] = run.quota_version
    if quotas_changed:
        conn.execute(
            update(t.run_versions).where(t.run_versions.c.run_id == run.run_id).values(values)
        )
    else:
        fastsql.run(conn, BUMP_VERSION, {"run_id": run.run_id, "version": run.version})
    return run.version


def write_seats(conn: Connection, run: LoadedRun, seat_nos: Iterable[int]) -> None:
    """Write the given seats' state with the run's current version (one row each)."""
    inventory = run.inventory
    rows = [
        {
            "run_id": run.run_id,
            "seat_no": n,
            "quota_id": inventory.quota_of(n),
            "sold": inventory.states[n].sold,
            "blocked": inventory.states[n].blocked,
            "splits": inventory.states[n].splits,
            "journeys": journeys_text(inventory.states[n].journeys),
            "version": run.version,
        }
        for n in sorted(set(seat_nos))
    ]
    if rows:
        fastsql.run_many(conn, WRITE_SEAT, rows)


def write_standing(conn: Connection, run: LoadedRun, seat_class: str) -> None:
    """Write one class's standing capacity and places sold per segment."""
    inventory = run.inventory
    values = {
        "capacity": inventory.standing_capacity.get(seat_class, 0),
        "sold": json.dumps(inventory.standing_sold[seat_class]),
        "version": run.version,
    }
    written = conn.execute(
        update(t.standing)
        .where(t.standing.c.run_id == run.run_id, t.standing.c.seat_class == seat_class)
        .values(values)
    )
    if written.rowcount == 0:  # a class given standing places after the run was loaded
        conn.execute(insert(t.standing).values(run_id=run.run_id, seat_class=seat_class, **values))


def write_quotas(conn: Connection, run_id: int, quotas: list[Quota]) -> None:
    """Replace a run's quota definitions."""
    conn.execute(t.quotas.delete().where(t.quotas.c.run_id == run_id))
    conn.execute(
        insert(t.quotas),
        [
            {
                "run_id": run_id,
                "quota_id": q.quota_id,
                "seat_class": q.seat_class,
                "purpose": q.purpose.value,
                "board": q.board,
                "min_dest": q.min_dest,
                "share_mode": q.share.value,
                "share_group": q.share_group,
                "sharers": json.dumps(sorted(q.sharers)),
                "position": position,
            }
            for position, q in enumerate(quotas)
        ],
    )


def _read_quotas(conn: Connection, run_id: int) -> list[Quota]:
    rows = conn.execute(
        select(t.quotas).where(t.quotas.c.run_id == run_id).order_by(t.quotas.c.position)
    )
    return [
        Quota(
            quota_id=r.quota_id,
            seat_class=r.seat_class,
            purpose=Purpose(r.purpose),
            board=r.board,
            min_dest=r.min_dest,
            share=ShareMode(r.share_mode),
            sharers=frozenset(json.loads(r.sharers)),
            share_group=r.share_group,
        )
        for r in rows
    ]


def _apply_seats(conn: Connection, run_id: int, inventory: TrainInventory, since: int) -> None:
    rows = conn.execute(
        select(t.seats).where(t.seats.c.run_id == run_id, t.seats.c.version > since)
    )
    for r in rows:
        state = SeatState(r.sold, r.blocked, r.splits, read_journeys(r.journeys))
        inventory.load_seat(r.seat_no, r.quota_id, state)


def journeys_text(journeys: tuple[Span, ...]) -> str:
    """A seat's live journeys as the store keeps them: ``"board-dest,..."`` in sale order."""
    return ",".join(f"{a}-{b}" for a, b in journeys)


def read_journeys(text: str) -> tuple[Span, ...]:
    """The journeys ``journeys_text`` wrote."""
    if not text:
        return ()
    pairs = (part.split("-") for part in text.split(","))
    return tuple((int(a), int(b)) for a, b in pairs)


def _apply_standing(conn: Connection, run_id: int, inventory: TrainInventory, since: int) -> None:
    rows = conn.execute(
        select(t.standing).where(t.standing.c.run_id == run_id, t.standing.c.version > since)
    )
    for r in rows:
        inventory.standing_capacity[r.seat_class] = r.capacity
        inventory.load_standing(r.seat_class, json.loads(r.sold))


def _seat_row(
    run_id: int, seat_no: int, seat: Any, quota_id: str, state: SeatState, version: int
) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "seat_no": seat_no,
        "coach": seat.coach,
        "number": seat.number,
        "seat_class": seat.seat_class,
        "quota_id": quota_id,
        "sold": state.sold,
        "blocked": state.blocked,
        "splits": state.splits,
        "journeys": journeys_text(state.journeys),
        "version": version,
    }
