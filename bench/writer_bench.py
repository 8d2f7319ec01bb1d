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
from functools import partial
from pathlib import Path

from bench.workload import service_date, station_codes, timetable, train_numbers, validated
from central.api.service import LocalCentral
from central.settings import CentralSettings
from central.writer.commands import Hold, LoadTrainRun, Once, perform
from protocol.messages import OrderRequest

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


def hold_all(central: LocalCentral, batch: list[OrderRequest], tag: str) -> float:
    """Submit every hold at once, as the API runs it (once per key); seconds to the last commit."""
    started = time.perf_counter()
    futures = [
        central.writer.submit(
            partial(perform, ctx=central.ctx, command=Hold(order=req), once=_once(f"{tag}{n}"))
        )
        for n, req in enumerate(batch)
    ]
    for future in futures:
        future.result()
    return time.perf_counter() - started


def _once(key: str) -> Once:
    return Once(scope="bench", key=key, fingerprint=key, status=201)


def run() -> dict[str, float]:
    """The writer's holds per second on the benchmark timetable."""
    workdir = Path(tempfile.mkdtemp(prefix="stationkit-writer-bench-"))
    try:
        settings = CentralSettings(
            database_url=f"sqlite:///{workdir / 'central.db'}", keys_dir=str(workdir / "keys")
        )
        central = LocalCentral.open(settings)
        try:
            for spec in validated(timetable(RUNS, service_date())):
                central.writer.execute_now(LoadTrainRun(spec=spec, actor="bench"))
            batch = requests(WARMUP_HOLDS + MEASURED_HOLDS)
            hold_all(central, batch[:WARMUP_HOLDS], "warm")
            seconds = hold_all(central, batch[WARMUP_HOLDS:], "measure")
        finally:
            central.close()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return {"central.writer_holds_per_s": MEASURED_HOLDS / seconds}
