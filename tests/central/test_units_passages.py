"""Passages gates upload, through the HTTP API on both stores.

Each passage is stored once by its id, whatever the retries; central checks
each new admission against those it holds and records what it finds as an
anomaly (time, device, ticket, kind) that operators list by station and
report day: a ticket admitted twice the same way (at one gate or two), one
admitted after its refund, a forged token. An annulment (nobody walked
through) cancels its admission. Counts per slot are totals: a resent one
replaces what central had.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from conftest import Api, FakeClock, device_token
from sqlalchemy import func, select
from units_fixtures import (
    arrival,
    as_unit,
    beijing,
    error_code,
    id_number,
    load_small_run,
    sell,
    service_of,
)

from central.store import tables as t
from protocol.units import MAX_PASSAGES_PER_UPLOAD


class Gate:
    """An enrolled gate that uploads what it journaled."""

    def __init__(self, api: Api, name: str, station: str = "AAA") -> None:
        self.api = api
        self.name = name
        self.token = device_token(api, name, "gate", station)

    def upload(self, passages: list[dict[str, Any]], counts: Any = ()) -> dict[str, Any]:
        response = self.send({"passages": passages, "counts": list(counts)})
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        return answer

    def send(self, body: Any) -> Any:
        return as_unit(self.api, self.token, "POST", "/v1/passages", json=body)


def passage(
    ticket_id: str | None,
    at: datetime,
    kind: str = "admitted",
    direction: str = "entry",
    **extra: Any,
) -> dict[str, Any]:
    """A journaled gate event as a gate uploads it."""
    return {
        "passage_id": str(uuid.uuid4()),
        "ticket_id": ticket_id,
        "direction": direction,
        "kind": kind,
        "at": at.isoformat(),
        "mode": "in_service",
        **extra,
    }


def annulment(of: dict[str, Any], at: datetime) -> dict[str, Any]:
    return passage(of["ticket_id"], at, "annulled", of["direction"], annuls=of["passage_id"])


def anomalies(api: Api, day: str, station: str | None = None) -> list[dict[str, Any]]:
    params = {"date": day} | ({"station": station} if station else {})
    response = api.get("/v1/anomalies", params=params)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()
    return found


def stored_passages(api: Api) -> int:
    with service_of(api).engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(t.passages)).scalar_one())


def counts(api: Api) -> dict[tuple[str, str, datetime, str], tuple[int, int]]:
    """Stored counts: (device, direction, slot start, kind) -> (count, slot minutes)."""
    with service_of(api).engine.connect() as conn:
        rows = conn.execute(select(t.passage_counts)).all()
    return {
        (r.device_id, r.direction, r.slot_start, r.kind): (r._mapping["count"], r.slot_minutes)
        for r in rows
    }


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture
def sold(api: Api) -> list[dict[str, Any]]:
    """Three issued tickets AAA to CCC."""
    load_small_run(api)
    return [sell(api, "AAA", "CCC", id_number(n)) for n in range(3)]


DAY = "2026-11-26"  # the small train's day, Beijing time
EIGHT = timedelta(hours=8)


# ------------------------------------------------------------- idempotency


def test_an_upload_answers_what_was_new_and_a_retry_changes_nothing(
    api: Api, sold: list[dict[str, Any]], clock: FakeClock
) -> None:
    gate = Gate(api, "gate-a")
    journal = [passage(ticket["ticket_id"], beijing("07:40")) for ticket in sold]
    journal.append(passage(sold[0]["ticket_id"], beijing("07:41")))  # the first one again
    first = gate.upload(journal)
    assert (first["accepted"], first["duplicates"]) == (4, 0)
    assert [c["kind"] for c in first["conflicts"]] == ["double_admission"]
    assert datetime.fromisoformat(first["central_time"]) == clock.now
    listed = anomalies(api, DAY)
    clock.advance(minutes=1)
    again = gate.upload(journal)
    assert (again["accepted"], again["duplicates"]) == (0, 4)
    assert stored_passages(api) == 4
    assert anomalies(api, DAY) == listed and len(listed) == 1
    # the first answer may have been lost: the retry tells the gate what it found then
    assert again["conflicts"] == first["conflicts"]


def test_a_batch_that_repeats_a_passage_stores_it_once(
    api: Api, sold: list[dict[str, Any]]
) -> None:
    gate = Gate(api, "gate-a")
    one = passage(sold[0]["ticket_id"], beijing("07:40"))
    answer = gate.upload([one, one])
    assert (answer["accepted"], answer["duplicates"], answer["conflicts"]) == (1, 1, [])
    assert stored_passages(api) == 1
    twice = passage(sold[0]["ticket_id"], beijing("07:50"))  # a double admission, sent twice
    answer = gate.upload([twice, twice])
    assert (answer["accepted"], answer["duplicates"]) == (1, 1)
    assert [c["passage_id"] for c in answer["conflicts"]] == [twice["passage_id"]]
    assert len(anomalies(api, DAY)) == 1


def test_a_partly_known_batch_stores_only_the_new_passages(
    api: Api, sold: list[dict[str, Any]]
) -> None:
    gate = Gate(api, "gate-a")
    early = [passage(sold[0]["ticket_id"], beijing("07:40"))]
    gate.upload(early)
    later = [*early, passage(sold[1]["ticket_id"], beijing("07:42"))]
    answer = gate.upload(later)
    assert (answer["accepted"], answer["duplicates"], answer["conflicts"]) == (1, 1, [])
    assert stored_passages(api) == 2


# ------------------------------------------------------------- conflicts and anomalies


def test_the_same_ticket_admitted_at_two_gates_is_a_double_admission(
    api: Api, sold: list[dict[str, Any]]
) -> None:
    gate_a, gate_b = Gate(api, "gate-a"), Gate(api, "gate-b")
    ticket_id = sold[0]["ticket_id"]
    first = passage(ticket_id, beijing("07:40"))
    central_at = beijing("07:45") + timedelta(seconds=2)  # the gate's estimate of central's clock
    second = passage(ticket_id, beijing("07:45"), central_at=central_at.isoformat())
    assert gate_a.upload([first])["conflicts"] == []
    (conflict,) = gate_b.upload([second])["conflicts"]
    assert {k: v for k, v in conflict.items() if k != "other_at"} == {
        "passage_id": second["passage_id"],
        "ticket_id": ticket_id,
        "kind": "double_admission",
        "other_device": "gate-a",
    }
    assert _utc(conflict["other_at"]) == beijing("07:40")
    (anomaly,) = anomalies(api, DAY, "AAA")
    assert (anomaly["device_id"], anomaly["ticket_id"], anomaly["kind"]) == (
        "gate-b",
        ticket_id,
        "double_admission",
    )
    assert _utc(anomaly["at"]) == central_at
    assert anomaly["station"] == "AAA" and anomaly["detail"]["other_device"] == "gate-a"


def test_a_double_admission_is_reported_whatever_the_time_spelling(
    api: Api, sold: list[dict[str, Any]]
) -> None:
    gate_a, gate_b = Gate(api, "gate-a"), Gate(api, "gate-b")
    ticket_id = sold[0]["ticket_id"]
    gate_a.upload([passage(ticket_id, beijing("07:40"))])
    local = beijing("07:45").astimezone(UTC) + EIGHT
    at = local.replace(tzinfo=None).isoformat() + "+08:00"  # Beijing wall clock
    (conflict,) = gate_b.upload([{**passage(ticket_id, beijing("07:45")), "at": at}])["conflicts"]
    assert _utc(conflict["other_at"]) == beijing("07:40")
    (anomaly,) = anomalies(api, DAY)
    assert _utc(anomaly["at"]) == beijing("07:45")


def test_one_gate_admitting_a_ticket_twice_is_a_double_admission_too(
    api: Api, sold: list[dict[str, Any]]
) -> None:
    gate = Gate(api, "gate-a")
    ticket_id = sold[0]["ticket_id"]
    gate.upload([passage(ticket_id, beijing("07:40"))])
    (conflict,) = gate.upload([passage(ticket_id, beijing("07:50"))])["conflicts"]
    assert (conflict["kind"], conflict["other_device"]) == ("double_admission", "gate-a")


def test_entry_and_exit_of_one_ticket_are_no_conflict(api: Api, sold: list[dict[str, Any]]) -> None:
    entry, exit_gate = Gate(api, "gate-a", "AAA"), Gate(api, "gate-c", "CCC")
    ticket_id = sold[0]["ticket_id"]
    assert entry.upload([passage(ticket_id, beijing("07:40"))])["conflicts"] == []
    out = passage(ticket_id, arrival("CCC") + timedelta(minutes=5), direction="exit")
    assert exit_gate.upload([out])["conflicts"] == []
    assert anomalies(api, DAY) == []


def test_an_annulled_admission_leaves_the_ticket_usable(
    api: Api, sold: list[dict[str, Any]]
) -> None:
    gate_a, gate_b = Gate(api, "gate-a"), Gate(api, "gate-b")
    ticket_id = sold[0]["ticket_id"]
    nobody_passed = passage(ticket_id, beijing("07:40"))
    answer = gate_a.upload([nobody_passed, annulment(nobody_passed, beijing("07:40"))])
    assert (answer["accepted"], answer["conflicts"]) == (2, [])
    answer = gate_b.upload([passage(ticket_id, beijing("07:43"))])
    assert answer["conflicts"] == [] and anomalies(api, DAY) == []


def test_an_annulment_in_a_later_batch_cancels_its_admission(
    api: Api, sold: list[dict[str, Any]]
) -> None:
    gate_a, gate_b = Gate(api, "gate-a"), Gate(api, "gate-b")
    ticket_id = sold[0]["ticket_id"]
    nobody_passed = passage(ticket_id, beijing("07:40"))
    gate_a.upload([nobody_passed])
    gate_a.upload([annulment(nobody_passed, beijing("07:40"))])
    assert gate_b.upload([passage(ticket_id, beijing("07:43"))])["conflicts"] == []


def test_a_gate_cannot_annul_another_gates_admission(api: Api, sold: list[dict[str, Any]]) -> None:
    gate_a, gate_b = Gate(api, "gate-a"), Gate(api, "gate-b")
    ticket_id = sold[0]["ticket_id"]
    admitted = passage(ticket_id, beijing("07:40"))
    gate_a.upload([admitted])
    gate_b.upload([annulment(admitted, beijing("07:41"))])
    (conflict,) = gate_b.upload([passage(ticket_id, beijing("07:43"))])["conflicts"]
    assert (conflict["kind"], conflict["other_device"]) == ("double_admission", "gate-a")


def test_an_admission_after_the_refund_is_admitted_revoked(
    api: Api, sold: list[dict[str, Any]], clock: FakeClock
) -> None:
    gate = Gate(api, "gate-a")
    refunded_at = clock.now
    ticket_id = sold[0]["ticket_id"]
    assert api.post(f"/v1/tickets/{ticket_id}/refund").status_code == 200
    offline = passage(ticket_id, beijing("07:40"))  # the gate had not synced since
    (conflict,) = gate.upload([offline])["conflicts"]
    assert (conflict["kind"], conflict["ticket_id"]) == ("admitted_revoked", ticket_id)
    assert _utc(conflict["other_at"]) == refunded_at and conflict["other_device"] is None
    (anomaly,) = anomalies(api, DAY, "AAA")
    assert (anomaly["kind"], anomaly["device_id"]) == ("admitted_revoked", "gate-a")


def test_an_admission_before_the_refund_is_no_anomaly(
    api: Api, sold: list[dict[str, Any]], clock: FakeClock
) -> None:
    gate = Gate(api, "gate-a")
    ticket_id = sold[0]["ticket_id"]
    admitted_at = clock.now - timedelta(minutes=5)
    assert api.post(f"/v1/tickets/{ticket_id}/refund").status_code == 200
    answer = gate.upload([passage(ticket_id, admitted_at)])
    assert answer["conflicts"] == []
    # the gate's own clock may be off: central's time, when the gate knows it, decides
    skewed = passage(sold[1]["ticket_id"], clock.now + timedelta(hours=1))
    skewed["central_at"] = (clock.now - timedelta(minutes=1)).isoformat()
    assert api.post(f"/v1/tickets/{sold[1]['ticket_id']}/refund").status_code == 200
    assert gate.upload([skewed])["conflicts"] == []


def test_an_admission_of_a_changed_ticket_is_admitted_revoked(
    api: Api, sold: list[dict[str, Any]]
) -> None:
    gate = Gate(api, "gate-a")
    ticket_id = sold[0]["ticket_id"]
    change = {
        "train": "G7301",
        "date": DAY,
        "from": "AAA",
        "to": "BBB",
        "class": "ZE",
        "id_number": id_number(0),
    }
    assert api.post(f"/v1/tickets/{ticket_id}/change", change).status_code == 200
    (conflict,) = gate.upload([passage(ticket_id, beijing("07:40"))])["conflicts"]
    assert conflict["kind"] == "admitted_revoked"


@pytest.mark.parametrize("reason", ["bad_signature", "unknown_key"])
def test_a_refusal_for_a_forged_token_is_a_forged_ticket(
    api: Api, sold: list[dict[str, Any]], reason: str
) -> None:
    gate = Gate(api, "gate-a")
    refused = passage(None, beijing("07:40"), "refused", reason=reason)
    (conflict,) = gate.upload([refused])["conflicts"]
    assert (conflict["kind"], conflict["ticket_id"]) == ("forged_ticket", None)
    (anomaly,) = anomalies(api, DAY, "AAA")
    assert (anomaly["kind"], anomaly["device_id"], anomaly["detail"]["reason"]) == (
        "forged_ticket",
        "gate-a",
        reason,
    )


@pytest.mark.parametrize("reason", ["too_early", "already_used", "wrong_station", "revoked"])
def test_an_ordinary_refusal_is_no_anomaly(
    api: Api, sold: list[dict[str, Any]], reason: str
) -> None:
    gate = Gate(api, "gate-a")
    refused = passage(sold[0]["ticket_id"], beijing("07:40"), "refused", reason=reason)
    assert gate.upload([refused])["conflicts"] == [] and anomalies(api, DAY) == []


def test_emergency_passages_are_stored_without_conflicts(
    api: Api, sold: list[dict[str, Any]]
) -> None:
    gate = Gate(api, "gate-a")
    free = [passage(None, beijing("07:40"), "emergency", mode="emergency") for _ in range(3)]
    answer = gate.upload(free)
    assert (answer["accepted"], answer["conflicts"]) == (3, [])


# ------------------------------------------------------------- counts


def test_counts_are_stored_per_device_direction_slot_and_kind_and_replaced(
    api: Api, sold: list[dict[str, Any]]
) -> None:
    gate_a, gate_b = Gate(api, "gate-a"), Gate(api, "gate-b")
    slot = beijing("07:30")

    def count(n: int, **extra: Any) -> dict[str, Any]:
        return {
            "slot_start": slot.isoformat(),
            "slot_minutes": 15,
            "direction": "entry",
            "kind": "admitted",
            "count": n,
            **extra,
        }

    gate_a.upload([], [count(5), count(1, kind="refused"), count(2, direction="exit")])
    gate_b.upload([], [count(7)])
    gate_a.upload([], [count(6)])  # the total grew: it replaces, it does not add
    beijing_spelling = (slot + EIGHT).replace(tzinfo=None).isoformat() + "+08:00"
    gate_a.upload([], [count(9, slot_start=beijing_spelling)])  # the same slot
    gate_a.upload([], [count(3, slot_start=(slot + timedelta(minutes=15)).isoformat())])
    stored = counts(api)
    assert stored == {
        ("gate-a", "entry", slot, "admitted"): (9, 15),
        ("gate-a", "entry", slot, "refused"): (1, 15),
        ("gate-a", "exit", slot, "admitted"): (2, 15),
        ("gate-b", "entry", slot, "admitted"): (7, 15),
        ("gate-a", "entry", slot + timedelta(minutes=15), "admitted"): (3, 15),
    }
    gate_a.upload([], [count(9)])  # a retry
    assert counts(api) == stored


@pytest.mark.parametrize(
    "bad",
    [
        {"count": -1},
        {"count": "3"},
        {"slot_minutes": 0},
        {"slot_minutes": 1441},
        {"kind": "walked"},
        {"direction": "sideways"},
        {"slot_start": "2026-11-26T07:30:00"},  # no zone
    ],
)
def test_a_bad_count_is_422_and_changes_nothing(api: Api, bad: dict[str, Any]) -> None:
    gate = Gate(api, "gate-a")
    good = {
        "slot_start": beijing("07:30").isoformat(),
        "slot_minutes": 15,
        "direction": "entry",
        "kind": "admitted",
        "count": 1,
    }
    response = gate.send({"passages": [], "counts": [{**good, **bad}]})
    assert response.status_code == 422 and error_code(response) == "validation_failed"
    assert counts(api) == {}


# ------------------------------------------------------------- validation


@pytest.mark.parametrize(
    "bad",
    [
        {"passage_id": "not-a-uuid"},
        {"passage_id": str(uuid.uuid4()).upper()},
        {"ticket_id": "XYZ"},
        {"direction": "up"},
        {"kind": "teleported"},
        {"at": "2026-11-26T07:40:00"},  # no zone
        {"mode": "In Service"},
        {"reason": "x" * 41},
        {"annuls": "nope"},
        {"surprise": 1},
    ],
)
def test_a_bad_passage_is_422_and_stores_nothing(
    api: Api, sold: list[dict[str, Any]], bad: dict[str, Any]
) -> None:
    gate = Gate(api, "gate-a")
    good = passage(sold[0]["ticket_id"], beijing("07:40"))
    response = gate.send({"passages": [good, {**passage(None, beijing("07:41")), **bad}]})
    assert response.status_code == 422 and error_code(response) == "validation_failed"
    assert stored_passages(api) == 0


def test_too_many_passages_in_one_upload_is_422(api: Api) -> None:
    gate = Gate(api, "gate-a")
    many = [passage(None, beijing("07:40"), "emergency")] * (MAX_PASSAGES_PER_UPLOAD + 1)
    response = gate.send({"passages": many})
    assert response.status_code == 422 and stored_passages(api) == 0


def test_the_largest_upload_is_taken(api: Api) -> None:
    gate = Gate(api, "gate-a")
    many = [passage(None, beijing("07:40"), "emergency") for _ in range(MAX_PASSAGES_PER_UPLOAD)]
    assert gate.upload(many)["accepted"] == MAX_PASSAGES_PER_UPLOAD
    assert gate.upload(many)["duplicates"] == MAX_PASSAGES_PER_UPLOAD


# ------------------------------------------------------------- listing anomalies


def test_anomalies_are_listed_by_station_and_report_day(
    api: Api, sold: list[dict[str, Any]]
) -> None:
    gate_a, gate_b = Gate(api, "gate-a", "AAA"), Gate(api, "gate-b", "BBB")
    last_second = datetime(2026, 11, 25, 15, 59, 59, tzinfo=UTC)  # 23:59:59 in Beijing
    midnight = datetime(2026, 11, 25, 16, 0, tzinfo=UTC)  # the 26th begins in Beijing
    forged = {"kind": "refused", "reason": "bad_signature"}
    gate_a.upload([passage(None, last_second, **forged), passage(None, midnight, **forged)])
    gate_b.upload([passage(None, midnight + timedelta(hours=1), **forged)])
    day_25 = anomalies(api, "2026-11-25")
    assert [(a["device_id"], _utc(a["at"])) for a in day_25] == [("gate-a", last_second)]
    day_26 = anomalies(api, "2026-11-26")
    assert [(a["station"], _utc(a["at"])) for a in day_26] == [
        ("AAA", midnight),
        ("BBB", midnight + timedelta(hours=1)),
    ]
    assert [a["station"] for a in anomalies(api, "2026-11-26", "BBB")] == ["BBB"]
    assert anomalies(api, "2026-11-26", "CCC") == []
    assert len({a["anomaly_id"] for a in day_25 + day_26}) == 3


@pytest.mark.parametrize(
    "params",
    [{"date": "2026-13-01"}, {"date": "yesterday"}, {}, {"date": DAY, "station": "aa"}],
)
def test_a_bad_date_or_station_is_422(api: Api, params: dict[str, str]) -> None:
    response = api.get("/v1/anomalies", params=params)
    assert response.status_code == 422 and error_code(response) == "validation_failed"


def test_an_anomaly_is_dated_by_centrals_time_when_the_gate_knows_it(
    api: Api, sold: list[dict[str, Any]]
) -> None:
    gate = Gate(api, "gate-a")
    gate_clock = datetime(2026, 11, 25, 15, 59, tzinfo=UTC)  # the gate's clock, a bit slow
    central_clock = datetime(2026, 11, 25, 16, 1, tzinfo=UTC)
    refused = passage(None, gate_clock, "refused", reason="bad_signature")
    gate.upload([{**refused, "central_at": central_clock.isoformat()}])
    assert anomalies(api, "2026-11-25") == []
    (anomaly,) = anomalies(api, "2026-11-26")
    assert _utc(anomaly["at"]) == central_clock
    assert _utc(anomaly["detail"]["gate_time"]) == gate_clock
