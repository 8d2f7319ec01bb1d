"""Feed pages go into the store in short writes, the cursor last, each in the unit's write turn.

A page of a thousand signed tickets is served by a mock transport under the
real ``CentralLink``. While the sync task writes it, a journal write (a
passenger's decision) asks for the unit's write turn: it goes in after one
short write at most, long before the page's last write, and the store then
holds no more than one chunk of the page and not its cursor. A page stored
part way (a crash) leaves the cursor before it; stored again, it changes
nothing twice.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import secrets
from pathlib import Path
from typing import Any

import httpx
import pytest

from device.central_link import CentralLink
from device.clock import UnitClock, utc_now
from device.events import EventLog
from device.gate.sync import FEED_CURSOR, WRITE_CHUNK, GateSync, page_writes, store_page
from device.profile import SyncSection
from device.store_thread import StoreThread
from offline_store import Direction, NewPassage, PassageKind, UnitMode, UnitStore
from offline_store.connection import DEFAULT_SETTINGS
from protocol.ids import new_ticket_id
from protocol.keys import SigningKey
from protocol.token import TicketClaims, encode_token
from protocol.units import FeedPage

pytestmark = pytest.mark.anyio
STATION = "AAA"
KEY = SigningKey.generate(3)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def feed_page(tickets: int, cursor: int = 5000) -> FeedPage:
    """One feed page of ``tickets`` freshly signed tickets boarding at AAA, and one revocation."""
    departs = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(hours=1)
    rows = [feed_ticket(departs, event_id) for event_id in range(1, tickets + 1)]
    revoked = {"event_id": tickets + 1, "ticket_id": new_ticket_id(), "reason": "refunded"}
    body = {
        "station": STATION, "cursor": cursor, "more": False, "central_time": departs,
        "tickets": rows, "keys": [{"key_id": 3, "public_key": KEY.public_key().public_hex()}],
        "revocations": [{**revoked, "at": departs, "arrives_at": departs}],
        "holder_tag_key_id": 1, "holder_tag_key": secrets.token_hex(32),
        "token_opens_minutes": 120, "token_after_arrival_minutes": 120,
    }  # fmt: skip
    return FeedPage.model_validate(body)


def feed_ticket(departs: dt.datetime, event_id: int) -> dict[str, Any]:
    tid, arrives = new_ticket_id(), departs + dt.timedelta(hours=1)
    claims = TicketClaims.for_passenger(
        ticket_id=tid, train="G7", service_date=departs.date(), from_station=STATION,
        to_station="CCC", seat_class="ZE", coach=1, seat=event_id % 90 + 1, name="乘客",
        id_number=tid, not_before=departs - dt.timedelta(hours=2),
        not_after=arrives + dt.timedelta(hours=2),
    )  # fmt: skip
    return {
        "event_id": event_id, "ticket_id": tid, "token": encode_token(claims, KEY),
        "train": "G7", "date": departs.date(), "from": STATION, "to": "CCC",
        "departs_at": departs, "arrives_at": arrives,
    }  # fmt: skip


def stored(store: UnitStore, page: FeedPage) -> tuple[int, int]:
    """How many of the page's tickets the store holds, and its feed cursor."""
    held = sum(store.tickets.get(t.ticket_id) is not None for t in page.tickets)
    return held, store.cursors.get_int(FEED_CURSOR)


def test_a_page_stored_part_way_comes_again_and_changes_nothing_twice(tmp_path: Path) -> None:
    page = feed_page(WRITE_CHUNK * 2 + 50)
    with UnitStore.open(tmp_path / "unit.db") as store:
        for step in page_writes(page).steps[:-2]:  # the crash: before the last chunk and cursor
            step(store)
        assert stored(store, page) == (WRITE_CHUNK * 2, 0)
        assert store_page(store, page) == len(page.tickets)
        assert store_page(store, page) == len(page.tickets)
        assert stored(store, page) == (len(page.tickets), page.cursor)
        assert store.tickets.count() == len(page.tickets)
        assert store.revocations.get(page.revocations[0].ticket_id) is not None
        assert store.keys.ring().key_ids() == [3]


async def test_a_journal_write_waits_for_one_short_write_not_a_page(tmp_path: Path) -> None:
    page = feed_page(WRITE_CHUNK * 5)
    answer = page.model_dump_json(by_alias=True).encode()
    transport = httpx.MockTransport(lambda _: httpx.Response(200, content=answer))
    link = CentralLink("http://central.test", "secret", 5.0, transport=transport)
    sync_store = StoreThread(tmp_path / "unit.db", DEFAULT_SETTINGS, "test-sync")
    decisions = StoreThread(tmp_path / "unit.db", DEFAULT_SETTINGS, "test-decisions")
    writes = asyncio.Lock()
    clock = UnitClock(utc_now, dt.timedelta(seconds=30))
    events = EventLog(clock.local, io.BytesIO())
    sync = GateSync(link, sync_store, STATION, SyncSection(), clock, events, writes)
    try:
        pulling = asyncio.create_task(sync.pull())
        while not writes.locked():  # the sync task is writing the page
            await asyncio.sleep(0.001)
        async with writes:
            held, cursor = await decisions.run(lambda store: journal_and_look(store, page))
        assert held <= WRITE_CHUNK and cursor == 0  # in before the page's other writes
        await pulling
        assert await decisions.run(lambda store: stored(store, page)) == (WRITE_CHUNK * 5, 5000)
    finally:
        await link.close()
        sync_store.close()
        decisions.close()


def journal_and_look(store: UnitStore, page: FeedPage) -> tuple[int, int]:
    """A passenger's journal write, then what the store holds of the page."""
    now = dt.datetime.now(dt.UTC)
    store.journal.append(
        NewPassage(Direction.ENTRY, PassageKind.REFUSED, "malformed", now, UnitMode.IN_SERVICE)
    )
    return stored(store, page)
