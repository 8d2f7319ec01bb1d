"""Units and central: enrolment by one-time code, the unit's credential, revocation, scopes.

Through the HTTP API on both stores. An operator registers a gate or a TVM
and gets a short, expiring code (a selling channel gets its token at once);
the unit exchanges the code once for the credential it made, and central
answers who the unit is. A revoked or unknown credential is 401, a caller of
the wrong kind 403; a gate reads only its own station's feed.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from conftest import Api, FakeClock, device_token
from units_fixtures import (
    STATIONS,
    as_unit,
    bearer,
    credential,
    enrol,
    error_code,
    load_small_run,
    register,
    sell,
    service_of,
)

from central.api.access import Authenticator, AuthError
from protocol.units import ENROLMENT_CODE_PATTERN

CODE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$")  # Crockford, as documented


def registered_code(
    api: Api, device_id: str, kind: str = "gate", station: str = "AAA", **extra: str
) -> str:
    response = register(api, device_id, kind, station, **extra)
    assert response.status_code == 201, response.text
    return str(response.json()["enrolment_code"])


# ------------------------------------------------------------- registration


@pytest.mark.parametrize("kind", ["gate", "tvm"])
def test_a_unit_is_registered_with_a_code_and_its_expiry_never_a_token(
    api: Api, clock: FakeClock, kind: str
) -> None:
    response = register(api, f"{kind}-1", kind, "AAA", gate_group="A1", direction="entry")
    assert response.status_code == 201, response.text
    body = response.json()
    assert "token" not in body and "credential" not in str(body)
    assert CODE.match(body["enrolment_code"]) and re.match(
        ENROLMENT_CODE_PATTERN, body["enrolment_code"]
    )
    assert (body["device_id"], body["kind"], body["station"]) == (f"{kind}-1", kind, "AAA")
    expires = datetime.fromisoformat(body["expires_at"])
    assert (expires - clock.now).total_seconds() == 60 * 60  # enrolment_minutes, default 60


@pytest.mark.parametrize("kind", ["window", "internet"])
def test_a_channel_gets_its_token_at_once(api: Api, kind: str) -> None:
    station = "AAA" if kind == "window" else None
    response = register(api, f"{kind}-1", kind, station)
    assert response.status_code == 201, response.text
    body = response.json()
    assert "enrolment_code" not in body and len(body["token"]) >= 32
    trains = api.client.get("/v1/train-runs", headers=bearer(body["token"]))
    assert trains.status_code == 200, trains.text


@pytest.mark.parametrize("kind", ["gate", "tvm"])
def test_a_unit_without_a_station_is_refused(api: Api, kind: str) -> None:
    response = register(api, f"{kind}-1", kind, None)
    assert response.status_code == 422 and error_code(response) == "validation_failed"
    listed = api.get("/v1/devices").json()
    assert listed == []


def test_two_codes_are_not_alike(api: Api) -> None:
    codes = {registered_code(api, f"gate-{n}") for n in range(8)}
    assert len(codes) == 8


# ------------------------------------------------------------- enrolment


def test_the_exchange_binds_the_credential_and_answers_the_units_profile(
    api: Api, clock: FakeClock
) -> None:
    code = registered_code(api, "gate-1", station="BBB", gate_group="B2", direction="exit")
    clock.advance(minutes=5)
    token, digest = credential()
    response = enrol(api, code, digest)
    assert response.status_code == 200, response.text
    profile = response.json()
    assert profile == {
        "device_id": "gate-1",
        "kind": "gate",
        "station": "BBB",
        "gate_group": "B2",
        "direction": "exit",
        "central_time": profile["central_time"],
    }
    assert datetime.fromisoformat(profile["central_time"]) == clock.now
    me = as_unit(api, token, "GET", "/v1/units/me")
    assert me.status_code == 200, me.text
    assert {k: v for k, v in me.json().items() if k != "central_time"} == {
        k: v for k, v in profile.items() if k != "central_time"
    }


def test_a_tvm_enrols_and_answers_who_it_is(api: Api) -> None:
    code = registered_code(api, "tvm-1", kind="tvm", station="CCC")
    token, digest = credential()
    assert enrol(api, code, digest).status_code == 200
    me = as_unit(api, token, "GET", "/v1/units/me").json()
    assert (me["device_id"], me["kind"], me["station"], me["direction"]) == (
        "tvm-1",
        "tvm",
        "CCC",
        None,
    )


def test_the_same_exchange_again_is_a_retry_and_answers_the_same(
    api: Api, clock: FakeClock
) -> None:
    code = registered_code(api, "gate-1")
    token, digest = credential()
    first = enrol(api, code, digest)
    clock.advance(hours=3)  # the answer was lost; the code has expired since
    again = enrol(api, code, digest)
    assert again.status_code == 200, again.text
    without_time = {k: v for k, v in first.json().items() if k != "central_time"}
    assert {k: v for k, v in again.json().items() if k != "central_time"} == without_time
    assert as_unit(api, token, "GET", "/v1/units/me").status_code == 200


def test_a_spent_code_refuses_another_credential_and_keeps_the_first(api: Api) -> None:
    code = registered_code(api, "gate-1")
    token, digest = credential()
    assert enrol(api, code, digest).status_code == 200
    thief, other = credential()
    refused = enrol(api, code, other)
    assert refused.status_code == 409 and error_code(refused) == "enrolment_code_spent"
    assert as_unit(api, thief, "GET", "/v1/units/me").status_code == 401
    assert as_unit(api, token, "GET", "/v1/units/me").status_code == 200


def test_an_expired_code_is_refused_and_a_fresh_one_works(api: Api, clock: FakeClock) -> None:
    code = registered_code(api, "gate-1")
    clock.advance(minutes=60)  # exactly at the expiry
    _, digest = credential()
    refused = enrol(api, code, digest)
    assert refused.status_code == 409 and error_code(refused) == "enrolment_code_expired"
    assert api.get("/v1/devices").json()[0]["enrolled"] is False
    fresh = registered_code(api, "gate-2")
    assert enrol(api, fresh, digest).status_code == 200


def test_a_code_just_before_its_expiry_works(api: Api, clock: FakeClock) -> None:
    code = registered_code(api, "gate-1")
    clock.advance(minutes=59, seconds=59)
    assert enrol(api, code, credential()[1]).status_code == 200


def test_an_unknown_code_is_404(api: Api) -> None:
    registered_code(api, "gate-1")
    response = enrol(api, "0000-0000", credential()[1])
    assert response.status_code == 404 and error_code(response) == "unknown_enrolment_code"


@pytest.mark.parametrize(
    ("code", "digest"),
    [
        ("ABCD-EFG", "a" * 64),  # too short
        ("ABCDEFGHJ", "a" * 64),  # no dash, too long
        ("ABCD-EFGU", "a" * 64),  # U is not in Crockford's alphabet
        ("", "a" * 64),
        ("ABCD-EFGH", "A" * 64),  # upper-case hex
        ("ABCD-EFGH", "a" * 63),
        ("ABCD-EFGH", "g" * 64),
        ("ABCD-EFGH", ""),
    ],
)
def test_a_malformed_code_or_hash_is_422(api: Api, code: str, digest: str) -> None:
    response = enrol(api, code, digest)
    assert response.status_code == 422 and error_code(response) == "validation_failed"


def test_a_code_is_read_as_crockford_base32_reads_it(api: Api) -> None:
    """A technician may type lower case and mistake 0/O and 1/I/L: the code still works."""
    code = registered_code(api, "gate-1")
    typed = code.lower().replace("0", "o").replace("1", "l")
    _, digest = credential()
    response = enrol(api, f" {typed} ", digest)
    assert response.status_code == 200, response.text
    without_dash = enrol(api, code.replace("-", "").replace("1", "I"), digest)  # a retry
    assert without_dash.status_code == 200, without_dash.text


def test_a_credential_bound_to_another_unit_is_refused_and_the_code_stays_unspent(
    api: Api,
) -> None:
    first, second = registered_code(api, "gate-1"), registered_code(api, "gate-2")
    token, digest = credential()
    assert enrol(api, first, digest).status_code == 200
    refused = enrol(api, second, digest)
    assert refused.status_code == 409, refused.text
    assert error_code(refused) == "device_exists"
    me = as_unit(api, token, "GET", "/v1/units/me").json()
    assert me["device_id"] == "gate-1"
    assert enrol(api, second, credential()[1]).status_code == 200


def test_a_withdrawn_units_code_no_longer_enrols(api: Api) -> None:
    code = registered_code(api, "gate-1")
    assert api.post("/v1/devices/gate-1/revoke").status_code == 200
    response = enrol(api, code, credential()[1])
    assert response.status_code == 404 and error_code(response) == "unknown_enrolment_code"


# ------------------------------------------------------------- tokens and revocation


def test_a_wrong_token_is_401(api: Api) -> None:
    device_token(api, "gate-1", "gate", "AAA")
    for header in ("Bearer nonsense", "Bearer ", "Basic abc", ""):
        response = api.client.get("/v1/units/me", headers={"Authorization": header})
        assert response.status_code == 401 and error_code(response) == "unauthorized"


def test_revocation_makes_the_token_401_at_once_and_is_audited(api: Api) -> None:
    token = device_token(api, "gate-1", "gate", "AAA")
    other = device_token(api, "gate-2", "gate", "AAA")
    assert as_unit(api, token, "GET", "/v1/units/me").status_code == 200  # remembered now
    revoked = api.post("/v1/devices/gate-1/revoke")
    assert revoked.status_code == 200, revoked.text
    assert revoked.json() == {"device_id": "gate-1", "active": False}
    response = as_unit(api, token, "GET", "/v1/units/me")
    assert response.status_code == 401 and error_code(response) == "unauthorized"
    assert as_unit(api, token, "POST", "/v1/passages", json={"passages": []}).status_code == 401
    assert as_unit(api, other, "GET", "/v1/units/me").status_code == 200
    audit = api.get("/v1/audit").json()
    assert [(a["action"], a["actor"], a["detail"]) for a in audit[:1]] == [
        ("device.revoke", "operator", {"device_id": "gate-1"})
    ]


def test_a_revoked_token_is_401_to_a_fresh_authenticator(api: Api) -> None:
    """Another HTTP process, which never remembered the token, refuses it too."""
    token = device_token(api, "tvm-1", "tvm", "AAA")
    engine = service_of(api).engine
    assert asyncio.run(principal_name(Authenticator(engine, None), token)) == "tvm-1"
    assert api.post("/v1/devices/tvm-1/revoke").status_code == 200
    assert asyncio.run(principal_name(Authenticator(engine, None), token)) == "unauthorized"


async def principal_name(authenticator: Authenticator, token: str) -> str:
    try:
        return (await authenticator.principal(f"Bearer {token}")).name
    except AuthError as exc:
        return str(exc.code)


def test_revoking_an_unknown_device_is_404(api: Api) -> None:
    response = api.post("/v1/devices/nobody/revoke")
    assert response.status_code == 404 and error_code(response) == "unknown_device"


def test_a_retried_revocation_answers_the_same(api: Api) -> None:
    device_token(api, "gate-1", "gate", "AAA")
    first = api.post("/v1/devices/gate-1/revoke", key="revoke-gate-1")
    again = api.post("/v1/devices/gate-1/revoke", key="revoke-gate-1")
    assert (again.status_code, again.json()) == (first.status_code, first.json())
    audit = [a for a in api.get("/v1/audit").json() if a["action"] == "device.revoke"]
    assert len(audit) == 1


def test_the_device_list_has_flags_and_never_a_secret(api: Api, clock: FakeClock) -> None:
    gate_token = device_token(api, "gate-1", "gate", "AAA", gate_group="A1", direction="entry")
    code = registered_code(api, "gate-2", station="BBB")
    window = register(api, "window-1", "window", "AAA").json()["token"]
    device_token(api, "tvm-1", "tvm", "CCC")
    assert api.post("/v1/devices/tvm-1/revoke").status_code == 200
    response = api.get("/v1/devices")
    assert response.status_code == 200, response.text
    listed = {d["device_id"]: d for d in response.json()}
    assert list(listed) == ["gate-1", "gate-2", "tvm-1", "window-1"]
    flags = {d: (v["kind"], v["station"], v["enrolled"], v["active"]) for d, v in listed.items()}
    assert flags == {
        "gate-1": ("gate", "AAA", True, True),
        "gate-2": ("gate", "BBB", False, True),
        "tvm-1": ("tvm", "CCC", True, False),
        "window-1": ("window", "AAA", True, True),
    }
    assert (listed["gate-1"]["gate_group"], listed["gate-1"]["direction"]) == ("A1", "entry")
    assert datetime.fromisoformat(listed["gate-1"]["created_at"]) == clock.now
    text = response.text
    secrets = [gate_token, window, code, code.replace("-", "")]
    secrets += [_sha256(s) for s in (gate_token, window, code)]
    assert not [s for s in secrets if s in text]
    assert not {"token", "token_hash", "enrolment_hash", "enrolment_code"} & {
        key for d in listed.values() for key in d
    }


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_a_unit_is_seen_when_it_enrols_and_when_it_uploads(api: Api, clock: FakeClock) -> None:
    token = device_token(api, "gate-1", "gate", "AAA")
    enrolled_at = clock.now
    seen = {d["device_id"]: d["last_seen_at"] for d in api.get("/v1/devices").json()}
    assert datetime.fromisoformat(seen["gate-1"]) == enrolled_at
    clock.advance(minutes=7)
    assert as_unit(api, token, "POST", "/v1/passages", json={"passages": []}).status_code == 200
    seen = {d["device_id"]: d["last_seen_at"] for d in api.get("/v1/devices").json()}
    assert datetime.fromisoformat(seen["gate-1"]) == clock.now


# ------------------------------------------------------------- scopes


def test_a_gate_reads_its_own_stations_feed_only(api: Api) -> None:
    gate = device_token(api, "gate-1", "gate", "BBB")
    assert as_unit(api, gate, "GET", "/v1/stations/BBB/feed").status_code == 200
    other = as_unit(api, gate, "GET", "/v1/stations/CCC/feed")
    assert other.status_code == 403 and error_code(other) == "forbidden"
    assert api.get("/v1/stations/CCC/feed").status_code == 200  # the operator reads any


def test_a_gate_uploads_passages_but_never_sells_or_operates(api: Api) -> None:
    load_small_run(api)
    ticket = sell(api, STATIONS[0], STATIONS[2], "110101199001010001")
    gate = device_token(api, "gate-1", "gate", "AAA")
    assert as_unit(api, gate, "POST", "/v1/passages", json={"passages": []}).status_code == 200
    order = {
        "train": "G7301",
        "date": "2026-11-26",
        "from": "AAA",
        "to": "CCC",
        "class": "ZE",
        "channel": "tvm",
        "station": "AAA",
        "passengers": [{"name": "甲", "id_number": "110101199001010002"}],
    }
    forbidden = [
        ("POST", "/v1/orders", order),
        ("GET", f"/v1/tickets/{ticket['ticket_id']}", None),
        ("POST", f"/v1/tickets/{ticket['ticket_id']}/refund", None),
        ("GET", "/v1/train-runs", None),
        ("GET", "/v1/devices", None),
        ("POST", "/v1/devices/gate-1/revoke", None),
        ("POST", "/v1/devices", {"device_id": "x", "kind": "gate", "station": "AAA"}),
        ("GET", "/v1/anomalies?date=2026-11-26", None),
        ("GET", "/v1/audit", None),
    ]
    for method, path, body in forbidden:
        response = as_unit(api, gate, method, path, json=body)
        assert response.status_code == 403, (method, path, response.text)
        assert error_code(response) == "forbidden"
    assert api.get(f"/v1/tickets/{ticket['ticket_id']}").json()["status"] == "issued"


def test_a_tvm_neither_uploads_passages_nor_reads_the_feed(api: Api) -> None:
    tvm = device_token(api, "tvm-1", "tvm", "AAA")
    calls: list[tuple[str, str, Any]] = [
        ("POST", "/v1/passages", {"passages": []}),
        ("GET", "/v1/stations/AAA/feed", None),
    ]
    for method, path, body in calls:
        response = as_unit(api, tvm, method, path, json=body)
        assert response.status_code == 403 and error_code(response) == "forbidden"
    assert as_unit(api, tvm, "GET", "/v1/units/me").status_code == 200


def test_a_channel_is_no_unit(api: Api) -> None:
    window = register(api, "window-1", "window", "AAA").json()["token"]
    for method, path in [("GET", "/v1/units/me"), ("GET", "/v1/stations/AAA/feed")]:
        assert as_unit(api, window, method, path).status_code == 403
    response = as_unit(api, window, "POST", "/v1/passages", json={"passages": []})
    assert response.status_code == 403


def test_the_clock_in_answers_is_centrals(api: Api, clock: FakeClock) -> None:
    token = device_token(api, "gate-1", "gate", "AAA")
    clock.now = datetime(2026, 11, 25, 23, 59, 30, tzinfo=UTC)
    me = as_unit(api, token, "GET", "/v1/units/me").json()
    assert datetime.fromisoformat(me["central_time"]) == clock.now
