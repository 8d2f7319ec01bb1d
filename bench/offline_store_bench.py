"""The offline store under a full station feed: load, size, lookups, anti-passback, journal.

``python -m bench.offline_store_bench [--tickets N]`` loads N synthetic
tickets (default ten million) into a fresh store in a temporary directory on
disk, page by page as the sync task would (records built and checked, one
transaction per feed page with its cursor), then times what the gate's
decision path does, each call alone with ``perf_counter_ns`` and including
the conversion to Python objects: lookup by ticket id and by holder tag
(hits and misses), the anti-passback query, and a durable journal append
(one fsynced transaction each), alone and while the sync task writes pages
beside it. "Cold" lookups run on a fresh connection after the file's pages
were dropped from the operating system's cache (``posix_fadvise``), so they
read the disk (or whatever cache the host keeps under this virtual disk);
"warm" ones repeat the same keys. It writes one JSON object of figures to
stdout; progress goes to stderr.

Tokens are token-shaped bytes (version, key id, ticket id, then random
bytes): the store never verifies signatures, and signing ten million tokens
would time Ed25519 instead of the store.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import math
import os
import random
import resource
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from bench.machine import yardstick_ms
from offline_store import (
    Direction,
    NewPassage,
    PassageKind,
    StoreSettings,
    TicketRecord,
    UnitMode,
    UnitStore,
)
from offline_store.tickets import HOLDER_TAG_BYTES
from protocol.ids import SEAT_CLASS_ORDER, StationCode, TicketId, TrainNumber
from protocol.token import TOKEN_BYTES, TOKEN_VERSION

DEFAULT_TICKETS = 10_000_000
FEED_PAGE = 5000  # the feed's largest page
SAMPLES = 20_000  # lookups per figure
PASSAGES = 100_000  # journaled before the anti-passback figures: a busy gate's few days
APPENDS = 2000  # durable appends timed
TAGGED_SHARE = 0.9  # tickets with a holder tag
TICKETS_PER_HOLDER = 1.25  # holders buy more than one ticket now and then
SALES_DAYS = 15  # the presale period the ticket ids' clock part spans
PREFIX = "offline_store."
_BASE = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
Key = TypeVar("Key")
DECISION_PATH = StoreSettings(wal_autocheckpoint_pages=0)


@dataclass
class Feed:
    """A synthetic station feed, and the keys kept aside to look up later."""

    tickets: int
    rng: random.Random = field(default_factory=lambda: random.Random(20261201))
    sample_ids: list[TicketId] = field(default_factory=list)
    sample_tags: list[bytes] = field(default_factory=list)

    def pages(self) -> Iterator[list[TicketRecord]]:
        """The feed, one page of records at a time."""
        for start in range(0, self.tickets, FEED_PAGE):
            stop = min(start + FEED_PAGE, self.tickets)
            yield [self.record(index) for index in range(start, stop)]

    def record(self, index: int) -> TicketRecord:
        """Ticket ``index`` of the feed (ids in sale order, as central issues them)."""
        rng = self.rng
        clock = index * SALES_DAYS * 86_400 // max(self.tickets, 1) & 0xFFFF
        tid = TicketId(f"{clock:04x}{rng.getrandbits(48):012x}")
        departs = _BASE + dt.timedelta(minutes=rng.randrange(SALES_DAYS * 1440))
        tag = self.holder_tag(rng) if rng.random() < TAGGED_SHARE else None
        self.keep_sample(index, tid, tag)
        return TicketRecord(
            ticket_id=tid, train=TrainNumber(f"G{rng.randrange(1, 400)}"),
            service_date=departs.date(), from_station=StationCode("VNP"),
            to_station=StationCode(rng.choice(_STATIONS)), departs_at=departs,
            arrives_at=departs + dt.timedelta(minutes=rng.randrange(30, 900)),
            seat_class=rng.choice(SEAT_CLASS_ORDER), coach=rng.randrange(1, 17),
            seat=rng.randrange(1, 100), token=_token(rng, tid), event_id=index + 1,
            holder_tag=tag,
        )  # fmt: skip

    def holder_tag(self, rng: random.Random) -> bytes:
        """The tag of a random holder; some holders get several tickets."""
        holder = rng.randrange(int(self.tickets / TICKETS_PER_HOLDER) + 1)
        return hashlib.blake2b(holder.to_bytes(8), digest_size=HOLDER_TAG_BYTES).digest()

    def keep_sample(self, index: int, tid: TicketId, tag: bytes | None) -> None:
        """Keep every k-th ticket's keys, so lookups spread over the whole cache."""
        if index % max(self.tickets // SAMPLES, 1) == 0:
            self.sample_ids.append(tid)
            if tag is not None:
                self.sample_tags.append(tag)


_STATIONS = ["NKH", "AOH", "SHH", "HZH", "JNK", "XAY", "CDW", "WHN", "GZQ", "SZQ"]


def _token(rng: random.Random, tid: str) -> bytes:
    """109 token-shaped bytes: version, key id 1, the ticket id, then random body and signature."""
    return bytes((TOKEN_VERSION, 1)) + bytes.fromhex(tid) + rng.randbytes(TOKEN_BYTES - 10)


def percentiles(samples_ns: list[int], name: str) -> dict[str, float]:
    """p50, p99 (nearest rank) and max of nanosecond timings, in microseconds."""
    ordered = sorted(samples_ns)
    p99 = ordered[max(math.ceil(len(ordered) * 0.99) - 1, 0)]
    return {
        f"{PREFIX}{name}_p50_us": statistics.median(ordered) / 1e3,
        f"{PREFIX}{name}_p99_us": p99 / 1e3,
        f"{PREFIX}{name}_max_us": ordered[-1] / 1e3,
    }


def timed(call: Callable[[Key], object], keys: Sequence[Key]) -> list[int]:
    """The time of ``call(key)`` for each key, in nanoseconds."""
    clock = time.perf_counter_ns
    samples = []
    for key in keys:
        started = clock()
        call(key)
        samples.append(clock() - started)
    return samples


def written_bytes() -> int:
    """Bytes this process has caused to be written to disk so far (Linux), else 0."""
    try:
        lines = Path("/proc/self/io").read_text().splitlines()
    except OSError:
        return 0
    fields = dict(line.split(": ") for line in lines)
    return int(fields.get("write_bytes", 0))


def load(store: UnitStore, feed: Feed) -> dict[str, float]:
    """Load the feed page by page: the rate, the bytes written, the page commits (write lock)."""
    page_ns: list[int] = []
    written = written_bytes()
    started = time.perf_counter()
    for number, page in enumerate(feed.pages(), start=1):
        begun = time.perf_counter_ns()
        with store.transaction():
            store.tickets.upsert(page)
            store.cursors.set("station_feed", page[-1].event_id)
        page_ns.append(time.perf_counter_ns() - begun)
        if number % 200 == 0:
            print(f"  {number * FEED_PAGE:,} tickets loaded", file=sys.stderr)
    elapsed = time.perf_counter() - started
    figures = {
        f"{PREFIX}load_s": elapsed,
        f"{PREFIX}load_tickets_per_s": feed.tickets / elapsed,
        # the log and the checkpoints: several times the file, as random index pages are rewritten
        f"{PREFIX}load_written_bytes_per_ticket": (written_bytes() - written) / feed.tickets,
    }
    return figures | {
        f"{PREFIX}page_write_p50_ms": statistics.median(page_ns) / 1e6,
        f"{PREFIX}page_write_max_ms": max(page_ns) / 1e6,
    }


def sizes(path: Path, tickets: int) -> dict[str, float]:
    """The store's size on disk, in all and per ticket, and its largest B-trees."""
    store_bytes = sum(
        candidate.stat().st_size
        for candidate in (path, path.with_name(path.name + "-wal"))
        if candidate.exists()
    )
    figures = {
        f"{PREFIX}file_bytes": float(store_bytes),
        f"{PREFIX}file_gib": store_bytes / 2**30,
        f"{PREFIX}bytes_per_ticket": store_bytes / max(tickets, 1),
    }
    with UnitStore.open(path) as store:
        rows = store.connection.execute(
            "SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC LIMIT 4"
        ).fetchall()
    return figures | {f"{PREFIX}btree_mib.{name}": size / 2**20 for name, size in rows}


def drop_file_cache(path: Path) -> None:
    """Ask the kernel to forget the file's cached pages, so the next reads go to the disk."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
        os.posix_fadvise(descriptor, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(descriptor)


def lookups(path: Path, feed: Feed) -> dict[str, float]:
    """Ticket-id and holder-tag lookups, hits and misses, cold then warm."""
    rng = random.Random(7)
    id_hits, tag_hits = list(feed.sample_ids), list(feed.sample_tags)
    rng.shuffle(id_hits)
    rng.shuffle(tag_hits)
    id_misses = [TicketId(f"{rng.getrandbits(64):016x}") for _ in id_hits]
    tag_misses = [rng.randbytes(HOLDER_TAG_BYTES) for _ in tag_hits]
    figures: dict[str, float] = {}
    drop_file_cache(path)
    with UnitStore.open(path) as store:
        for phase in ("cold", "warm"):
            figures |= percentiles(timed(store.tickets.get, id_hits), f"get_hit_{phase}")
            figures |= percentiles(timed(store.tickets.get, id_misses), f"get_miss_{phase}")
            figures |= percentiles(
                timed(store.tickets.by_holder_tag, tag_hits), f"holder_hit_{phase}"
            )
            figures |= percentiles(
                timed(store.tickets.by_holder_tag, tag_misses), f"holder_miss_{phase}"
            )
    return figures


def passage(ticket_id: str | None, at: dt.datetime) -> NewPassage:
    """An admitted entry."""
    return NewPassage(
        direction=Direction.ENTRY, kind=PassageKind.ADMITTED, reason="ok", unit_time=at,
        mode=UnitMode.IN_SERVICE, ticket_id=TicketId(ticket_id) if ticket_id else None,
        detail={"lane": 1},
    )  # fmt: skip


def anti_passback(path: Path, feed: Feed, passages: int = PASSAGES) -> dict[str, float]:
    """Journal a few days of passages in pages, then time the anti-passback query."""
    used = feed.sample_ids[: len(feed.sample_ids) // 2]
    unused = feed.sample_ids[len(feed.sample_ids) // 2 :]
    rng = random.Random(11)
    others = [f"{rng.getrandbits(64):016x}" for _ in range(max(passages - len(used), 0))]
    journaled = used + others  # every "used" ticket, and strangers up to ``passages``
    with UnitStore.open(path) as store:
        for start in range(0, len(journaled), 1000):
            with store.transaction():
                for tid in journaled[start : start + 1000]:
                    store.journal.append(passage(tid, _BASE))
        ask = store.journal.has_admitted
        used_ns = timed(lambda tid: ask(tid, Direction.ENTRY), used)
        unused_ns = timed(lambda tid: ask(tid, Direction.ENTRY), unused)
    return percentiles(used_ns, "passback_used") | percentiles(unused_ns, "passback_unused")


def appends(path: Path, feed: Feed, count: int = APPENDS) -> dict[str, float]:
    """Durable journal appends: with SQLite's checkpoints, without, and beside the sync task.

    Without: the decision path's connection leaves checkpoints to the sync
    task (``wal_autocheckpoint_pages = 0``), so no append copies the log.
    """
    ids = feed.sample_ids[:count]
    figures: dict[str, float] = {}
    with UnitStore.open(path) as store:
        figures |= percentiles(timed(lambda tid: append(store, tid), ids), "append")
    with UnitStore.open(path, DECISION_PATH) as store:
        figures |= percentiles(timed(lambda tid: append(store, tid), ids), "append_no_ckpt")
        store.checkpoint()
        with background_sync(path):
            beside = timed(lambda tid: append(store, tid), ids[: max(count // 4, 1)])
    return figures | percentiles(beside, "append_during_sync")


def append(store: UnitStore, ticket_id: str) -> None:
    """One durable admitted entry."""
    store.journal.append(passage(ticket_id, _BASE))


@contextmanager
def background_sync(path: Path) -> Iterator[None]:
    """A thread re-writing a feed page of 1,000 tickets on its own connection, over and over."""
    stop = threading.Event()
    records = list(next(Feed(1000).pages()))

    def write_pages() -> None:
        with UnitStore.open(path) as store:
            while not stop.is_set():
                store.tickets.upsert(records[:1000])

    thread = threading.Thread(target=write_pages, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def purge(path: Path) -> dict[str, float]:
    """Purge the tickets of the first presale day in bounded batches; the rate."""
    cutoff = (_BASE + dt.timedelta(days=1)).date()
    with UnitStore.open(path) as store:
        started, purged = time.perf_counter(), 0
        while (count := store.tickets.purge_arrived_before(cutoff)) > 0:
            purged += count
        elapsed = time.perf_counter() - started
    return {f"{PREFIX}purged": float(purged), f"{PREFIX}purge_per_s": purged / max(elapsed, 1e-9)}


def run(
    tickets: int,
    directory: Path | None = None,
    *,
    passages: int = PASSAGES,
    appends_timed: int = APPENDS,
) -> dict[str, float]:
    """Every figure, from a fresh store in a temporary directory (smaller counts for tests)."""
    # other work on this shared machine shows in the figures: keep the load beside them
    results: dict[str, float] = {
        f"{PREFIX}tickets": float(tickets),
        f"{PREFIX}loadavg_1m_before": os.getloadavg()[0],
        f"{PREFIX}yardstick_ms": yardstick_ms(),
    }
    with tempfile.TemporaryDirectory(dir=directory, prefix="offline-store-bench-") as scratch:
        path = Path(scratch) / "gate.db"
        feed = Feed(tickets)
        print(f"offline store: loading {tickets:,} tickets into {path} ...", file=sys.stderr)
        with UnitStore.open(path) as store:
            results |= load(store, feed)
        results |= sizes(path, tickets)
        print("offline store: lookups, anti-passback, appends, purge ...", file=sys.stderr)
        results |= lookups(path, feed)
        results |= anti_passback(path, feed, passages)
        results |= appends(path, feed, appends_timed)
        results |= purge(path)
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return results | {
        f"{PREFIX}peak_rss_mib": peak_kib / 1024,
        f"{PREFIX}loadavg_1m_after": os.getloadavg()[0],
    }


def main(argv: list[str] | None = None) -> int:
    """The command line: figures as one JSON object on stdout."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.offline_store_bench", description=__doc__
    )
    parser.add_argument("--tickets", type=int, default=DEFAULT_TICKETS)
    parser.add_argument("--dir", type=Path, default=None, help="where the temporary store goes")
    parser.add_argument("--passages", type=int, default=PASSAGES, help="journaled before passback")
    parser.add_argument("--appends", type=int, default=APPENDS, help="durable appends timed")
    args = parser.parse_args(argv)
    figures = run(args.tickets, args.dir, passages=args.passages, appends_timed=args.appends)
    json.dump(figures, sys.stdout, indent=2, sort_keys=True)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
