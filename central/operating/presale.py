"""Pre-allocation runs and releases on stored train runs, by hand or on schedule.

At presale opening (``opens_days_before`` the departure) a run gets its
automatic pre-allocation from the forecast of past sales of the same train
number; at ``release_minutes_before`` departure the unsold pre-allocated
seats go back to the common pool. Both are audited; both can be run by the
operator at any time (with a forecast supplied, or from statistics).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, and_, select, update

from central.inventory.preallocation import (
    OdForecast,
    PreallocationSettings,
    apply_plan,
    apply_release,
    plan_preallocation,
    plan_release,
)
from central.operating import audit
from central.sales.context import SalesContext
from central.store import tables as t
from central.store.runs import LoadedRun, bump_version, write_quotas, write_seats
from protocol.messages import ForecastEntry
from protocol.timetable import TrainRunSpec

HISTORY_RUNS = 28  # past runs of the same train number that feed the forecast
SOLD_STATUSES = ("issued", "refunded", "changed")


def preallocate(
    conn: Connection,
    ctx: SalesContext,
    run_id: int,
    entries: list[ForecastEntry] | None,
    actor: str,
) -> dict[str, Any]:
    """Plan and apply pre-allocation for a run; returns what moved."""
    run = ctx.cache.for_write(conn, run_id)
    forecast, source = _forecast(conn, run, entries)
    settings = PreallocationSettings(share_percent=run.info.spec.preallocation.share_percent)
    plan = plan_preallocation(run.inventory, forecast, settings)
    moves = apply_plan(run.inventory, plan)
    _persist(conn, run, [seat for move in moves for seat in move.seats])
    conn.execute(
        update(t.train_runs)
        .where(t.train_runs.c.run_id == run_id)
        .values(preallocated_at=ctx.now())
    )
    detail = {
        "forecast": source,
        "budgets": [budget.summary for budget in plan.budgets],
        "items": [item.explanation for item in plan.items],
        "moves": [move.summary for move in moves],
    }
    audit.record(
        conn,
        at=ctx.now(),
        actor=actor,
        action="preallocation.run",
        run_id=run_id,
        reason=f"automatic pre-allocation ({settings.share_percent} %)",
        detail=detail,
    )
    return detail


def release(conn: Connection, ctx: SalesContext, run_id: int, actor: str) -> dict[str, Any]:
    """Give unsold pre-allocated seats back to the common pool of their class."""
    run = ctx.cache.for_write(conn, run_id)
    moves = apply_release(run.inventory, plan_release(run.inventory))
    _persist(conn, run, [seat for move in moves for seat in move.seats])
    conn.execute(
        update(t.train_runs).where(t.train_runs.c.run_id == run_id).values(released_at=ctx.now())
    )
    detail = {"moves": [move.summary for move in moves]}
    audit.record(
        conn,
        at=ctx.now(),
        actor=actor,
        action="preallocation.release",
        run_id=run_id,
        reason="release time reached or operator release",
        detail=detail,
    )
    return detail


def run_due(conn: Connection, ctx: SalesContext) -> list[str]:
    """Pre-allocate runs whose presale opened and release runs near departure."""
    now = ctx.now()
    runs = t.train_runs.c
    due_preallocation = select(runs.run_id).where(
        and_(
            runs.preallocated_at.is_(None),
            runs.released_at.is_(None),
            runs.presale_opens_at <= now,
            runs.departs_at > now,
        )
    )
    due_release = select(runs.run_id).where(
        and_(runs.released_at.is_(None), runs.release_at <= now, runs.departs_at > now)
    )
    done = []
    for run_id in conn.execute(due_preallocation).scalars().all():
        if _still_due(conn, ctx, run_id, runs.preallocated_at):
            preallocate(conn, ctx, run_id, None, "scheduler")
            done.append(f"preallocated run {run_id}")
    for run_id in conn.execute(due_release).scalars().all():
        if _still_due(conn, ctx, run_id, runs.released_at):
            release(conn, ctx, run_id, "scheduler")
            done.append(f"released run {run_id}")
    return done


def _still_due(conn: Connection, ctx: SalesContext, run_id: int, done_at: Any) -> bool:
    """Lock the run, then check nobody did the job meanwhile (another server process)."""
    ctx.cache.for_write(conn, run_id)
    return conn.execute(select(done_at).where(t.train_runs.c.run_id == run_id)).scalar() is None


def _persist(conn: Connection, run: LoadedRun, seats: list[int]) -> None:
    bump_version(conn, run, quotas_changed=True)
    write_quotas(conn, run.run_id, run.inventory.quotas())
    write_seats(conn, run, seats)


def _forecast(
    conn: Connection, run: LoadedRun, entries: list[ForecastEntry] | None
) -> tuple[OdForecast, str]:
    """The supplied forecast, or the average of past runs' sales of this train."""
    index = {code: n for n, code in enumerate(run.info.codes)}
    if entries is not None:
        for entry in entries:
            run.info.journey(entry.from_station, entry.to_station)  # refuses a wrong way round
        demand: dict[tuple[str, int, int], int] = {
            (str(e.seat_class), index[e.from_station], index[e.to_station]): e.passengers
            for e in entries
            if e.from_station in index and e.to_station in index
        }
        return OdForecast(demand), "supplied by the operator"
    past = conn.execute(
        select(t.train_runs.c.run_id, t.train_runs.c.spec)
        .where(
            and_(
                t.train_runs.c.train == run.info.spec.train,
                t.train_runs.c.service_date < run.info.spec.date.isoformat(),
            )
        )
        .order_by(t.train_runs.c.service_date.desc())
        .limit(HISTORY_RUNS)
    ).all()
    records = [record for row in past for record in _past_sales(conn, row, index)]
    runs = max(1, len(past))
    return OdForecast.from_sales(records, runs), f"sales of {len(past)} past runs"


def _past_sales(
    conn: Connection, past: Any, index: dict[str, int]
) -> list[tuple[str, int, int, int]]:

    codes = [stop.station for stop in TrainRunSpec.model_validate_json(past.spec).stops]
    rows = conn.execute(
        select(t.tickets.c.seat_class, t.tickets.c.board, t.tickets.c.dest).where(
            and_(t.tickets.c.run_id == past.run_id, t.tickets.c.status.in_(SOLD_STATUSES))
        )
    )
    records = []
    for row in rows:
        board, dest = codes[row.board], codes[row.dest]
        if board in index and dest in index and index[board] < index[dest]:
            records.append((row.seat_class, index[board], index[dest], 1))
    return records
