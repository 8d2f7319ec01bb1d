"""Sales through central's writer alone: the store's share of an HTTP sale.

The same 100 runs as the HTTP benchmark are loaded into a fresh durable
SQLite file in this process; then holds of one internet passenger on random
trains and OD pairs are submitted to the writer as fast as it takes them,
exactly as the API does after parsing a request (idempotency record, real-name
check, allocation, order and ticket rows, seat row, group commit). Comparing
this figure with the HTTP one shows what the web layer costs.
"""

from __future__ import annotations

import random
import shutil
import tempfile
import time
from datetime import datetime
from functools import partial
from pathlib import Path

from sqlalchemy import Connection

from bench.workload import service_date, station_codes, timetable, train_numbers, validated
from central import operations
from central.api.service import CentralService
from central.once import StoredAnswer, run_once
from central.sales import orders
from central.settings import CentralSettings
from protocol.messages import OrderRequest
from protocol.timetable import TrainRunSpec

RUNS = 100
WARMUP_HOLDS = 2_000  # loads every run into the writer's cache first
MEASURED_HOLDS = 10_000


def requests(count: int, seed: int = 7) -> list[OrderRequest]:
    """Random one-passenger internet orders, each with its own ID number."""
    rng = random.Random(seed)
    codes, trains, day = station_codes(), train_numbers(RUNS), service_date().isoformat()
    made = []
    for n in range(count):
        a = rng.randrange(len(codes) - 1)
        b = rng.randrange(a + 1, len(codes))
        made.append(
            OrderRequest.model_validate(
                {
                    "train": rng.choice(trains),
                    "date": day,
                    "from": codes[a],
                    "to": codes[b],
                    "class": "ZE",
                    "channel": "internet",
                    "passengers": [{"name": f"W{n}", "id_number": f"W{n:09d}"}],
                }
            )
        )
    return made


def _hold_once(
    svc: CentralService, req: OrderRequest, key: str, now: datetime, conn: Connection
) -> StoredAnswer:
    """One hold as the API runs it: once per idempotency key."""
    return run_once(conn, "bench", key, key, now, 201, partial(orders.hold, ctx=svc.ctx, req=req))


def hold_all(svc: CentralService, batch: list[OrderRequest], tag: str) -> float:
    """Submit every hold at once; seconds until the last is committed."""
    now = svc.now()
    started = time.perf_counter()
    futures = [
        svc.local_writer.submit(partial(_hold_once, svc, req, f"{tag}{n}", now))
        for n, req in enumerate(batch)
    ]
    for future in futures:
        future.result()
    return time.perf_counter() - started


def _load(svc: CentralService, spec: TrainRunSpec, conn: Connection) -> int:
    return operations.load_train_run(conn, svc.ctx, spec, "bench")


def run() -> dict[str, float]:
    """The writer's holds per second on the benchmark timetable."""
    workdir = Path(tempfile.mkdtemp(prefix="stationkit-writer-bench-"))
    try:
        settings = CentralSettings(
            database_url=f"sqlite:///{workdir / 'central.db'}", keys_dir=str(workdir / "keys")
        )
        svc = CentralService.start(settings)
        try:
            for spec in validated(timetable(RUNS, service_date())):
                svc.local_writer.call(partial(_load, svc, spec))
            batch = requests(WARMUP_HOLDS + MEASURED_HOLDS)
            hold_all(svc, batch[:WARMUP_HOLDS], "warm")
            seconds = hold_all(svc, batch[WARMUP_HOLDS:], "measure")
        finally:
            svc.stop()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return {"central.writer_holds_per_s": MEASURED_HOLDS / seconds}
