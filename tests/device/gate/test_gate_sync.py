"""The gate's sync against a central that answers over a real HTTP client (httpx's mock transport).

A good page is stored whole with its cursor; a ticket whose token is
malformed or another ticket's is left out and the rest of the page kept; a
forged one is kept but admits no one (its use verifies it); an answer that is not a
feed page, or a central that is down, makes the gate offline without losing
anything, and the next good round brings it back.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import orjson

from device.central_link import CentralLink
from device.clock import UnitClock
from device.events import EventLog
from device.gate.checker import TicketChecker
from device.gate.rules import CheckinWindow, GateSide
from device.gate.sync import FEED_CURSOR, GateSync
from device.profile import SyncSection
from device.store_thread import StoreThread
from offline_store.connection import StoreSettings
from offline_store.store import UnitStore
from protocol.keys import KeyRing, SigningKey
from protocol.token import TicketClaims, encode_token
from protocol.units import holder_tag

KEY = SigningKey.generate(1)
HOLDER_TAG_KEY = "11" * 32
HOLDER_ID = "110101199001011234"
NOW = dt.datetime(2026, 12, 3, 1, 0, tzinfo=dt.UTC)


def token(ticket_id: str) -> str:
    claims = TicketClaims.for_passenger(
        ticket_id=ticket_id,
        train="G101",
        service_date=dt.date(2026, 12, 3),
        from_station="AAA",
        to_station="CCC",
        seat_class="ZE",
        coach=1,
        seat=3,
        name="张三",
        id_number=HOLDER_ID,
        not_before=NOW,
        not_after=NOW + dt.timedelta(hours=5),
    )
    return encode_token(claims, KEY)


def feed_ticket(event_id: int, ticket_id: str, text: str | None = None) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "ticket_id": ticket_id,
        "token": text or token(ticket_id),
        "train": "G101",
        "date": "2026-12-03",
        "from": "AAA",
        "to": "CCC",
        "departs_at": (NOW + dt.timedelta(hours=2)).isoformat(),
        "arrives_at": (NOW + dt.timedelta(hours=3)).isoformat(),
        "holder_tag": "00" * 16,
        "gate_group": None,
    }


def page(tickets: list[dict[str, Any]], cursor: int, more: bool = False) -> dict[str, Any]:
    ring = KeyRing([KEY.public_key()])
    return {
        "station": "AAA",
        "cursor": cursor,
        "more": more,
        "central_time": NOW.isoformat(),
        "tickets": tickets,
        "revocations": [],
        "keys": [{"key_id": k, "public_key": ring.get(k).public_hex()} for k in ring.key_ids()],  # type: ignore[union-attr]
        "holder_tag_key_id": 1,
        "holder_tag_key": HOLDER_TAG_KEY,
        "token_opens_minutes": 120,
        "token_after_arrival_minutes": 120,
    }


def sync_with(
    tmp_path: Path, answer: Callable[[httpx.Request], httpx.Response]
) -> tuple[GateSync, StoreThread, io.BytesIO]:
    out = io.BytesIO()
    clock = UnitClock(lambda: NOW, dt.timedelta(seconds=30))
    store = StoreThread(tmp_path / "unit.db", StoreSettings(), "sync-test")
    link = CentralLink("http://central", "token", 2.0, transport=httpx.MockTransport(answer))
    sync = GateSync(
        link, store, "AAA", SyncSection(), clock, EventLog(clock.local, out), asyncio.Lock()
    )
    return sync, store, out


def events(out: io.BytesIO) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in out.getvalue().splitlines()]


def test_a_malformed_or_mismatched_ticket_is_left_out_and_the_page_kept(tmp_path: Path) -> None:
    good, borrowed, garbled = "0000000000000001", "0000000000000002", "0000000000000003"
    served = page(
        [
            feed_ticket(1, good),
            feed_ticket(2, borrowed, token(good)),  # another ticket's token
            feed_ticket(3, garbled, "NOT A TOKEN"),
        ],
        cursor=3,
    )
    sync, store, _ = sync_with(tmp_path, lambda _r: httpx.Response(200, json=served))
    try:
        asyncio.run(sync.pull())
        assert store.run_now(lambda s: s.tickets.get(good)) is not None
        assert store.run_now(lambda s: s.tickets.get(borrowed)) is None
        assert store.run_now(lambda s: s.tickets.get(garbled)) is None
        assert store.run_now(lambda s: s.cursors.get_int(FEED_CURSOR)) == 3
    finally:
        asyncio.run(sync.link.close())
        store.close()


def test_a_forged_ticket_the_feed_brings_admits_no_one(tmp_path: Path) -> None:
    """Sync reads tokens without verifying them: a card tap verifies the cached token."""
    forged_id = "0000000000000004"
    forged = token(forged_id)[:-2] + ("00" if not token(forged_id).endswith("00") else "11")
    tag = holder_tag(bytes.fromhex(HOLDER_TAG_KEY), HOLDER_ID)
    served = page([{**feed_ticket(1, forged_id, forged), "holder_tag": tag}], cursor=1)
    sync, store, _ = sync_with(tmp_path, lambda _r: httpx.Response(200, json=served))
    checker = TicketChecker(GateSide("AAA", "entry"), CheckinWindow())
    now = NOW + dt.timedelta(hours=1, minutes=30)
    try:
        asyncio.run(sync.pull())
        assert store.run_now(lambda s: s.tickets.get(forged_id)) is not None
        tapped = store.run_now(lambda s: checker.check_card(s, HOLDER_ID, now))
        assert not tapped.decision.admit
        genuine = store.run_now(lambda s: checker.check_code(s, token(forged_id), now))
        assert genuine.decision.admit  # the same ticket, shown as central signed it
    finally:
        asyncio.run(sync.link.close())
        store.close()


def test_garbage_or_silence_makes_the_gate_offline_and_nothing_is_lost(tmp_path: Path) -> None:
    answers = iter(
        [
            httpx.Response(200, json=page([feed_ticket(1, "0000000000000001")], cursor=1)),
            httpx.Response(200, content=b"{not a page"),
            httpx.Response(503, json={"error": {"code": "store_busy", "message": "later"}}),
            httpx.Response(200, json=page([feed_ticket(2, "0000000000000002")], cursor=2)),
        ]
    )

    def central(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/passages":
            return httpx.Response(
                200,
                json={
                    "accepted": 0,
                    "duplicates": 0,
                    "conflicts": [],
                    "central_time": NOW.isoformat(),
                },
            )
        return next(answers)

    sync, store, out = sync_with(tmp_path, central)

    async def rounds() -> None:
        for _ in range(4):
            await sync._round()

    try:
        asyncio.run(rounds())
        kinds = [e["event"] for e in events(out) if e["event"].startswith("sync_")]
        assert kinds == ["sync_online", "sync_offline", "sync_online"]
        assert store.run_now(lambda s: s.tickets.count()) == 2
        assert store.run_now(lambda s: s.cursors.get_int(FEED_CURSOR)) == 2
    finally:
        asyncio.run(sync.link.close())
        store.close()


def test_an_untouched_store_opens_with_no_cursor(tmp_path: Path) -> None:
    with UnitStore.open(tmp_path / "unit.db") as store:
        assert store.cursors.get_int(FEED_CURSOR) == 0
