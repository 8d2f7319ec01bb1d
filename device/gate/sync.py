"""The gate's background sync: pull its station's feed, push its journal, watch the clock.

It never delays a decision for long: it runs beside the sides on its own
store connection, reads a page's tokens before it writes anything, and
writes the page in short transactions (``WRITE_CHUNK`` tickets each, the
cursor last), each in its turn on the unit's write lock, a first-come
first-served lock the sides' journal writes take too: a passenger's journal
write waits for one short write at most, never for a whole page (on a
10 M-ticket cache a 2,000-ticket page holds SQLite's write lock for a few
hundred milliseconds, and SQLite's own busy wait is no queue). A crash part
way through a page leaves the cursor before it: the page comes again and
its upserts change nothing twice. A ticket whose token is malformed, names
another ticket, or is signed with a key the page does not publish for its
boarding station is left out and logged. Signatures are not checked here:
every use of the cache checks them (a scan verifies the code scanned, a card
tap the cached token before it admits), so a forged entry admits no one,
and a 100k-ticket delta is not 100k Ed25519 verifications on a small board.
The sync task also copies SQLite's write-ahead log into the store file,
after each page and each round, outside the write turn: no commit of the
unit does it inline. The journal goes up in batches; central dedups by
passage id, so a batch resent after a lost answer counts nothing twice.
When central cannot be reached the gate keeps deciding from its cache, and
sync retries with exponential backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import TypeVar

from device.central_link import CentralLink, CentralRefused, CentralUnreachable, Timed
from device.clock import UnitClock
from device.events import EventLog
from device.gate.checker import AFTER_FACT, OPENS_FACT
from device.profile import SyncSection
from device.store_thread import StoreThread
from offline_store.counters import SlotCount
from offline_store.key_store import HolderTagKey, ScopedRing
from offline_store.passages import Passage, UploadAnswer
from offline_store.store import UnitStore
from offline_store.tickets import Revocation, TicketRecord
from protocol.keys import KeyRing, VerifyKey
from protocol.token import TokenError, read_unverified
from protocol.units import FeedPage, PassageCount, PassageRecord, PassageUpload

FEED_CURSOR = "station_feed"
T = TypeVar("T")
WRITE_CHUNK = 200  # tickets (or revocations) a feed page's write transaction holds at most
log = logging.getLogger(__name__)


@dataclass
class SyncState:
    """What the gate's health says about its link to central."""

    is_online: bool = False
    last_success: dt.datetime | None = None
    last_error: str | None = None
    failures: int = 0
    tickets_loaded: int = 0
    refused_credential: bool = False
    conflicts: list[dict[str, object]] = field(default_factory=list)


class GateSync:
    """Keeps one gate's store in step with central."""

    def __init__(
        self,
        link: CentralLink,
        store: StoreThread,
        station: str,
        settings: SyncSection,
        clock: UnitClock,
        events: EventLog,
        writes: asyncio.Lock,
    ) -> None:
        self.link = link
        self.store = store
        self.station = station
        self.settings = settings
        self.clock = clock
        self.events = events
        self.writes = writes  # the unit's write turn, shared with the sides' journal writes
        self._keys_seen: tuple[list[int], dict[str, str]] | None = None
        self.state = SyncState()
        self.wake = asyncio.Event()  # set to sync at once (maintenance: force a sync)

    async def run(self) -> None:
        """Sync every ``interval_s`` (backing off while central is away) until cancelled."""
        while True:
            delay = await self._round()
            await self.checkpoint()  # offline too: the journal's writes fill the log
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), timeout=delay)
            self.wake.clear()

    async def sync_once(self) -> None:
        """One pull and one push, then the old rows go; raises when central cannot be reached."""
        await self.pull()
        await self.push()
        today = self.clock.now().date()
        await self.store.run(lambda store: forget_old(store, today))

    async def _round(self) -> float:
        try:
            await self.sync_once()
        except CentralUnreachable as exc:
            return self._failed(str(exc))
        except CentralRefused as exc:
            self.state.refused_credential = exc.status == 401
            return self._failed(f"central refused: {exc}")
        was_offline = not self.state.is_online
        self.state = SyncState(True, self.clock.local(), None, 0, self.state.tickets_loaded)
        if was_offline:
            self.events.emit("sync_online", station=self.station)
        return self.settings.interval_s

    def _failed(self, why: str) -> float:
        if self.state.is_online or self.state.failures == 0:
            self.events.emit("sync_offline", station=self.station, error=why)
        self.state.is_online = False
        self.state.last_error = why
        self.state.failures += 1
        return backoff_s(self.state.failures, self.settings.backoff_max_s)

    async def pull(self) -> None:
        """Fetch and store feed pages until central says there is no more."""
        cursor: int = await self.store.run(_feed_cursor)
        while True:
            page, timed = await self.link.feed(self.station, cursor, self.settings.feed_page)
            self._observe_clock(timed, page.central_time)
            loaded = await self._store(page)
            self._note_keys(page)
            self.state.tickets_loaded += loaded
            cursor = page.cursor
            if page.tickets or page.revocations:
                revoked = len(page.revocations)
                self.events.emit("feed_synced", tickets=loaded, revocations=revoked, cursor=cursor)
            if not page.more:
                return

    def _note_keys(self, page: FeedPage) -> None:
        """Say when the keys the gate verifies with change (central rotated, a TVM joined)."""
        keys = sorted(k.key_id for k in page.keys)
        unit_keys = {str(k.key_id): str(k.station) for k in page.unit_keys}
        if (keys, unit_keys) != self._keys_seen:
            self.events.emit("keys_updated", keys=keys, unit_keys=unit_keys)
            self._keys_seen = (keys, unit_keys)

    async def _store(self, page: FeedPage) -> int:
        """Verify the page, then write it step by step, each step in its write turn."""
        # verifying thousands of signatures is work for the sync thread, not the event loop
        writes: PageWrites = await self.store.run(lambda _: page_writes(page))
        for step in writes.steps:
            async with self.writes:
                await self.store.run(step)
        await self.checkpoint()
        return writes.tickets

    async def checkpoint(self) -> None:
        """Copy the write-ahead log into the store file, outside the write turn.

        The unit's connections leave this to the sync task (see
        ``device.gate.unit``); a passive checkpoint lets writers go on.
        """
        await self.store.run(lambda store: store.checkpoint())

    async def push(self) -> None:
        """Upload the journal and counters, batch by batch, and record central's answers."""
        size = self.settings.upload_batch
        while True:
            batch: _Batch = await self.store.run(lambda store: _next_batch(store, size))
            if not batch.passages and not batch.counts:
                return
            await self._upload(batch)
            if len(batch.passages) < size:
                return

    async def _upload(self, batch: _Batch) -> None:
        answer, timed = await self.link.upload(batch.upload)
        self._observe_clock(timed, answer.central_time)
        conflicts = {c.passage_id: c.model_dump(mode="json") for c in answer.conflicts}
        answers = [UploadAnswer(p.passage_id, conflicts.get(p.passage_id)) for p in batch.passages]
        now = self.clock.local()
        async with self.writes:
            await self.store.run(lambda store: _mark(store, answers, batch.counts, now))
        self.events.emit(
            "journal_uploaded",
            passages=len(batch.passages),
            accepted=answer.accepted,
            conflicts=len(conflicts),
        )
        for conflict in conflicts.values():
            self.events.emit("conflict_reported", **conflict)

    def _observe_clock(self, timed: Timed, central_time: dt.datetime) -> None:
        was_skewed = self.clock.is_skewed
        self.clock.observe(timed.clock_offset(central_time))
        if self.clock.is_skewed != was_skewed:
            offset = self.clock.offset
            seconds = None if offset is None else round(offset.total_seconds(), 3)
            self.events.emit("clock_skew", is_skewed=self.clock.is_skewed, offset_s=seconds)


def backoff_s(failures: int, most: float) -> float:
    """Exponential backoff with jitter: 1, 2, 4 ... seconds up to ``most``, each +-25 %."""
    return min(most, 2.0 ** min(failures - 1, 30)) * random.uniform(0.75, 1.25)


KEEP_TICKETS_DAYS = 2  # tickets and revocations of trains that arrived before this are dropped
KEEP_JOURNAL_DAYS = 7  # uploaded passages kept this long: longer than any ticket is valid
PURGE_BATCH = 5000  # rows per round: a purge never holds the store long


def forget_old(store: UnitStore, today: dt.date) -> None:
    """Drop tickets of trains long gone, and passages central has had for a week."""
    before = today - dt.timedelta(days=KEEP_TICKETS_DAYS)
    store.tickets.purge_arrived_before(before, limit=PURGE_BATCH)
    store.revocations.purge_arrived_before(before, limit=PURGE_BATCH)
    cutoff = dt.datetime.combine(today, dt.time(), dt.UTC) - dt.timedelta(days=KEEP_JOURNAL_DAYS)
    store.journal.purge_uploaded_before(cutoff, limit=PURGE_BATCH)


def _feed_cursor(store: UnitStore) -> int:
    return store.cursors.get_int(FEED_CURSOR)


@dataclass(frozen=True)
class PageWrites:
    """A verified feed page as the store writes it: short transactions, the cursor last."""

    steps: list[Callable[[UnitStore], None]]
    tickets: int


def page_writes(page: FeedPage) -> PageWrites:
    """Read the page's tokens and plan its writes (no store is touched here)."""
    published = [(k.key_id, k.public_key) for k in page.keys]
    published += [(k.key_id, k.public_key) for k in page.unit_keys]
    ring = KeyRing(VerifyKey.from_public_hex(key_id, public) for key_id, public in published)
    scoped = ScopedRing(ring, {k.key_id: k.station for k in page.unit_keys})
    records = [record for t in page.tickets if (record := _record(t, scoped)) is not None]
    revocations = [
        Revocation(r.ticket_id, r.reason, r.at, r.arrives_at, r.event_id)  # type: ignore[arg-type]
        for r in page.revocations
    ]
    tag_key = HolderTagKey(page.holder_tag_key_id, bytes.fromhex(page.holder_tag_key))
    steps: list[Callable[[UnitStore], None]] = [partial(_keys, keys=scoped, tag_key=tag_key)]
    steps += [partial(_revocations, chunk=chunk) for chunk in _chunks(revocations)]
    steps += [partial(_tickets, chunk=chunk) for chunk in _chunks(records)]
    steps.append(partial(_cursor, page=page))
    return PageWrites(steps, len(records))


def store_page(store: UnitStore, page: FeedPage) -> int:
    """Store one feed page, its cursor last; how many tickets it held."""
    writes = page_writes(page)
    for step in writes.steps:
        step(store)
    return writes.tickets


def _chunks(items: list[T]) -> list[list[T]]:
    return [items[start : start + WRITE_CHUNK] for start in range(0, len(items), WRITE_CHUNK)]


def _keys(store: UnitStore, keys: ScopedRing, tag_key: HolderTagKey) -> None:
    with store.transaction():
        store.keys.replace_ring(keys.ring, keys.scopes)
        store.keys.set_holder_tag_key(tag_key)


def _revocations(store: UnitStore, chunk: list[Revocation]) -> None:
    store.revocations.record(chunk)


def _tickets(store: UnitStore, chunk: list[TicketRecord]) -> None:
    store.tickets.upsert(chunk)


def _cursor(store: UnitStore, page: FeedPage) -> None:
    with store.transaction():
        store.state.set_fact(OPENS_FACT, page.token_opens_minutes)
        store.state.set_fact(AFTER_FACT, page.token_after_arrival_minutes)
        store.cursors.set(FEED_CURSOR, page.cursor)


def _record(ticket: object, keys: ScopedRing) -> TicketRecord | None:
    """A feed ticket as the cache keeps it, if its token is well formed and agrees with it."""
    try:
        claims, raw = read_unverified(ticket.token)  # type: ignore[attr-defined]
        if claims.ticket_id != ticket.ticket_id:  # type: ignore[attr-defined]
            raise ValueError(f"its token is ticket {claims.ticket_id}'s")
        if keys.ring.get(claims.key_id) is None:
            raise ValueError(f"its key {claims.key_id} is not published")
        if not keys.allows(claims.key_id, claims.from_station):
            raise ValueError(f"key {claims.key_id} signs no ticket from {claims.from_station}")
        return TicketRecord(
            ticket_id=claims.ticket_id,
            train=claims.train,
            service_date=claims.service_date,
            from_station=claims.from_station,
            to_station=claims.to_station,
            departs_at=ticket.departs_at,  # type: ignore[attr-defined]
            arrives_at=ticket.arrives_at,  # type: ignore[attr-defined]
            seat_class=claims.seat_class,
            coach=claims.coach,
            seat=claims.seat,
            token=raw,
            event_id=ticket.event_id,  # type: ignore[attr-defined]
            holder_tag=None if not ticket.holder_tag else bytes.fromhex(ticket.holder_tag),  # type: ignore[attr-defined]
            gate_group=ticket.gate_group or None,  # type: ignore[attr-defined]
        )
    except (TokenError, ValueError) as exc:
        log.error("feed ticket %s left out: %s", getattr(ticket, "ticket_id", "?"), exc)
        return None


@dataclass(frozen=True)
class _Batch:
    passages: list[Passage]
    counts: list[SlotCount]
    upload: PassageUpload


def _next_batch(store: UnitStore, size: int) -> _Batch:
    passages = store.journal.pending(limit=size)
    counts = store.counters.pending(limit=size)
    upload = PassageUpload(
        passages=[_record_of(p) for p in passages],
        counts=[
            PassageCount(
                slot_start=c.slot_start,
                slot_minutes=c.slot_minutes,
                direction=c.direction.value,
                kind=c.kind.value,
                count=c.count,
            )
            for c in counts
        ],
    )
    return _Batch(passages, counts, upload)


def _record_of(passage: Passage) -> PassageRecord:
    return PassageRecord(
        passage_id=passage.passage_id,
        ticket_id=passage.ticket_id,
        direction=passage.direction.value,
        kind=passage.kind.value,
        reason=passage.reason,
        annuls=passage.annuls,
        at=passage.unit_time,
        central_at=passage.central_time,
        mode=passage.mode.value,
        detail=passage.detail,
    )


def _mark(
    store: UnitStore, answers: list[UploadAnswer], counts: list[SlotCount], now: dt.datetime
) -> None:
    store.journal.mark_uploaded(answers, now)
    store.counters.mark_uploaded(counts)
