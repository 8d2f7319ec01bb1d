"""Every mutating call of the store, as a scenario a child process runs and is killed in.

Each scenario has a ``setup`` (run by the test, on a fresh store) and an
``operation`` (run by the child, or by the test on a copy to learn the state
after it). Everything is deterministic (fixed passage ids and times), so a
store the child left can be compared table by table with the state before
and after the operation.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from store_samples import NOW, admitted, revocation, ticket

from offline_store import (
    DeviceIdentity,
    HolderTagKey,
    UnitMode,
    UnitStore,
    UploadAnswer,
)
from protocol.ids import StationCode
from protocol.keys import KeyRing, SigningKey

PAGE = 400
LATER = NOW + dt.timedelta(days=3)
LATER_DAY = LATER.date()


def passage_id(number: int) -> str:
    """A fixed UUID for passage ``number``."""
    return f"00000000-0000-4000-8000-{number:012x}"


def journal_some(store: UnitStore, count: int = 50) -> None:
    """Admitted passages 0..count-1, for tickets 0..count-1."""
    with store.transaction():
        for number in range(count):
            store.journal.append(admitted(number, passage_id=passage_id(number)))


def setup_cache(store: UnitStore) -> None:
    """A cache of one page of tickets, some revoked, a ring, a journal, an enrolment."""
    store.tickets.upsert(ticket(n, holder=n % 7) for n in range(PAGE))
    store.revocations.record(revocation(n) for n in range(0, PAGE, 10))
    store.keys.replace_ring(KeyRing([SigningKey.from_private_hex(1, "22" * 32).public_key()]))
    journal_some(store)
    store.cursors.set("station_feed", 1)
    store.state.set_mode(UnitMode.IN_SERVICE, NOW)


def feed_page(store: UnitStore, page: int) -> None:
    """Apply feed page ``page``: its tickets, a revocation and the cursor, in one transaction."""
    with store.transaction():
        store.tickets.upsert(
            ticket(n, event_id=page + 1) for n in range(page * PAGE, (page + 1) * PAGE)
        )
        store.revocations.record([revocation(page * PAGE, event_id=page + 1)])
        store.cursors.set("station_feed", page + 1)


def mark_half_uploaded(store: UnitStore) -> None:
    """Central's answers for half the journal."""
    answers = [UploadAnswer(passage_id(n), {"conflict": n % 5 == 0}) for n in range(25)]
    store.journal.mark_uploaded(answers, NOW)


def setup_half_uploaded(store: UnitStore) -> None:
    """The cache, and half its journal uploaded."""
    setup_cache(store)
    mark_half_uploaded(store)


def mark_counts(store: UnitStore) -> None:
    """Central's acknowledgement of every pending slot."""
    store.counters.mark_uploaded(store.counters.pending())


def enrol_again(store: UnitStore) -> None:
    """Re-enrolment with a new credential."""
    store.enrolment.replace(
        DeviceIdentity(
            "gate-07",
            "gate",
            StationCode("VNP"),
            "https://central.example",
            "new-secret-credential",
            NOW,
        )
    )


@dataclass(frozen=True)
class Scenario:
    """A mutating call and what the store holds before it."""

    setup: Callable[[UnitStore], None]
    operation: Callable[[UnitStore], object]


SCENARIOS: dict[str, Scenario] = {
    "upsert_tickets": Scenario(setup_cache, lambda s: s.tickets.upsert(
        ticket(n, event_id=5, holder=n % 3) for n in range(PAGE // 2, PAGE * 2))),
    "purge_tickets": Scenario(
        setup_cache, lambda s: s.tickets.purge_arrived_before(LATER_DAY, 300)),
    "record_revocations": Scenario(setup_cache, lambda s: s.revocations.record(
        revocation(n, event_id=9, reason="changed") for n in range(0, PAGE * 2, 3))),
    "purge_revocations": Scenario(
        setup_cache, lambda s: s.revocations.purge_arrived_before(LATER_DAY)),
    "replace_ring": Scenario(setup_cache, lambda s: s.keys.replace_ring(KeyRing(
        SigningKey.from_private_hex(k, f"{k:02x}" * 32).public_key() for k in (4, 5)))),
    "set_holder_tag_key": Scenario(setup_cache, lambda s: s.keys.set_holder_tag_key(
        HolderTagKey(2, b"\x07" * 32))),
    "append_passage": Scenario(setup_cache, lambda s: s.journal.append(
        admitted(900, passage_id=passage_id(900)))),
    "annul_passage": Scenario(setup_cache, lambda s: s.journal.annul(
        passage_id(3), reason="not_passed", unit_time=NOW, mode=UnitMode.IN_SERVICE,
        passage_id=passage_id(901))),
    "mark_uploaded": Scenario(setup_cache, mark_half_uploaded),
    "purge_uploaded": Scenario(
        setup_half_uploaded,
        lambda s: s.journal.purge_uploaded_before(LATER)),
    "mark_counts_uploaded": Scenario(setup_cache, mark_counts),
    "advance_cursor": Scenario(setup_cache, lambda s: s.cursors.set("station_feed", 2)),
    "feed_page": Scenario(setup_cache, lambda s: feed_page(s, 1)),
    "enrol": Scenario(setup_cache, enrol_again),
    "set_mode": Scenario(setup_cache, lambda s: s.state.set_mode(UnitMode.EMERGENCY_OPEN, NOW)),
    "increment_fact": Scenario(setup_cache, lambda s: s.state.increment("refusals", 3)),
}  # fmt: skip


def dump(path: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, sorted, read after the store recovers its log."""
    with UnitStore.open(path) as store:
        conn: sqlite3.Connection = store.connection
        tables = [
            row[0] for row in conn.execute("SELECT name FROM sqlite_schema WHERE type = 'table'")
        ]
        return {
            table: sorted(conn.execute(f'SELECT * FROM "{table}"'), key=repr) for table in tables
        }


def append_numbered(store: UnitStore, number: int) -> None:
    """Journal admitted passage ``number``."""
    store.journal.append(admitted(number, passage_id=passage_id(number)))


# calls a child repeats until killed, each with the next number
LOOPS: dict[str, Callable[[UnitStore, int], object]] = {
    "feed_pages": feed_page,
    "appends": append_numbered,
}
