"""The station feed gates cache, through the HTTP API on both stores.

A page holds the tickets that board or alight at the station, with tokens
that verify with the page's keys and holder tags a gate can compute from an
ID card; the revocations (refunds, changes) with their reason and the
ticket's arrival; the keys (all of them, across a rotation) and the window
settings a gate needs to read a token alone. Pages follow a cursor; a new
gate catches up from zero page by page; old tickets are left out.
"""

from __future__ import annotations

import gzip
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from conftest import Api, FakeClock, device_token
from units_fixtures import (
    DAY,
    TRAIN,
    arrival,
    as_unit,
    departure,
    id_number,
    load_small_run,
    sell,
    service_of,
)

from central.settings import CentralSettings
from protocol.keys import KeyRing, VerifyKey
from protocol.token import decode_token, peek_key_id
from protocol.units import holder_tag

OPENS_MINUTES = 90  # not the defaults, so the page is seen to follow the settings
AFTER_ARRIVAL_MINUTES = 30
HISTORY_HOURS = 2


@pytest.fixture
def history_hours() -> int:
    return HISTORY_HOURS


@pytest.fixture
def settings(settings: CentralSettings, history_hours: int) -> CentralSettings:
    return settings.model_copy(
        update={
            "checkin_opens_minutes": OPENS_MINUTES,
            "valid_after_arrival_minutes": AFTER_ARRIVAL_MINUTES,
            "feed_history_hours": history_hours,
        }
    )


@pytest.fixture
def gate_api(api: Api) -> Api:
    load_small_run(api)
    return api


def page(api: Api, station: str, cursor: int = 0, limit: int | None = None) -> dict[str, Any]:
    params: dict[str, Any] = {"cursor": cursor}
    if limit is not None:
        params["limit"] = limit
    response = api.get(f"/v1/stations/{station}/feed", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def ring(feed: dict[str, Any]) -> KeyRing:
    return KeyRing(VerifyKey.from_public_hex(k["key_id"], k["public_key"]) for k in feed["keys"])


def ticket_ids(feed: dict[str, Any]) -> list[str]:
    return [t["ticket_id"] for t in feed["tickets"]]


def test_tickets_that_board_or_alight_here_come_with_verifiable_tokens_and_times(
    gate_api: Api, clock: FakeClock
) -> None:
    passing = sell(gate_api, "AAA", "CCC", id_number(1))  # passes BBB without stopping there
    boarding = sell(gate_api, "BBB", "DDD", id_number(2))
    alighting = sell(gate_api, "AAA", "BBB", id_number(3))
    feed = page(gate_api, "BBB")
    assert (feed["station"], feed["more"], feed["revocations"]) == ("BBB", False, [])
    assert datetime.fromisoformat(feed["central_time"]) == clock.now
    assert ticket_ids(feed) == [boarding["ticket_id"], alighting["ticket_id"]]
    assert passing["ticket_id"] not in str(feed)
    keys = ring(feed)
    for listed, sold in zip(feed["tickets"], [boarding, alighting], strict=True):
        assert listed["token"] == sold["token"]
        claims = decode_token(listed["token"], keys)
        assert (claims.ticket_id, claims.train, str(claims.service_date)) == (
            sold["ticket_id"],
            TRAIN,
            DAY,
        )
        assert (listed["train"], listed["date"], listed["from"], listed["to"]) == (
            TRAIN,
            DAY,
            sold["from"],
            sold["to"],
        )
        departs = datetime.fromisoformat(listed["departs_at"])
        arrives = datetime.fromisoformat(listed["arrives_at"])
        assert (departs, arrives) == (departure(sold["from"]), arrival(sold["to"]))
        # a gate reads a ticket sold after its last sync from the token alone
        opens = timedelta(minutes=feed["token_opens_minutes"])
        after = timedelta(minutes=feed["token_after_arrival_minutes"])
        assert (claims.not_before, claims.not_after) == (departs - opens, arrives + after)
    assert listed["event_id"] == feed["cursor"]


def test_the_page_carries_the_window_settings(gate_api: Api) -> None:
    feed = page(gate_api, "AAA")
    assert (feed["token_opens_minutes"], feed["token_after_arrival_minutes"]) == (
        OPENS_MINUTES,
        AFTER_ARRIVAL_MINUTES,
    )
    assert (feed["cursor"], feed["tickets"], feed["more"]) == (0, [], False)


def test_a_holder_tag_is_what_a_gate_computes_from_the_id_card(gate_api: Api) -> None:
    number = "11010119900101123X"
    sold = sell(gate_api, "AAA", "CCC", number)
    feed = page(gate_api, "AAA")
    key = bytes.fromhex(feed["holder_tag_key"])
    (listed,) = feed["tickets"]
    assert listed["holder_tag"] == holder_tag(key, number) == holder_tag(key, "110101 19900101123x")
    assert listed["holder_tag"] != holder_tag(key, id_number(9))
    assert feed["holder_tag_key_id"] >= 1 and listed["ticket_id"] == sold["ticket_id"]


def test_refunds_and_changes_come_as_revocations_with_the_tickets_arrival(
    gate_api: Api, clock: FakeClock
) -> None:
    refunded = sell(gate_api, "BBB", "DDD", id_number(1))
    changed = sell(gate_api, "AAA", "BBB", id_number(2))
    cursor = page(gate_api, "BBB")["cursor"]
    clock.advance(minutes=3)
    assert gate_api.post(f"/v1/tickets/{refunded['ticket_id']}/refund").status_code == 200
    change = {
        "train": TRAIN,
        "date": DAY,
        "from": "AAA",
        "to": "CCC",  # the new ticket passes BBB: BBB's gates only see the old one go
        "class": "ZE",
        "id_number": id_number(2),
    }
    answer = gate_api.post(f"/v1/tickets/{changed['ticket_id']}/change", change)
    assert answer.status_code == 200, answer.text
    feed = page(gate_api, "BBB", cursor)
    revoked = [
        (r["ticket_id"], r["reason"], datetime.fromisoformat(r["arrives_at"]))
        for r in feed["revocations"]
    ]
    assert revoked == [
        (refunded["ticket_id"], "refunded", arrival("DDD")),
        (changed["ticket_id"], "changed", arrival("BBB")),
    ]
    assert all(datetime.fromisoformat(r["at"]) == clock.now for r in feed["revocations"])
    assert feed["tickets"] == []
    new_id = answer.json()["ticket"]["ticket_id"]
    assert new_id in ticket_ids(page(gate_api, "CCC"))


def test_a_new_gate_catches_up_page_by_page(gate_api: Api) -> None:
    sold = [sell(gate_api, "AAA", "DDD", id_number(n)) for n in range(7)]
    refund = gate_api.post(f"/v1/tickets/{sold[2]['ticket_id']}/refund")
    assert refund.status_code == 200
    gate = device_token(gate_api, "gate-aaa", "gate", "AAA")
    cursor, pages, seen = 0, [], []
    while True:
        response = as_unit(
            gate_api,
            gate,
            "GET",
            "/v1/stations/AAA/feed",
            params={
                "cursor": cursor,
                "limit": 3,
            },
        )
        assert response.status_code == 200, response.text
        feed = response.json()
        events = feed["tickets"] + feed["revocations"]
        assert len(events) <= 3 and feed["cursor"] == max(e["event_id"] for e in events)
        assert all(e["event_id"] > cursor for e in events)
        seen += sorted((e["event_id"], e["ticket_id"], "token" in e) for e in events)
        pages.append((len(events), feed["more"]))
        cursor = feed["cursor"]
        if not feed["more"]:
            break
    assert pages == [(3, True), (3, True), (2, False)]
    assert [ticket for _, ticket, _ in seen] == [t["ticket_id"] for t in sold] + [
        sold[2]["ticket_id"]
    ]
    assert [is_ticket for _, _, is_ticket in seen] == [True] * 7 + [False]
    caught_up = page(gate_api, "AAA", cursor, limit=3)
    assert (caught_up["cursor"], caught_up["more"], caught_up["tickets"]) == (cursor, False, [])
    later = sell(gate_api, "AAA", "BBB", id_number(20))
    assert ticket_ids(page(gate_api, "AAA", cursor)) == [later["ticket_id"]]


def test_a_full_last_page_says_more_only_when_there_is_more(gate_api: Api) -> None:
    for n in range(4):
        sell(gate_api, "AAA", "BBB", id_number(n))
    first = page(gate_api, "AAA", limit=2)
    second = page(gate_api, "AAA", first["cursor"], limit=2)
    assert (first["more"], second["more"]) == (True, False)
    assert len(first["tickets"]) == len(second["tickets"]) == 2


def test_tickets_whose_validity_ended_long_ago_are_left_out(
    gate_api: Api, clock: FakeClock
) -> None:
    early = sell(gate_api, "AAA", "BBB", id_number(1))  # valid until BBB's arrival + 30 min
    late = sell(gate_api, "BBB", "DDD", id_number(2))
    refunded = sell(gate_api, "AAA", "BBB", id_number(3))
    assert gate_api.post(f"/v1/tickets/{refunded['ticket_id']}/refund").status_code == 200
    validity_ends = arrival("BBB") + timedelta(minutes=AFTER_ARRIVAL_MINUTES)
    history = timedelta(hours=HISTORY_HOURS)
    clock.now = validity_ends + history - timedelta(seconds=1)
    kept = page(gate_api, "BBB")
    assert ticket_ids(kept) == [t["ticket_id"] for t in (early, late, refunded)]
    assert [r["ticket_id"] for r in kept["revocations"]] == [refunded["ticket_id"]]
    clock.now = validity_ends + history + timedelta(seconds=1)
    pruned = page(gate_api, "BBB")
    assert ticket_ids(pruned) == [late["ticket_id"]] and pruned["revocations"] == []
    assert ticket_ids(page(gate_api, "AAA")) == []


@pytest.mark.parametrize("history_hours", [0])
def test_a_ticket_still_valid_at_the_exit_is_in_the_feed_whatever_the_history(
    gate_api: Api, clock: FakeClock
) -> None:
    """With no history kept, a passenger who just arrived can still leave by the gate."""
    ticket = sell(gate_api, "AAA", "BBB", id_number(1))
    clock.now = arrival("BBB") + timedelta(minutes=AFTER_ARRIVAL_MINUTES - 1)
    assert ticket_ids(page(gate_api, "BBB")) == [ticket["ticket_id"]]
    clock.now = arrival("BBB") + timedelta(minutes=AFTER_ARRIVAL_MINUTES + 1)
    assert ticket_ids(page(gate_api, "BBB")) == []


def test_after_a_key_rotation_the_page_lists_both_keys(gate_api: Api) -> None:
    before = sell(gate_api, "AAA", "CCC", id_number(1))
    assert [k["key_id"] for k in page(gate_api, "AAA")["keys"]] == [1]
    service_of(gate_api).ctx.keys.rotate()
    after = sell(gate_api, "AAA", "CCC", id_number(2))
    feed = page(gate_api, "AAA")
    assert sorted(k["key_id"] for k in feed["keys"]) == [1, 2]
    assert (peek_key_id(before["token"]), peek_key_id(after["token"])) == (1, 2)
    keys = ring(feed)
    assert [decode_token(t["token"], keys).ticket_id for t in feed["tickets"]] == [
        before["ticket_id"],
        after["ticket_id"],
    ]
    assert len({k["public_key"] for k in feed["keys"]}) == 2


def test_the_page_is_gzipped_when_the_gate_asks(gate_api: Api) -> None:
    for n in range(4):
        sell(gate_api, "AAA", "CCC", id_number(n))
    url = "/v1/stations/AAA/feed"
    zipped = gate_api.client.get(url, headers={**gate_api.auth, "Accept-Encoding": "gzip"})
    plain = gate_api.client.get(url, headers={**gate_api.auth, "Accept-Encoding": "identity"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert "content-encoding" not in plain.headers
    assert zipped.json() == plain.json() and len(zipped.json()["tickets"]) == 4
    assert int(zipped.headers["content-length"]) < len(plain.content) / 2
    assert "accept-encoding" in zipped.headers["vary"].lower()
    raw = gate_api.client.stream("GET", url, headers={**gate_api.auth, "Accept-Encoding": "gzip"})
    with raw as response:
        body = b"".join(response.iter_raw())
    assert gzip.decompress(body) == plain.content


@pytest.mark.parametrize("accept", ["gzip;q=0", "identity", "br", "deflate, gzip;q=0.0"])
def test_no_gzip_unless_it_is_accepted(gate_api: Api, accept: str) -> None:
    for n in range(4):
        sell(gate_api, "AAA", "CCC", id_number(n))
    headers = {**gate_api.auth, "Accept-Encoding": accept}
    response = gate_api.client.get("/v1/stations/AAA/feed", headers=headers)
    assert response.status_code == 200 and "content-encoding" not in response.headers
    assert len(response.json()["tickets"]) == 4


@pytest.mark.parametrize("accept", ["GZIP", "deflate, gzip;q=0.5", "br;q=1.0, gzip; q=0.8"])
def test_gzip_when_it_is_accepted_in_any_spelling(gate_api: Api, accept: str) -> None:
    for n in range(4):
        sell(gate_api, "AAA", "CCC", id_number(n))
    headers = {**gate_api.auth, "Accept-Encoding": accept}
    response = gate_api.client.get("/v1/stations/AAA/feed", headers=headers)
    assert response.headers.get("content-encoding") == "gzip", accept
    assert len(response.json()["tickets"]) == 4


@pytest.mark.parametrize(
    "query",
    [{"cursor": -1}, {"limit": 0}, {"limit": 5001}, {"cursor": "x"}, {"limit": 2.5}],
)
def test_a_bad_cursor_or_limit_is_422(gate_api: Api, query: dict[str, Any]) -> None:
    response = gate_api.get("/v1/stations/AAA/feed", params=query)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "validation_failed"


def test_a_malformed_station_is_422(gate_api: Api) -> None:
    response = gate_api.get("/v1/stations/aa1/feed")
    assert response.status_code == 422, response.text


def test_the_feeds_clock_is_centrals(gate_api: Api, clock: FakeClock) -> None:
    clock.now = datetime(2026, 11, 25, 20, 0, 0, 123456, tzinfo=UTC)
    assert datetime.fromisoformat(page(gate_api, "AAA")["central_time"]) == clock.now
