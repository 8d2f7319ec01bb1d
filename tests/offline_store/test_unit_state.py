"""The unit's small state: enrolment, mode, facts, sync cursors, verification keys."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from store_samples import NOW, open_store, revocation, ticket

from offline_store import DeviceIdentity, HolderTagKey, UnitMode, UnitStore
from protocol.ids import StationCode
from protocol.keys import KeyRing, SigningKey

IDENTITY = DeviceIdentity(
    device_id="gate-07",
    kind="gate",
    station=StationCode("VNP"),
    central_url="https://central.example:8443",
    credential="s3cr3t-bearer-token",
    enrolled_at=NOW,
)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[UnitStore]:
    with open_store(tmp_path / "gate.db") as opened:
        yield opened


def ring(*key_ids: int) -> KeyRing:
    """A ring of fixed public keys."""
    return KeyRing(
        SigningKey.from_private_hex(key_id, f"{key_id:02x}" * 32).public_key() for key_id in key_ids
    )


def test_enrolment_survives_a_restart_and_is_replaced_whole(tmp_path: Path) -> None:
    path = tmp_path / "gate.db"
    with open_store(path) as store:
        assert store.enrolment.current() is None
        store.enrolment.replace(IDENTITY)
    with open_store(path) as store:
        assert store.enrolment.current() == IDENTITY
        again = dataclasses.replace(IDENTITY, credential="rotated", station=StationCode("NKH"))
        store.enrolment.replace(again)
        assert store.enrolment.current() == again


def test_the_credential_never_shows_in_a_repr() -> None:
    assert "s3cr3t" not in repr(IDENTITY)
    assert "gate-07" in repr(IDENTITY)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"credential": ""}, "credential"),
        ({"station": "vnp"}, "station"),
        ({"kind": "Gate!"}, "kind"),
        ({"enrolled_at": NOW.replace(tzinfo=None)}, "timezone-aware"),
    ],
)
def test_an_identity_is_checked(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        dataclasses.replace(IDENTITY, **changes)  # type: ignore[arg-type]


def test_the_mode_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "gate.db"
    with open_store(path) as store:
        assert store.state.mode() is None
        store.state.set_mode(UnitMode.FLOW_CONTROL, NOW)
    with open_store(path) as store:
        assert store.state.mode() is UnitMode.FLOW_CONTROL


def test_an_unknown_mode_is_refused(store: UnitStore) -> None:
    with pytest.raises(ValueError):
        store.state.set_mode("asleep", NOW)  # type: ignore[arg-type]


def test_facts_hold_numbers_and_texts_and_count(store: UnitStore) -> None:
    store.state.set_fact("last_sync_note", "feed ok")
    store.state.set_fact("clock_offset_s", 0.25)
    assert store.state.increment("refusals") == 1
    assert store.state.increment("refusals", 4) == 5
    assert store.state.fact("refusals") == 5
    assert store.state.fact("clock_offset_s") == 0.25
    assert store.state.fact("last_sync_note") == "feed ok"
    assert store.state.fact("never_set") is None
    with pytest.raises(ValueError, match="integer"):
        store.state.increment("last_sync_note")


@pytest.mark.parametrize("value", [True, None, float("nan"), b"raw", "x" * 3000])
def test_a_fact_refuses_what_it_cannot_hold(store: UnitStore, value: object) -> None:
    with pytest.raises(ValueError):
        store.state.set_fact("note", value)  # type: ignore[arg-type]


def test_cursors_hold_integers_or_texts(store: UnitStore) -> None:
    assert store.cursors.get_int("station_feed") == 0
    store.cursors.set("station_feed", 4812)
    store.cursors.set("keys_etag", "W/abc")
    assert store.cursors.get_int("station_feed") == 4812
    assert store.cursors.get("keys_etag") == "W/abc"
    with pytest.raises(ValueError, match="text"):
        store.cursors.get_int("keys_etag")
    with pytest.raises(ValueError, match="integer or a text"):
        store.cursors.set("station_feed", 1.5)  # type: ignore[arg-type]


def test_a_page_and_its_cursor_commit_together_or_not_at_all(store: UnitStore) -> None:
    with pytest.raises(ValueError), store.transaction():
        store.tickets.upsert([ticket(1)])
        store.revocations.record([revocation(2)])
        store.cursors.set("station_feed", 2)
        store.tickets.upsert([ticket(3, event_id=-5)])  # a bad record later in the page
    assert store.cursors.get("station_feed") is None
    assert store.tickets.count() == 0


def test_a_new_ring_replaces_the_old_one_whole(store: UnitStore) -> None:
    assert len(store.keys.ring()) == 0
    store.keys.replace_ring(ring(1, 2))
    store.keys.replace_ring(ring(2, 3))
    stored = store.keys.ring()
    assert stored.key_ids() == [2, 3]
    assert stored.get(3) == ring(3).get(3)


def test_an_empty_ring_is_refused_and_the_stored_one_kept(store: UnitStore) -> None:
    store.keys.replace_ring(ring(1))
    with pytest.raises(ValueError, match="at least one key"):
        store.keys.replace_ring(KeyRing())
    assert store.keys.ring().key_ids() == [1]


def test_a_units_key_keeps_its_station_scope_and_centrals_keys_have_none(
    store: UnitStore,
) -> None:
    store.keys.replace_ring(ring(1, 130), {130: "VNP"})
    keys = store.keys.scoped_ring()
    assert keys.ring.key_ids() == [1, 130] and dict(keys.scopes) == {130: "VNP"}
    assert keys.allows(1, "SHH") and keys.allows(130, "VNP")
    assert not keys.allows(130, "SHH")  # a TVM's key signs only tickets boarding at its station
    store.keys.replace_ring(ring(1))
    assert dict(store.keys.scoped_ring().scopes) == {}


def test_a_scope_for_a_key_not_in_the_ring_is_refused(store: UnitStore) -> None:
    store.keys.replace_ring(ring(1))
    with pytest.raises(ValueError, match="does not hold"):
        store.keys.replace_ring(ring(2), {3: "VNP"})
    assert store.keys.ring().key_ids() == [1]


def test_the_holder_tag_key_is_replaced_and_never_shown(store: UnitStore) -> None:
    assert store.keys.holder_tag_key() is None
    store.keys.set_holder_tag_key(HolderTagKey(1, b"\x01" * 32))
    store.keys.set_holder_tag_key(HolderTagKey(2, b"\x02" * 32))
    assert store.keys.holder_tag_key() == HolderTagKey(2, b"\x02" * 32)
    assert "\\x02" not in repr(HolderTagKey(2, b"\x02" * 32))
    with pytest.raises(ValueError):
        HolderTagKey(3, b"")


def test_ring_and_tag_key_arrive_together_in_one_transaction(store: UnitStore) -> None:
    with pytest.raises(RuntimeError), store.transaction():
        store.keys.replace_ring(ring(5))
        store.keys.set_holder_tag_key(HolderTagKey(5, b"\x05" * 16))
        raise RuntimeError("the response was cut short")
    assert len(store.keys.ring()) == 0
    assert store.keys.holder_tag_key() is None
