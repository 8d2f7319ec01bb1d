"""The passage journal and its counters: durable appends, anti-passback, annulments, uploads."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from store_samples import NOW, admitted, open_store, ticket_id

from offline_store import (
    Direction,
    NewPassage,
    PassageKind,
    SlotCount,
    UnitMode,
    UnitStore,
    UploadAnswer,
    UploadState,
)
from offline_store import counters as counting
from offline_store import journal as journaling

LATER = NOW + dt.timedelta(days=3)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[UnitStore]:
    with open_store(tmp_path / "gate.db") as opened:
        yield opened


def test_an_appended_passage_is_committed_when_append_returns(tmp_path: Path) -> None:
    path = tmp_path / "gate.db"
    with open_store(path) as gate, open_store(path) as other:
        passage = gate.journal.append(admitted(1))
        assert other.journal.get(passage.passage_id) == passage  # another connection sees it
        assert not gate.connection.in_transaction


def test_an_append_comes_back_as_journaled(store: UnitStore) -> None:
    central = NOW + dt.timedelta(seconds=2, microseconds=1500)
    new = admitted(1, central_time=central, detail={"lane": 2, "reader": "qr"})
    passage = store.journal.append(new)
    assert passage == store.journal.get(new.passage_id)
    assert passage.seq == 1 and passage.is_pending
    assert passage.ticket_id == ticket_id(1)
    assert passage.central_time == central.replace(microsecond=1000)  # whole milliseconds
    assert passage.detail == {"lane": 2, "reader": "qr"}


def test_the_same_passage_twice_is_journaled_and_counted_once(store: UnitStore) -> None:
    new = admitted(1)
    first = store.journal.append(new)
    assert store.journal.append(new) == first
    assert len(store.journal.pending()) == 1
    assert [count.count for count in store.counters.pending()] == [1]


def test_a_passage_id_reused_for_another_passage_is_refused(store: UnitStore) -> None:
    first = store.journal.append(admitted(1))
    with pytest.raises(ValueError, match="other content"):
        store.journal.append(admitted(2, passage_id=first.passage_id))


def test_anti_passback_sees_an_admitted_passage_one_way_only(store: UnitStore) -> None:
    assert not store.journal.has_admitted(ticket_id(1), Direction.ENTRY)
    store.journal.append(admitted(1))
    assert store.journal.has_admitted(ticket_id(1), Direction.ENTRY)
    assert not store.journal.has_admitted(ticket_id(1), Direction.EXIT)
    assert not store.journal.has_admitted(ticket_id(2), Direction.ENTRY)


def test_refusals_and_emergencies_are_journaled_but_admit_nothing(store: UnitStore) -> None:
    refused = store.journal.append(
        admitted(1, kind=PassageKind.REFUSED, reason="revoked", detail={"why": "refunded"})
    )
    emergency = store.journal.append(
        admitted(
            None, kind=PassageKind.EMERGENCY, reason="fire_alarm", mode=UnitMode.EMERGENCY_OPEN
        )
    )
    assert emergency.ticket_id is None
    assert not store.journal.has_admitted(ticket_id(1), Direction.ENTRY)
    assert [p.passage_id for p in store.journal.pending()] == [
        refused.passage_id,
        emergency.passage_id,
    ]


def test_an_annulment_frees_the_ticket_and_is_uploaded_too(store: UnitStore) -> None:
    entered = store.journal.append(admitted(1))
    annulment = store.journal.annul(
        entered.passage_id, reason="not_passed", unit_time=NOW, mode=UnitMode.IN_SERVICE
    )
    assert annulment.kind is PassageKind.ANNULLED
    assert annulment.annuls == entered.passage_id
    assert (annulment.ticket_id, annulment.direction) == (entered.ticket_id, entered.direction)
    assert not store.journal.has_admitted(ticket_id(1), Direction.ENTRY)
    assert [p.kind for p in store.journal.pending()] == [PassageKind.ADMITTED, PassageKind.ANNULLED]
    again = store.journal.append(admitted(1, at=NOW + dt.timedelta(minutes=1)))
    assert store.journal.admitted_passage(ticket_id(1), Direction.ENTRY) == again


def test_an_annulment_repeated_with_its_id_returns_the_first(store: UnitStore) -> None:
    entered = store.journal.append(admitted(1))
    first = store.journal.annul(
        entered.passage_id, reason="not_passed", unit_time=NOW, mode=UnitMode.IN_SERVICE
    )
    repeated = store.journal.annul(
        entered.passage_id,
        reason="not_passed",
        unit_time=NOW,
        mode=UnitMode.IN_SERVICE,
        passage_id=first.passage_id,
    )
    assert repeated == first
    assert len(store.journal.pending()) == 2


def test_a_passage_is_annulled_once(store: UnitStore) -> None:
    entered = store.journal.append(admitted(1))
    store.journal.annul(entered.passage_id, reason="x", unit_time=NOW, mode=UnitMode.IN_SERVICE)
    with pytest.raises(ValueError, match="already annulled"):
        store.journal.annul(entered.passage_id, reason="x", unit_time=NOW, mode=UnitMode.IN_SERVICE)


def test_only_an_admitted_passage_can_be_annulled(store: UnitStore) -> None:
    refused = store.journal.append(admitted(1, kind=PassageKind.REFUSED, reason="used"))
    for target in (refused.passage_id, "00000000-0000-4000-8000-000000000000"):
        with pytest.raises(ValueError, match="not an admitted passage"):
            store.journal.annul(target, reason="x", unit_time=NOW, mode=UnitMode.IN_SERVICE)
    with pytest.raises(ValueError, match="use annul"):
        store.journal.append(admitted(1, kind=PassageKind.ANNULLED))


def test_pending_passages_come_in_append_order_page_by_page(store: UnitStore) -> None:
    appended = [store.journal.append(admitted(number)) for number in range(7)]
    first = store.journal.pending(limit=3)
    second = store.journal.pending(limit=3, after_seq=first[-1].seq)
    assert first + second == appended[:6]


def test_marking_uploaded_is_idempotent_and_keeps_the_first_answer(store: UnitStore) -> None:
    passages = [store.journal.append(admitted(number)) for number in range(3)]
    answers = [UploadAnswer(passages[0].passage_id, {"conflict": "used_elsewhere"})]
    answers.append(UploadAnswer(passages[1].passage_id))
    assert store.journal.mark_uploaded(answers, NOW) == 2
    late = [UploadAnswer(passages[0].passage_id, {"conflict": None})]
    assert store.journal.mark_uploaded(late, LATER) == 0
    uploaded = store.journal.get(passages[0].passage_id)
    assert uploaded is not None and uploaded.upload_state is UploadState.UPLOADED
    assert (uploaded.uploaded_at, uploaded.upload_answer) == (NOW, {"conflict": "used_elsewhere"})
    assert store.journal.pending() == [passages[2]]


def test_marking_an_unknown_passage_changes_nothing(store: UnitStore) -> None:
    unknown = UploadAnswer("00000000-0000-4000-8000-000000000009")
    assert store.journal.mark_uploaded([unknown], NOW) == 0


def test_purge_removes_old_uploaded_passages_but_never_orphans_an_annulment(
    store: UnitStore,
) -> None:
    entered = store.journal.append(admitted(1))
    annulment = store.journal.annul(
        entered.passage_id, reason="x", unit_time=NOW, mode=UnitMode.IN_SERVICE
    )
    waiting = store.journal.append(admitted(2))
    store.journal.mark_uploaded([UploadAnswer(entered.passage_id)], NOW)
    assert store.journal.purge_uploaded_before(LATER) == 0  # its annulment is still pending
    store.journal.mark_uploaded([UploadAnswer(annulment.passage_id)], NOW)
    assert store.journal.purge_uploaded_before(LATER) == 1  # the annulment first
    assert store.journal.purge_uploaded_before(LATER) == 1  # then what it annulled
    assert store.journal.pending() == [waiting]
    assert store.journal.purge_uploaded_before(LATER) == 0


def test_a_passage_is_checked_at_construction() -> None:
    base = admitted(1)
    for changes, message in [
        ({"reason": "Not OK"}, "reason"),
        ({"ticket_id": "nope"}, "ticket id"),
        ({"unit_time": dt.datetime(2026, 12, 1)}, "timezone-aware"),
        ({"passage_id": "not-a-uuid"}, "UUID"),
        ({"passage_id": "0000000000004000800000000000000a"}, "canonical"),
        ({"detail": {"blob": "x" * 2000}}, "more than 1024"),
        ({"detail": {"when": NOW}}, "plain JSON"),
        ({"direction": "sideways"}, "sideways"),
    ]:
        with pytest.raises(ValueError, match=message):
            dataclasses.replace(base, **changes)  # type: ignore[arg-type]


# --- counters ---------------------------------------------------------------------


def test_each_passage_counts_in_its_slot_by_direction_and_kind(store: UnitStore) -> None:
    slot = dt.datetime(2026, 12, 1, 7, 30, tzinfo=dt.UTC)
    store.journal.append(admitted(1, at=slot + dt.timedelta(minutes=1)))
    store.journal.append(admitted(2, at=slot + dt.timedelta(minutes=14, seconds=59)))
    store.journal.append(admitted(3, at=slot + dt.timedelta(minutes=15)))
    store.journal.append(admitted(4, at=slot, direction=Direction.EXIT))
    store.journal.append(admitted(5, at=slot, kind=PassageKind.REFUSED, reason="revoked"))
    counts = {
        (c.slot_start.minute, c.direction.value, c.kind.value): c.count
        for c in store.counters.between(slot, slot + dt.timedelta(hours=1))
    }
    assert counts == {
        (30, "entry", "admitted"): 2,
        (45, "entry", "admitted"): 1,
        (30, "exit", "admitted"): 1,
        (30, "entry", "refused"): 1,
    }


def test_central_time_decides_the_slot_when_known(store: UnitStore) -> None:
    unit = dt.datetime(2026, 12, 1, 7, 44, 50, tzinfo=dt.UTC)
    store.journal.append(admitted(1, at=unit, central_time=unit + dt.timedelta(seconds=20)))
    (count,) = store.counters.pending()
    assert count.slot_start == dt.datetime(2026, 12, 1, 7, 45, tzinfo=dt.UTC)


def test_a_slot_stays_pending_until_central_holds_its_latest_count(store: UnitStore) -> None:
    store.journal.append(admitted(1))
    (sent,) = store.counters.pending()
    store.journal.append(admitted(2))  # counted after the upload was sent
    assert store.counters.mark_uploaded([sent]) == 1
    assert store.counters.mark_uploaded([sent]) == 0  # idempotent
    (still,) = store.counters.pending()
    assert (still.count, still.uploaded_count) == (2, 1)
    store.counters.mark_uploaded([still])
    assert store.counters.pending() == []


def test_a_late_older_acknowledgement_never_lowers_the_mark(store: UnitStore) -> None:
    store.journal.append(admitted(1))
    store.journal.append(admitted(2))
    (count,) = store.counters.pending()
    store.counters.mark_uploaded([count])
    store.counters.mark_uploaded([dataclasses.replace(count, count=1)])
    assert store.counters.pending() == []


def test_the_slot_length_is_a_setting_kept_in_each_row(tmp_path: Path) -> None:
    path = tmp_path / "gate.db"
    with open_store(path, counter_slot_minutes=60) as store:
        store.journal.append(admitted(1))
    with open_store(path, counter_slot_minutes=5) as store:
        store.journal.append(admitted(2))
        lengths = sorted(count.slot_minutes for count in store.counters.pending())
    assert lengths == [5, 60]


@pytest.mark.parametrize("minutes", [0, 7, 1441])
def test_a_slot_length_must_divide_the_day(store: UnitStore, minutes: int) -> None:
    with pytest.raises(ValueError, match="slot_minutes"):
        counting.PassageCounters(store.connection, slot_minutes=minutes)


def test_a_slot_count_knows_when_it_is_pending() -> None:
    count = SlotCount(NOW, 15, Direction.ENTRY, PassageKind.ADMITTED, 3, 3)
    assert not count.is_pending


# --- query plans ----------------------------------------------------------------------


def plan(store: UnitStore, sql: str, args: tuple[object, ...]) -> str:
    """SQLite's query plan for ``sql``, one step a line."""
    rows = store.connection.execute("EXPLAIN QUERY PLAN " + sql, args).fetchall()
    return "\n".join(row[3] for row in rows)


def test_anti_passback_and_uploads_use_the_indexes(store: UnitStore) -> None:
    for number in range(100):
        store.journal.append(admitted(number))
    store.connection.execute("ANALYZE")
    passback = plan(store, journaling.ADMITTED_SQL, (1, "entry"))
    assert "SEARCH p USING INDEX passages_admitted (ticket_id=? AND direction=?)" in passback
    assert "SEARCH a USING COVERING INDEX passages_annulments (annuls=?)" in passback
    assert "SCAN" not in passback
    pending = plan(store, journaling.PENDING_SQL, (0, 10))
    assert "USING INDEX passages_pending" in pending
    assert "passage_id=?" in plan(store, journaling.MARK_SQL, (1, None, "x"))
    counts = plan(store, counting.PENDING_COUNTS_SQL, (10,))
    assert "USING INDEX passage_counts_pending" in counts


def test_a_new_passage_defaults_to_a_fresh_uuid() -> None:
    first = NewPassage(Direction.ENTRY, PassageKind.ADMITTED, "ok", NOW, UnitMode.IN_SERVICE)
    second = NewPassage(Direction.ENTRY, PassageKind.ADMITTED, "ok", NOW, UnitMode.IN_SERVICE)
    assert first.passage_id != second.passage_id


@pytest.mark.parametrize("limit", [0, -1])
def test_a_page_of_pending_rows_needs_a_positive_size(store: UnitStore, limit: int) -> None:
    with pytest.raises(ValueError, match="limit"):
        store.journal.pending(limit=limit)
    with pytest.raises(ValueError, match="limit"):
        store.counters.pending(limit=limit)
