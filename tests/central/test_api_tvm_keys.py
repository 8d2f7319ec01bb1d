"""TVM signing keys through the API, on both stores, and what the gates' feed would publish.

A TVM registers its public key and gets an id in 128..254; the same key
again answers the same, a new one replaces it under a new id. Every gate is
given every TVM's keys, each scoped to its TVM's station; a replaced key
stays published while tickets it may have signed can be used; a revoked
unit's keys are not published.
"""

from __future__ import annotations

from typing import Any

from conftest import Api, FakeClock, device_token
from sqlalchemy import create_engine
from tvm_fixtures import enrolled_tvm, leased, load_small_run

from central.blocks.keys import published
from central.settings import CentralSettings
from protocol.keys import SigningKey
from protocol.tvm import FIRST_UNIT_KEY_ID, LAST_UNIT_KEY_ID, UnitKey


def published_keys(settings: CentralSettings, clock: FakeClock) -> list[UnitKey]:
    engine = create_engine(settings.database_url)
    try:
        with engine.connect() as conn:
            return [UnitKey.model_validate(key) for key in published(conn, clock.now)]
    finally:
        engine.dispose()


def hex_of(key: SigningKey | None) -> str:
    assert key is not None
    return key.public_key().public_hex()


def test_a_tvm_registers_its_key_and_gets_a_unit_key_id(api: Api) -> None:
    tvm = enrolled_tvm(api, "BBB", with_key=False)
    key = SigningKey.generate(0)
    first = tvm.register_key(key)
    assert first.status_code == 200, first.text
    assert FIRST_UNIT_KEY_ID <= first.json()["key_id"] <= LAST_UNIT_KEY_ID
    assert first.json()["public_key"] == hex_of(key)
    again = tvm.register_key(key)
    assert again.json() == first.json()
    audit = api.get("/v1/audit").json()[0]
    assert (audit["action"], audit["actor"]) == ("unit_key.register", tvm.device_id)


def test_a_new_key_replaces_the_old_under_a_new_id(
    api: Api, settings: CentralSettings, clock: FakeClock
) -> None:
    tvm = enrolled_tvm(api, "BBB")
    assert tvm.key is not None
    ids = [tvm.key.key_id]
    for _ in range(3):
        assert tvm.register_key().status_code == 200
        ids.append(tvm.key.key_id)
    assert len(set(ids)) == 4  # ids least recently used first: none given again yet
    [current] = published_keys(settings, clock)  # no block: old keys signed nothing
    assert (current.key_id, current.public_key) == (ids[-1], hex_of(tvm.key))


def test_keys_are_published_each_with_its_stations_scope_until_revoked(
    api: Api, settings: CentralSettings, clock: FakeClock
) -> None:
    bbb, ccc = enrolled_tvm(api, "BBB"), enrolled_tvm(api, "CCC")
    scopes = {k.device_id: (k.station, k.public_key) for k in published_keys(settings, clock)}
    assert scopes == {
        bbb.device_id: ("BBB", hex_of(bbb.key)),
        ccc.device_id: ("CCC", hex_of(ccc.key)),
    }
    assert api.post(f"/v1/devices/{bbb.device_id}/revoke").status_code == 200
    assert [k.device_id for k in published_keys(settings, clock)] == [ccc.device_id]


def test_every_stations_feed_carries_the_tvm_keys_with_their_scope(api: Api) -> None:
    bbb = enrolled_tvm(api, "BBB")
    gate = device_token(api, "gate-ddd-1", "gate", "DDD")
    page = api.client.get(
        "/v1/stations/DDD/feed", headers={"Authorization": f"Bearer {gate}"}
    ).json()
    assert [(k["device_id"], k["station"]) for k in page["unit_keys"]] == [(bbb.device_id, "BBB")]
    assert page["unit_keys"][0]["public_key"] == hex_of(bbb.key)


def test_a_replaced_key_stays_published_while_its_tickets_may_be_used(
    api: Api, settings: CentralSettings, clock: FakeClock
) -> None:
    load_small_run(api)
    tvm = enrolled_tvm(api, "BBB")
    old = hex_of(tvm.key)
    leased(api, tvm, 1)
    assert tvm.register_key().status_code == 200
    keys = {key.public_key: key for key in published_keys(settings, clock)}
    assert set(keys) == {old, hex_of(tvm.key)}
    # the block's tickets are valid until the train's last arrival and the window after it
    clock.now = clock.now.replace(month=12, day=3, hour=3, minute=49)
    assert old in {key.public_key for key in published_keys(settings, clock)}
    clock.now = clock.now.replace(hour=3, minute=51)
    assert [key.public_key for key in published_keys(settings, clock)] == [hex_of(tvm.key)]


def test_a_key_is_one_units_and_never_registered_twice(api: Api) -> None:
    first, second = enrolled_tvm(api, "BBB"), enrolled_tvm(api, "BBB")
    assert first.key is not None
    taken = second.register_key(first.key)
    assert (taken.status_code, taken.json()["error"]["code"]) == (409, "signing_key_refused")
    old = first.key
    assert first.register_key().status_code == 200
    back = first.register_key(old)
    assert (back.status_code, back.json()["error"]["code"]) == (409, "signing_key_refused")


def test_only_a_tvm_registers_a_key_and_a_key_is_64_hex_digits(api: Api) -> None:
    tvm = enrolled_tvm(api, "BBB", with_key=False)
    key: dict[str, Any] = {"public_key": hex_of(SigningKey.generate(0))}
    assert (
        api.client.post("/v1/units/me/signing-key", json=key, headers=api.auth).status_code == 403
    )
    for bad in ("AB" * 32, "ab" * 31, "zz" * 32):
        answer = api.client.post(
            "/v1/units/me/signing-key", json={"public_key": bad}, headers=tvm.auth
        )
        assert (answer.status_code, answer.json()["error"]["code"]) == (422, "validation_failed")
