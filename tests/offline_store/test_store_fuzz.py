"""Hypothesis: any bytes as a store file fail with a StoreError or open; records round-trip."""

from __future__ import annotations

import datetime as dt
import functools
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from store_samples import admitted, ticket, ticket_id, token_bytes

from offline_store import StoreError, TicketRecord, UnitStore
from protocol.ids import SEAT_CLASS_ORDER, StationCode, TicketId, TrainNumber

HEADER = b"SQLite format 3\x00"


def opens_or_refuses(content: bytes) -> None:
    """Write ``content`` as a store file and use it: a StoreError naming it, or a working store."""
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "gate.db"
        path.write_bytes(content)
        try:
            with UnitStore.open(path) as store:
                store.tickets.count()
                for number in range(0, 60, 7):
                    store.tickets.get(ticket_id(number))
                store.journal.pending()
        except StoreError as exc:
            assert str(path) in str(exc)


@functools.cache
def real_store() -> bytes:
    """The bytes of a small, cleanly closed store with tickets and passages."""
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "gate.db"
        with UnitStore.open(path) as store:
            store.tickets.upsert(ticket(number, holder=number % 4) for number in range(60))
            for number in range(20):
                store.journal.append(admitted(number))
        return path.read_bytes()


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2**31), st.binary(min_size=1, max_size=64)), max_size=8))
def test_a_real_store_with_bytes_overwritten_fails_only_with_store_errors(
    damage: list[tuple[int, bytes]],
) -> None:
    content = bytearray(real_store())
    for offset, garbage in damage:
        start = offset % len(content)
        content[start : start + len(garbage)] = garbage[: len(content) - start]
    opens_or_refuses(bytes(content))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=9000))
def test_any_bytes_open_or_fail_with_a_store_error(content: bytes) -> None:
    opens_or_refuses(content)


@settings(max_examples=60, deadline=None)
@given(st.binary(min_size=84, max_size=9000))
def test_a_sqlite_header_over_garbage_fails_with_a_store_error(rest: bytes) -> None:
    opens_or_refuses(HEADER + rest)


times = st.datetimes(
    min_value=dt.datetime(2001, 1, 1), max_value=dt.datetime(2099, 1, 1), timezones=st.just(dt.UTC)
)
places = st.one_of(st.just((None, None)), st.tuples(st.integers(1, 255), st.integers(1, 65535)))


@settings(max_examples=40, deadline=None)
@given(
    key=st.integers(0, 2**64 - 1),
    train=st.from_regex(r"\A[A-Z]?[1-9][0-9]{0,3}\Z"),
    stations=st.tuples(st.from_regex(r"\A[A-Z]{3}\Z"), st.from_regex(r"\A[A-Z]{3}\Z")),
    departs=times,
    minutes=st.integers(0, 5000),
    seat_class=st.sampled_from(SEAT_CLASS_ORDER),
    place=places,
    tag=st.one_of(st.none(), st.binary(min_size=16, max_size=16)),
    event_id=st.integers(0, 2**62),
)
def test_any_valid_record_comes_back_as_it_went_in(
    key: int,
    train: str,
    stations: tuple[str, str],
    departs: dt.datetime,
    minutes: int,
    seat_class: str,
    place: tuple[int | None, int | None],
    tag: bytes | None,
    event_id: int,
) -> None:
    tid = TicketId(f"{key:016x}")
    record = TicketRecord(
        ticket_id=tid, train=TrainNumber(train), service_date=departs.date(),
        from_station=StationCode(stations[0]), to_station=StationCode(stations[1]),
        departs_at=departs, arrives_at=departs + dt.timedelta(minutes=minutes),
        seat_class=seat_class, coach=place[0], seat=place[1],  # type: ignore[arg-type]
        token=token_bytes(tid), event_id=event_id, holder_tag=tag,
    )  # fmt: skip
    with tempfile.TemporaryDirectory() as scratch, UnitStore.open(Path(scratch) / "g.db") as store:
        store.tickets.upsert([record])
        cached = store.tickets.get(tid)
        assert cached is not None and cached.record == record
        if tag is not None:
            assert [found.record for found in store.tickets.by_holder_tag(tag)] == [record]
