"""The ticket cache and revocations: upsert, lookups, revocations that win, purge, query plans."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import base45
import pytest
from hypothesis import given
from hypothesis import strategies as st
from store_samples import (
    ARRIVES,
    DEPARTS,
    NOW,
    SIGNING_KEY,
    holder_tag,
    open_store,
    revocation,
    ticket,
    ticket_id,
    token_bytes,
)

from offline_store import TicketRecord, UnitStore
from offline_store import ticket_cache as cache
from offline_store.columns import ticket_id_of, ticket_key
from protocol.ids import TicketId
from protocol.keys import KeyRing
from protocol.token import decode_token


@pytest.fixture
def store(tmp_path: Path) -> Iterator[UnitStore]:
    with open_store(tmp_path / "gate.db") as opened:
        yield opened


def test_a_ticket_comes_back_as_it_went_in(store: UnitStore) -> None:
    record = ticket(1, holder=5)
    store.tickets.upsert([record])
    cached = store.tickets.get(record.ticket_id)
    assert cached is not None
    assert cached.record == record
    assert cached.record.key_id == SIGNING_KEY.key_id
    assert not cached.is_revoked


def group_of(store: UnitStore, tid: TicketId) -> str | None:
    cached = store.tickets.get(tid)
    assert cached is not None
    return cached.record.gate_group


def test_a_ticket_keeps_the_gate_group_its_train_checks_in_at(store: UnitStore) -> None:
    grouped, unknown = ticket(1, gate_group="A3"), ticket(2)
    store.tickets.upsert([grouped, unknown])
    assert [group_of(store, r.ticket_id) for r in (grouped, unknown)] == ["A3", None]
    store.tickets.upsert([replace(grouped, event_id=2, gate_group="B1")])  # a newer event
    assert group_of(store, grouped.ticket_id) == "B1"


def test_the_stored_token_still_verifies(store: UnitStore) -> None:
    store.tickets.upsert([ticket(1)])
    cached = store.tickets.get(ticket_id(1))
    assert cached is not None
    text = base45.b45encode(cached.record.token).decode()
    ring = KeyRing([SIGNING_KEY.public_key()])
    assert decode_token(text, ring).ticket_id == ticket_id(1)


def test_a_standing_ticket_has_no_place(store: UnitStore) -> None:
    store.tickets.upsert([ticket(1, coach=None, seat=None)])
    cached = store.tickets.get(ticket_id(1))
    assert cached is not None and cached.record.seat is None and cached.record.coach is None


def test_an_unknown_ticket_is_none(store: UnitStore) -> None:
    assert store.tickets.get(ticket_id(404)) is None


def test_several_tickets_share_a_holder_tag(store: UnitStore) -> None:
    later = DEPARTS + dt.timedelta(days=1)
    store.tickets.upsert([ticket(1, holder=7, departs=later), ticket(2, holder=7), ticket(3)])
    found = store.tickets.by_holder_tag(holder_tag(7))
    assert [cached.record.ticket_id for cached in found] == [ticket_id(2), ticket_id(1)]
    assert store.tickets.by_holder_tag(holder_tag(8)) == []
    assert len(store.tickets.by_holder_tag(holder_tag(7), limit=1)) == 1


def test_a_replayed_page_changes_nothing(store: UnitStore) -> None:
    page = [ticket(number, event_id=number + 1) for number in range(20)]
    store.tickets.upsert(page)
    store.tickets.upsert(page)
    assert store.tickets.count() == 20


def test_a_newer_event_updates_and_an_older_one_does_not(store: UnitStore) -> None:
    store.tickets.upsert([ticket(1, event_id=5, holder=1)])
    store.tickets.upsert([ticket(1, event_id=9, holder=2)])
    store.tickets.upsert([ticket(1, event_id=7, holder=3)])
    cached = store.tickets.get(ticket_id(1))
    assert cached is not None
    assert (cached.record.event_id, cached.record.holder_tag) == (9, holder_tag(2))


def test_a_revocation_after_its_ticket_wins(store: UnitStore) -> None:
    store.tickets.upsert([ticket(1, holder=1)])
    store.revocations.record([revocation(1)])
    cached = store.tickets.get(ticket_id(1))
    assert cached is not None and cached.is_revoked
    assert cached.revocation == revocation(1)
    assert all(found.is_revoked for found in store.tickets.by_holder_tag(holder_tag(1)))


def test_a_revocation_before_its_ticket_wins_too(store: UnitStore) -> None:
    store.revocations.record([revocation(1, event_id=1, reason="changed")])
    assert store.revocations.get(ticket_id(1)) is not None  # the gate can refuse it already
    store.tickets.upsert([ticket(1, event_id=2)])
    cached = store.tickets.get(ticket_id(1))
    assert cached is not None and cached.revocation is not None
    assert cached.revocation.reason == "changed"


def test_a_ticket_never_revoked_has_no_revocation(store: UnitStore) -> None:
    assert store.revocations.get(ticket_id(1)) is None


def test_a_bad_record_in_a_page_stores_nothing_of_the_page(store: UnitStore) -> None:
    good = [ticket(1), ticket(2)]
    with pytest.raises(ValueError, match="TicketRecord"):
        store.tickets.upsert([*good, "not a ticket"])  # type: ignore[list-item]
    assert store.tickets.count() == 0


def test_purge_takes_whole_days_and_stops_at_its_limit(store: UnitStore) -> None:
    days = [DEPARTS + dt.timedelta(days=offset) for offset in range(3)]
    store.tickets.upsert(
        ticket(day * 10 + number, departs=days[day]) for day in range(3) for number in range(10)
    )
    store.revocations.record([revocation(0), revocation(25)])
    cutoff = days[2].date()
    assert store.tickets.purge_arrived_before(cutoff, limit=15) == 15
    assert store.tickets.purge_arrived_before(cutoff, limit=15) == 5
    assert store.tickets.purge_arrived_before(cutoff, limit=15) == 0
    assert store.tickets.count() == 10
    assert store.tickets.get(ticket_id(25)) is not None
    assert store.revocations.purge_arrived_before(ARRIVES.date() + dt.timedelta(days=1)) == 2


@pytest.mark.parametrize("limit", [0, -1, True])
def test_a_purge_needs_a_positive_limit(store: UnitStore, limit: int) -> None:
    with pytest.raises(ValueError, match="positive"):
        store.tickets.purge_arrived_before(DEPARTS.date(), limit=limit)


def test_a_purge_takes_a_date_not_an_instant(store: UnitStore) -> None:
    with pytest.raises(ValueError, match="date"):
        store.tickets.purge_arrived_before(DEPARTS)


def replace(record: TicketRecord, **changes: object) -> TicketRecord:
    """``record`` with ``changes``, checked again."""
    return dataclasses.replace(record, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"ticket_id": "XYZ"}, "ticket id"),
        ({"train": "G1234567"}, "train number"),
        ({"from_station": "vnp"}, "station code"),
        ({"seat_class": "XX"}, "XX"),
        ({"coach": None}, "coach"),
        ({"seat": 0}, "seat"),
        ({"token": b"\x01" * 20}, "binary form"),
        ({"token": "W50E.9.99ODS"}, "binary form, got str"),
        ({"token": b"\x02" + token_bytes(ticket_id(1))[1:]}, "version"),
        ({"token": token_bytes(ticket_id(2))}, "carries ticket id"),
        ({"holder_tag": b"short"}, "holder_tag"),
        ({"gate_group": ""}, "gate_group"),
        ({"gate_group": "A 3"}, "gate_group"),
        ({"gate_group": "A" * 17}, "gate_group"),
        ({"event_id": -1}, "event_id"),
        ({"departs_at": dt.datetime(2026, 12, 1, 8, 0)}, "timezone-aware"),
        ({"arrives_at": DEPARTS - dt.timedelta(minutes=1)}, "before departs_at"),
        ({"service_date": NOW}, "date"),
    ],
)
def test_a_malformed_record_is_refused_with_what_is_wrong(
    changes: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        replace(ticket(1), **changes)


def test_a_revocation_reason_is_a_code() -> None:
    with pytest.raises(ValueError, match="reason"):
        dataclasses.replace(revocation(1), reason="Refunded!")


@given(st.integers(min_value=0, max_value=2**64 - 1))
def test_every_ticket_id_maps_to_a_row_id_and_back(value: int) -> None:
    tid = TicketId(f"{value:016x}")
    key = ticket_key(tid)
    assert -(2**63) <= key < 2**63
    assert ticket_id_of(key) == tid


def test_ticket_ids_that_sort_together_are_neighbours_within_each_half() -> None:
    # sale order (the id's clock part) is row-id order, so a page appends to the table
    assert ticket_key("0001000000000000") < ticket_key("0002000000000000")
    assert ticket_key("8001000000000000") < ticket_key("8002000000000000")


# --- query plans: nothing on the decision path or the sync path scans a table -------


def plan(store: UnitStore, sql: str, args: tuple[object, ...]) -> str:
    """SQLite's query plan for ``sql``, one step a line."""
    rows = store.connection.execute("EXPLAIN QUERY PLAN " + sql, args).fetchall()
    return "\n".join(row[3] for row in rows)


def test_lookups_use_the_indexes(store: UnitStore) -> None:
    store.tickets.upsert(ticket(number, holder=number % 5) for number in range(200))
    store.connection.execute("ANALYZE")  # plans must hold with statistics too
    by_id = plan(store, cache.GET_TICKET_SQL, (1,))
    assert "SEARCH t USING INTEGER PRIMARY KEY (rowid=?)" in by_id
    assert "SEARCH r USING INTEGER PRIMARY KEY (rowid=?)" in by_id
    by_tag = plan(store, cache.BY_HOLDER_SQL, (holder_tag(1), 10))
    assert "SEARCH t USING INDEX tickets_by_holder (holder_tag=?)" in by_tag
    revoked = plan(store, cache.GET_REVOCATION_SQL, (1,))
    assert "SEARCH revocations USING INTEGER PRIMARY KEY (rowid=?)" in revoked
    for sql in (by_id, by_tag, revoked):
        assert "SCAN" not in sql


@pytest.mark.parametrize("table", ["tickets", "revocations"])
def test_purges_use_the_arrival_day_index(store: UnitStore, table: str) -> None:
    found = plan(store, cache.PURGE_SQL.format(table=table), (20000, 100))
    assert f"SEARCH {table} USING INDEX {table}_by_arrival_day (<expr><?)" in found
    assert "SCAN" not in found


@pytest.mark.parametrize(("tag", "limit"), [(b"short", 5), ("text" * 4, 5), (bytes(16), 0)])
def test_a_holder_lookup_refuses_a_bad_tag_or_limit(
    store: UnitStore, tag: bytes, limit: int
) -> None:
    with pytest.raises(ValueError, match=r"holder_tag|limit"):
        store.tickets.by_holder_tag(tag, limit=limit)
