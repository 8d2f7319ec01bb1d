"""The seat inventory engine timed in process: allocation, availability, the OD matrix.

A run of the synthetic timetable (20 stops, 1,000 second-class seats, origin,
station and common quotas) is sold one passenger at a time on random OD
pairs, as the internet channel sells, until it is practically sold out: the
loop stops after ``SOLD_OUT_STREAK`` refusals in a row. Each ``allocate`` is
timed alone with ``perf_counter_ns``, and after it one ``availability`` query
on another random OD pair. The timer's own cost (about 0.1 µs) is included.

``gc.freeze()`` follows the build: a long-running server does the same after
start-up, so the collector stops walking the objects of loaded train runs on
every collection; without it a sample now and then measures the collector.
The timing runs pinned to one CPU, as microbenchmarks usually are, so a
migration between cores does not land in the tail.
"""

from __future__ import annotations

import gc
import os
import random
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field

from bench.workload import run_spec, service_date
from central.inventory import TrainInventory
from central.inventory.errors import SoldOut
from central.timetable import RunInfo

SOLD_OUT_STREAK = 300  # refusals in a row that count as sold out
RUNS = 5  # runs sold out one after the other, each with its own seed
MATRIX_REPEATS = 200
MATRIX_PRESOLD = 1500  # sales made before the matrix is timed, so it is not all-free
SELLER = None  # internet: sells every quota for its own boarding station


@dataclass
class SaleSamples:
    """Nanosecond timings and counts from selling runs out."""

    allocate_ns: list[int] = field(default_factory=list)
    refused_ns: list[int] = field(default_factory=list)
    availability_ns: list[int] = field(default_factory=list)
    fill_percent: list[float] = field(default_factory=list)


def build_inventory(three_classes: bool = False) -> TrainInventory:
    """A freshly loaded run of the synthetic timetable, seats in their initial quotas."""
    info = RunInfo(run_spec(service_date(), three_classes))
    inventory = info.new_inventory()
    for seat, quota_id in enumerate(info.initial_assignment()):
        inventory.load_seat(seat, quota_id)
    return inventory


@contextmanager
def frozen_heap() -> Iterator[None]:
    """Move every live object to the permanent generation, as a server does after start-up."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def od_pairs(stops: int) -> list[tuple[int, int]]:
    """Every journey (a, b) with a < b."""
    return [(a, b) for a in range(stops) for b in range(a + 1, stops)]


def sell_out(inventory: TrainInventory, rng: random.Random, samples: SaleSamples) -> None:
    """Sell one passenger per call on random OD pairs until refusals run ``SOLD_OUT_STREAK``."""
    pairs = od_pairs(len(inventory.stops))
    clock = time.perf_counter_ns
    streak = 0
    while streak < SOLD_OUT_STREAK:
        a, b = rng.choice(pairs)
        start = clock()
        try:
            inventory.allocate("ZE", a, b, 1, SELLER)
        except SoldOut:
            samples.refused_ns.append(clock() - start)
            streak += 1
        else:
            samples.allocate_ns.append(clock() - start)
            streak = 0
        a, b = rng.choice(pairs)
        start = clock()
        inventory.availability("ZE", a, b, SELLER)
        samples.availability_ns.append(clock() - start)
    samples.fill_percent.append(fill_percent(inventory))


def fill_percent(inventory: TrainInventory) -> float:
    """Share of seat-segments taken (sold or blocked by the reuse policy), in percent."""
    segments = len(inventory.stops) - 1
    taken = sum(state.taken.bit_count() for state in inventory.states)
    return 100.0 * taken / (segments * len(inventory.states))


def time_sales(runs: int = RUNS) -> SaleSamples:
    """Sell ``runs`` fresh runs out, each under a frozen heap."""
    samples = SaleSamples()
    for seed in range(runs):
        inventory = build_inventory()
        with frozen_heap():
            sell_out(inventory, random.Random(seed), samples)
    return samples


def time_od_matrix(repeats: int = MATRIX_REPEATS) -> list[int]:
    """Nanoseconds of each full OD matrix (every class) of a partly sold three-class run."""
    inventory = build_inventory(three_classes=True)
    rng = random.Random(42)
    pairs = od_pairs(len(inventory.stops))
    classes = list(inventory.pools_by_class)
    for _ in range(MATRIX_PRESOLD):
        a, b = rng.choice(pairs)
        with suppress(SoldOut):
            inventory.allocate(rng.choice(classes), a, b, 1, SELLER)
    timings: list[int] = []
    with frozen_heap():
        for _ in range(repeats):
            start = time.perf_counter_ns()
            for seat_class in classes:
                inventory.od_matrix(seat_class, SELLER)
            timings.append(time.perf_counter_ns() - start)
    return timings


def percentile(samples: list[int], fraction: float) -> float:
    """Nearest-rank percentile of ``samples``."""
    ordered = sorted(samples)
    rank = max(1, min(len(ordered), round(fraction * len(ordered) + 0.5)))
    return float(ordered[rank - 1])


@contextmanager
def one_cpu() -> Iterator[None]:
    """Pin this process to its last allowed CPU while timing; restore afterwards."""
    allowed = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {max(allowed)})
    try:
        yield
    finally:
        os.sched_setaffinity(0, allowed)


def run() -> dict[str, float]:
    """Every engine figure, as flat result keys."""
    with one_cpu():
        sales = time_sales()
        matrix = time_od_matrix()
    us = 1e-3
    return {
        "central.alloc_p50_us": percentile(sales.allocate_ns, 0.50) * us,
        "central.alloc_p99_us": percentile(sales.allocate_ns, 0.99) * us,
        "central.alloc_max_us": max(sales.allocate_ns) * us,
        "central.alloc_count": float(len(sales.allocate_ns)),
        "central.alloc_refused_p99_us": percentile(sales.refused_ns, 0.99) * us,
        "central.alloc_fill_percent": statistics.mean(sales.fill_percent),
        "central.availability_p50_us": percentile(sales.availability_ns, 0.50) * us,
        "central.availability_p99_us": percentile(sales.availability_ns, 0.99) * us,
        "central.od_matrix_ms": statistics.median(matrix) * 1e-6,
    }
