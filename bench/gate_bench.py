"""The gate's figures: a decision on a 10 M-ticket cache, scan to relay, feed sync, memory, start.

``python -m bench.gate_bench [--tickets N] [--dir D]`` builds (or reuses) a
store of N synthetic tickets in a temporary directory, then measures:

- ``gate.decision_*``: what one QR decision costs the gate's decision thread
  (``TicketChecker.check_code`` with its Ed25519 verify and cache lookups,
  then the durable ``journal.append``), beside ``gate.decision_floor_ms``,
  the median of one Ed25519 verify plus one durable SQLite commit (WAL,
  ``synchronous=FULL``), one floor sample after each decision;
- ``gate.tap_to_relay_*``, ``gate.rss_mb`` and ``gate.cold_start_s``: a real
  gate process on its simulators with its display (``bench.gate_process_bench``);
- ``gate.sync_100k_s``: a 100 k-ticket feed delta of signed tokens in feed
  pages, stored with ``device.gate.sync.store_page`` page by page into the
  cache, beside the same into an empty store and the tokens' verification
  alone; then ``gate.decision_during_sync_*``: decisions made as a side makes
  them (check, then journal in the unit's write turn, on a store thread)
  while the gate's sync task pulls the same delta through ``CentralLink``
  from a mock transport.

Figures come out as one flat JSON object (``gate.*_over_goal`` at most 1.0
meets the goal); progress goes to stderr. The cache is the offline store
bench's synthetic feed (token-shaped tokens, which the cache never
verifies), loaded with its indexes made after the rows, and kept for the
next run beside a ``built.json`` marker; the tickets the bench adds are
signed for real.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import io
import json
import math
import os
import random
import secrets
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from itertools import islice
from pathlib import Path

import base45
import httpx

from bench.gate_process_bench import measure_gate
from bench.machine import yardstick_ms
from bench.offline_store_bench import Feed
from device.central_link import CentralLink
from device.clock import UnitClock, utc_now
from device.events import EventLog
from device.gate.checker import Checked, TicketChecker
from device.gate.rules import CheckinWindow, GateSide
from device.gate.sync import GateSync, store_page
from device.gate.unit import gate_store_settings
from device.profile import GateRulesSection, SyncSection
from device.store_thread import StoreThread
from offline_store import NewPassage, PassageKind, TicketRecord, UnitMode, UnitStore
from offline_store.columns import ticket_key
from offline_store.connection import DEFAULT_SETTINGS
from offline_store.passages import Direction
from offline_store.schema import VERSION_1
from protocol.ids import SEAT_CLASS_ORDER, StationCode, TicketId, TrainNumber, new_ticket_id
from protocol.keys import KeyRing, SigningKey
from protocol.token import TicketClaims, decode_token, encode_token
from protocol.units import FeedPage

PREFIX = "gate."
DEFAULT_TICKETS = 10_000_000
DECISIONS = 2000  # decisions timed, each followed by one floor sample
TAPS = 200  # scans through the running gate
DELTA_TICKETS = 100_000
COLD_STARTS = 3
PASSENGER_GAP_S = 0.05  # between decisions while the sync runs: a busy gate
STATION = StationCode("VNP")  # where the synthetic feed's tickets board
DESTINATION = StationCode("SHH")
KEY_ID = 1
GATE_SETTINGS = gate_store_settings(DEFAULT_SETTINGS)  # the gate's connections, default [store]
CHECKPOINT_EVERY = 200  # decisions between checkpoints (the sync task's, off the timings)
BUILD_PAGES_PER_COMMIT = 40  # 200,000 tickets per transaction while building
BUILD_CACHE_KIB = 512 * 1024
# The build makes these indexes after the rows (one sort, not a random page per ticket),
# with the schema's own statements.
DEFERRED_INDEXES = ("tickets_by_holder", "tickets_by_arrival_day")
Codes = list[tuple[TicketRecord, str]]  # tickets as the cache holds them, and their QR texts


def log(message: str) -> None:
    """Progress, on stderr."""
    print(f"gate bench: {message}", file=sys.stderr, flush=True)


# --- the cache ------------------------------------------------------------------------


def cache_store(tickets: int, directory: Path | None) -> tuple[Path, dict[str, float]]:
    """The bench's own store of ``tickets`` tickets, reused if a previous run built it."""
    folder = Path(directory or tempfile.gettempdir()) / f"stationkit-gate-bench-{tickets}"
    path, marker = folder / "unit.db", folder / "built.json"
    if marker.exists() and path.exists():
        built = json.loads(marker.read_text())
        log(f"reusing the {tickets:,}-ticket store built {built['built']} in {folder}")
        return path, {f"{PREFIX}cache_build_s": built["build_s"], f"{PREFIX}cache_reused": 1.0}
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    log(f"building a {tickets:,}-ticket store in {folder} ...")
    started = time.perf_counter()
    build_cache(path, tickets)
    elapsed = time.perf_counter() - started
    stamp = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    marker.write_text(json.dumps({"tickets": tickets, "build_s": elapsed, "built": stamp}))
    return path, {f"{PREFIX}cache_build_s": elapsed, f"{PREFIX}cache_reused": 0.0}


def build_cache(path: Path, tickets: int) -> None:
    """Load the synthetic feed in large transactions, then make the ticket indexes."""
    with UnitStore.open(path) as store:
        conn = store.connection
        conn.execute("PRAGMA synchronous = OFF")  # a build: a crash means building again
        conn.execute(f"PRAGMA cache_size = -{BUILD_CACHE_KIB}")
        for name in DEFERRED_INDEXES:
            conn.execute(f"DROP INDEX {name}")
        loaded = 0
        for chunk in _chunks(Feed(tickets).pages(), BUILD_PAGES_PER_COMMIT):
            with store.transaction():
                loaded += sum(store.tickets.upsert(page) for page in chunk)
            log(f"  {loaded:,} tickets")
        log("  indexes ...")
        for statement in _deferred_index_statements():
            conn.execute(statement)
        conn.execute("PRAGMA synchronous = FULL")
        store.checkpoint()


def _deferred_index_statements() -> list[str]:
    return [
        statement
        for statement in VERSION_1.statements
        if any(f"INDEX {name} " in statement for name in DEFERRED_INDEXES)
    ]


def _chunks(pages: Iterator[list[TicketRecord]], size: int) -> Iterator[list[list[TicketRecord]]]:
    while chunk := list(islice(pages, size)):
        yield chunk


# --- signed tickets -------------------------------------------------------------------


def signed_tickets(key: SigningKey, count: int, departs: dt.datetime, rng: random.Random) -> Codes:
    """``count`` fresh tickets boarding at ``STATION`` at ``departs``: cache records, QR texts."""
    return [_signed(key, departs, rng, event_id) for event_id in range(1, count + 1)]


def _signed(
    key: SigningKey, departs: dt.datetime, rng: random.Random, event_id: int
) -> tuple[TicketRecord, str]:
    tid, arrives = new_ticket_id(), departs + dt.timedelta(hours=2)
    claims = TicketClaims.for_passenger(
        ticket_id=tid, train="G1", service_date=departs.date(), from_station=STATION,
        to_station=DESTINATION, seat_class=SEAT_CLASS_ORDER[0], coach=rng.randrange(1, 17),
        seat=rng.randrange(1, 100), name="bench", id_number=tid,
        not_before=departs - dt.timedelta(hours=2), not_after=arrives + dt.timedelta(hours=2),
    )  # fmt: skip
    text = encode_token(claims, key)
    record = TicketRecord(
        ticket_id=tid, train=TrainNumber("G1"), service_date=claims.service_date,
        from_station=STATION, to_station=DESTINATION, departs_at=departs, arrives_at=arrives,
        seat_class=claims.seat_class, coach=claims.coach, seat=claims.seat,
        token=base45.b45decode(text), event_id=event_id, holder_tag=rng.randbytes(16),
    )  # fmt: skip
    return record, text


def cache_tickets(path: Path, key: SigningKey, tickets: Codes) -> None:
    """Put ``tickets`` in the cache and ``key`` in the ring, as a sync would have."""
    with UnitStore.open(path) as store, store.transaction():
        store.keys.replace_ring(KeyRing([key.public_key()]))
        store.tickets.upsert(record for record, _ in tickets)


def nearest_rank(samples: list[float], share: float) -> float:
    """The ``share`` percentile of ``samples`` (nearest rank)."""
    ordered = sorted(samples)
    return ordered[max(math.ceil(len(ordered) * share) - 1, 0)]


def spread(samples_s: list[float], name: str) -> dict[str, float]:
    """p50, p99 and max of timings in seconds, in milliseconds."""
    return {
        f"{PREFIX}{name}_p50_ms": statistics.median(samples_s) * 1e3,
        f"{PREFIX}{name}_p99_ms": nearest_rank(samples_s, 0.99) * 1e3,
        f"{PREFIX}{name}_max_ms": max(samples_s) * 1e3,
    }


# --- a decision, and its floor ----------------------------------------------------------


def decision_figures(path: Path, key: SigningKey, count: int) -> dict[str, float]:
    """Decisions on the cache, each followed by one floor sample (verify + durable commit)."""
    now = dt.datetime.now(dt.UTC)
    presented = signed_tickets(key, count, now + dt.timedelta(minutes=30), random.Random(1))
    cache_tickets(path, key, presented)
    checker = entry_checker()
    decisions: list[float] = []
    floor = Floor(path.with_name("floor.db"), key)
    admitted = 0
    with UnitStore.open(path, GATE_SETTINGS) as store, contextlib.closing(floor):
        for number, (_, text) in enumerate(presented, start=1):
            started = time.perf_counter()
            admitted += decide_and_journal(store, checker, text, now)
            decisions.append(time.perf_counter() - started)
            floor.sample()
            if number % CHECKPOINT_EVERY == 0:
                store.checkpoint()  # untimed: the gate's sync task does it, every round
    admitted_share = {f"{PREFIX}decision_admitted_share": admitted / max(count, 1)}
    return spread(decisions, "decision") | floor.figures() | admitted_share


def entry_checker() -> TicketChecker:
    """The checker of an entry side at ``STATION`` with the profile's default window."""
    rules = GateRulesSection()
    window = CheckinWindow(rules.opens_minutes, rules.closes_minutes, rules.exit_grace_minutes)
    return TicketChecker(GateSide(STATION, "entry", None), window)


def decide_and_journal(
    store: UnitStore, checker: TicketChecker, text: str, now: dt.datetime
) -> bool:
    """What the gate's decision thread does for a scan: check, then journal durably."""
    checked = checker.check_code(store, text, now)
    journal(store, checked, now)
    return checked.decision.admit


def journal(store: UnitStore, checked: Checked, now: dt.datetime) -> None:
    """The decision's durable journal row, as a side writes it."""
    decision = checked.decision
    store.journal.append(
        NewPassage(
            direction=Direction.ENTRY,
            kind=PassageKind.ADMITTED if decision.admit else PassageKind.REFUSED,
            reason="ok" if decision.reason is None else decision.reason.value,
            unit_time=now,
            central_time=now,
            mode=UnitMode.IN_SERVICE,
            ticket_id=None if checked.ticket_id is None else TicketId(checked.ticket_id),
            detail={"by": "qr"},
        )
    )


class Floor:
    """One Ed25519 verify and one durable SQLite commit (WAL, ``synchronous=FULL``), timed."""

    def __init__(self, path: Path, key: SigningKey) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode = WAL")
        self.conn.execute("PRAGMA synchronous = FULL")
        self.conn.execute("CREATE TABLE IF NOT EXISTS floor (n INTEGER PRIMARY KEY, at INTEGER)")
        self.body = secrets.token_bytes(45)  # a token's signed part
        self.signature = key.sign(self.body)
        self.verify_key = key.public_key()
        self.verifies: list[float] = []
        self.commits: list[float] = []

    def sample(self) -> None:
        """Time one verify, then one commit of a one-row insert."""
        started = time.perf_counter()
        if not self.verify_key.is_valid_signature(self.signature, self.body):
            raise RuntimeError("the floor's own signature does not verify")
        verified = time.perf_counter()
        self.conn.execute("BEGIN IMMEDIATE")
        self.conn.execute("INSERT INTO floor (at) VALUES (?)", (time.time_ns(),))
        self.conn.execute("COMMIT")
        self.verifies.append(verified - started)
        self.commits.append(time.perf_counter() - verified)

    def figures(self) -> dict[str, float]:
        """The floor (median of the pairs) and its two parts."""
        pairs = [v + c for v, c in zip(self.verifies, self.commits, strict=True)]
        return {
            f"{PREFIX}decision_floor_ms": statistics.median(pairs) * 1e3,
            f"{PREFIX}decision_floor_p99_ms": nearest_rank(pairs, 0.99) * 1e3,
            f"{PREFIX}floor_verify_p50_ms": statistics.median(self.verifies) * 1e3,
            f"{PREFIX}floor_commit_p50_ms": statistics.median(self.commits) * 1e3,
            f"{PREFIX}floor_commit_p99_ms": nearest_rank(self.commits, 0.99) * 1e3,
        }

    def close(self) -> None:
        self.conn.close()


# --- a feed delta ------------------------------------------------------------------------


def sync_figures(path: Path, key: SigningKey, tickets: int) -> dict[str, float]:
    """A feed delta of signed tickets: stored page by page, verified alone, and beside decisions."""
    log(f"signing a {tickets:,}-ticket feed delta ...")
    departs = dt.datetime.now(dt.UTC) + dt.timedelta(hours=3)
    delta = signed_tickets(key, tickets, departs, random.Random(2))
    pages = feed_pages(key, delta, SyncSection().feed_page)
    added = [record.ticket_id for record, _ in delta]
    per_100k = DELTA_TICKETS / tickets
    log("storing it: into an empty store, then into the cache ...")
    with tempfile.TemporaryDirectory(dir=path.parent) as scratch:
        empty_s = apply_pages(Path(scratch) / "empty.db", pages)
    cache_s = apply_pages(path, pages)
    forget(path, added)  # the cache keeps its size from run to run
    log("the same delta through the sync task, beside decisions ...")
    beside = decisions_during_sync(path, key, pages)
    forget(path, added)
    return beside | {
        f"{PREFIX}sync_100k_s": cache_s * per_100k,
        f"{PREFIX}sync_100k_empty_store_s": empty_s * per_100k,
        f"{PREFIX}sync_100k_verify_s": verify_s(key, delta) * per_100k,
        f"{PREFIX}sync_tickets_per_s": tickets / cache_s,
    }


def verify_s(key: SigningKey, delta: Codes) -> float:
    """Seconds to decode and verify every token of the delta, and nothing else."""
    ring = KeyRing([key.public_key()])
    started = time.perf_counter()
    for _, text in delta:
        decode_token(text, ring)
    return time.perf_counter() - started


def feed_pages(key: SigningKey, tickets: Codes, size: int) -> list[FeedPage]:
    """The delta as central's feed pages of ``size`` tickets."""
    keys = [{"key_id": key.key_id, "public_key": key.public_key().public_hex()}]
    pages = []
    for start in range(0, len(tickets), size):
        chunk = tickets[start : start + size]
        body = {
            "station": STATION, "cursor": chunk[-1][0].event_id,
            "more": start + size < len(tickets), "central_time": dt.datetime.now(dt.UTC),
            "tickets": [_feed_ticket(record, text) for record, text in chunk],
            "revocations": [], "keys": keys, "holder_tag_key_id": 1,
            "holder_tag_key": secrets.token_hex(32), "token_opens_minutes": 120,
            "token_after_arrival_minutes": 120,
        }  # fmt: skip
        pages.append(FeedPage.model_validate(body))
    return pages


def _feed_ticket(record: TicketRecord, text: str) -> dict[str, object]:
    return {
        "event_id": record.event_id, "ticket_id": record.ticket_id, "token": text,
        "train": record.train, "date": record.service_date, "from": record.from_station,
        "to": record.to_station, "departs_at": record.departs_at,
        "arrives_at": record.arrives_at, "holder_tag": (record.holder_tag or b"").hex() or None,
    }  # fmt: skip


def apply_pages(path: Path, pages: list[FeedPage]) -> float:
    """Store every page as the sync task does (short transactions, then a checkpoint); seconds."""
    with UnitStore.open(path, GATE_SETTINGS) as store:
        started = time.perf_counter()
        for page in pages:
            store_page(store, page)
            store.checkpoint()  # as the sync task does after each page
        return time.perf_counter() - started


def forget(path: Path, ticket_ids: list[TicketId]) -> None:
    """Delete tickets the bench added, so a reused cache keeps its size."""
    with UnitStore.open(path) as store, store.transaction():
        rows = [(ticket_key(tid),) for tid in ticket_ids]
        store.connection.executemany("DELETE FROM tickets WHERE ticket_id = ?", rows)


def decisions_during_sync(path: Path, key: SigningKey, pages: list[FeedPage]) -> dict[str, float]:
    """Decisions every ``PASSENGER_GAP_S`` while the gate's sync task pulls ``pages``."""
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=30)
    codes = signed_tickets(key, len(pages) * 200, soon, random.Random(4))
    cache_tickets(path, key, codes)
    answers = [page.model_dump_json(by_alias=True).encode() for page in pages]
    samples = asyncio.run(_beside_sync(path, answers, [text for _, text in codes]))
    return spread(samples, "decision_during_sync") | {
        f"{PREFIX}decisions_during_sync": float(len(samples))
    }


async def _beside_sync(path: Path, answers: list[bytes], codes: list[str]) -> list[float]:
    served = iter(answers)
    transport = httpx.MockTransport(lambda _: httpx.Response(200, content=next(served)))
    link = CentralLink("http://central.bench", "bench", 60.0, transport=transport)
    sync_store = StoreThread(path, GATE_SETTINGS, "bench-sync")
    decisions = StoreThread(path, GATE_SETTINGS, "bench-decisions")
    writes = asyncio.Lock()
    clock = UnitClock(utc_now, dt.timedelta(seconds=30))
    sync = GateSync(
        link, sync_store, STATION, SyncSection(), clock, EventLog(utc_now, io.BytesIO()), writes
    )
    try:
        pulling = asyncio.create_task(sync.pull())
        samples = await _decide_until(pulling, decisions, writes, codes)
        await pulling
    finally:
        await link.close()
        sync_store.close()
        decisions.close()
    return samples


async def _decide_until(
    pulling: asyncio.Task[None], decisions: StoreThread, writes: asyncio.Lock, codes: list[str]
) -> list[float]:
    """As a side decides: check on the decision thread, journal in the write turn."""
    checker, now, samples = entry_checker(), dt.datetime.now(dt.UTC), []
    for code in codes:
        if pulling.done():
            break
        started = time.perf_counter()
        checked = await decisions.run(lambda store: checker.check_code(store, code, now))  # noqa: B023
        async with writes:
            await decisions.run(lambda store: journal(store, checked, now))  # noqa: B023
        samples.append(time.perf_counter() - started)
        await asyncio.sleep(PASSENGER_GAP_S)
    return samples


# --- the whole run -------------------------------------------------------------------------


def gate_process_figures(path: Path, key: SigningKey, taps: int, starts: int) -> dict[str, float]:
    """Cold starts, scans to the relay and memory of a gate process with its display."""
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=30)
    tickets = signed_tickets(key, taps, soon, random.Random(3))
    cache_tickets(path, key, tickets)
    codes = [(record.ticket_id, text) for record, text in tickets]
    with tempfile.TemporaryDirectory(prefix="gate-bench-") as folder:
        measured = measure_gate(path, STATION, codes, starts, Path(folder))
    return spread(measured.tap_to_relay_s, "tap_to_relay") | {
        f"{PREFIX}cold_start_s": statistics.median(measured.cold_starts_s),
        f"{PREFIX}cold_start_max_s": max(measured.cold_starts_s),
        f"{PREFIX}rss_started_mb": measured.rss_started_mb,
        f"{PREFIX}rss_mb": measured.rss_mb,
        f"{PREFIX}rss_peak_mb": measured.rss_peak_mb,
    }


def goals(figures: dict[str, float]) -> dict[str, float]:
    """Each headline figure over its goal: at most 1.0 meets it."""
    decision_p99 = figures[f"{PREFIX}decision_p99_ms"]
    floor = figures[f"{PREFIX}decision_floor_ms"]
    return {
        f"{PREFIX}decision_p99_over_goal": decision_p99 / (3 * floor),
        f"{PREFIX}tap_to_relay_p99_over_goal": figures[f"{PREFIX}tap_to_relay_p99_ms"]
        / (2 * decision_p99),
        f"{PREFIX}sync_100k_over_goal": figures[f"{PREFIX}sync_100k_s"] / 1.0,
        f"{PREFIX}rss_over_goal": figures[f"{PREFIX}rss_mb"] / 64,
        f"{PREFIX}cold_start_over_goal": figures[f"{PREFIX}cold_start_s"] / 1.0,
    }


def run(
    tickets: int = DEFAULT_TICKETS,
    directory: Path | None = None,
    *,
    decisions: int = DECISIONS,
    taps: int = TAPS,
    delta: int = DELTA_TICKETS,
    starts: int = COLD_STARTS,
) -> dict[str, float]:
    """Every figure (smaller counts for tests); the cache is built once and then reused."""
    figures: dict[str, float] = {
        f"{PREFIX}loadavg_1m_before": os.getloadavg()[0],
        f"{PREFIX}yardstick_ms": yardstick_ms(),
        f"{PREFIX}cache_tickets": float(tickets),
    }
    path, built = cache_store(tickets, directory)
    key = SigningKey.generate(KEY_ID)
    log(f"{decisions:,} decisions, each with a floor sample ...")
    figures |= built | decision_figures(path, key, decisions)
    log(f"{starts} cold starts, then {taps} scans through a gate process ...")
    figures |= gate_process_figures(path, key, taps, starts)
    figures |= sync_figures(path, key, delta)
    return figures | goals(figures) | {f"{PREFIX}loadavg_1m_after": os.getloadavg()[0]}


def main(argv: list[str] | None = None) -> int:
    """The command line: figures as one JSON object on stdout."""
    parser = argparse.ArgumentParser(prog="python -m bench.gate_bench", description=__doc__)
    parser.add_argument("--tickets", type=int, default=DEFAULT_TICKETS)
    parser.add_argument("--dir", type=Path, default=None, help="where the cache store is kept")
    parser.add_argument("--decisions", type=int, default=DECISIONS)
    parser.add_argument("--taps", type=int, default=TAPS)
    parser.add_argument("--delta", type=int, default=DELTA_TICKETS)
    parser.add_argument("--starts", type=int, default=COLD_STARTS)
    args = parser.parse_args(argv)
    figures = run(
        args.tickets, args.dir, decisions=args.decisions, taps=args.taps, delta=args.delta,
        starts=args.starts,
    )  # fmt: skip
    json.dump(figures, sys.stdout, indent=2, sort_keys=True)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
