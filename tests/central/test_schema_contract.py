"""The contract at the edge of the API, on SQLite and PostgreSQL: what a bad request gets.

Unparsable JSON or a body sent as something else is 400 ``bad_request`` on
every route that takes a body, with one message shape; authentication comes
before the body; a 405 names the path's methods; dates are text; text with
control characters (NUL included) is refused on every store and changes
nothing; refusals quote at most a few dozen characters and never an ID or
card number; the Idempotency-Key rule is the schema's; every status a route
answers is in its OpenAPI responses.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from conftest import Api, demo_runs, device_token, tiny_run
from sqlalchemy import create_engine, func, select

from central.settings import CentralSettings
from central.store import tables as t
from protocol.fields import IDEMPOTENCY_KEY_PATTERN

G = demo_runs()[0]
RUN = f"/v1/train-runs/{G['train']}/{G['date']}"
FILL = {
    "train": G["train"],
    "date": G["date"],
    "order_id": "0" * 24,
    "ticket_id": "0" * 16,
    "block_id": "0" * 24,
    "station": "VNP",
    "device_id": "tvm-1",
}
GATE_ONLY = {"/v1/passages"}  # the operator may not call these: a gate's token does
TVM_ONLY = {"/v1/units/me/signing-key", "/v1/units/me/block-sales"}  # and these a TVM's
IDEMPOTENT_BY_BODY = {"/v1/enrolments", "/v1/passages"} | TVM_ONLY


def spec(api: Api) -> dict[str, Any]:
    document: dict[str, Any] = api.client.get("/openapi.json").json()
    return document


def operations(api: Api) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path, operation) of every operation the schema describes."""
    return [
        (method.upper(), path, operation)
        for path, methods in spec(api)["paths"].items()
        for method, operation in methods.items()
    ]


def filled(path: str) -> str:
    return re.sub(r"{(\w+)}", lambda m: FILL[m.group(1)], path)


def error(response: Any) -> tuple[int, str, str]:
    body = response.json()["error"]
    return response.status_code, body["code"], body["message"]


def order(**changes: Any) -> dict[str, Any]:
    body = {
        "train": G["train"],
        "date": G["date"],
        "from": "VNP",
        "to": "JGK",
        "class": "ZE",
        "channel": "internet",
        "passengers": [{"name": "张三", "id_number": "110101199001011234"}],
    }
    return {**body, **changes}


# ----------------------------------------------------------------- bodies that are not JSON


@pytest.mark.parametrize(
    ("content", "content_type", "said"),
    [
        (b"{not json", "application/json", "the body is not valid JSON: "),
        (b"", "application/json", "the body is not valid JSON: "),
        (b'{"a": "\\ud800"}', "application/json", "the body is not valid JSON: "),
        (b"\xff\xfe", "application/json", "the body is not valid JSON: "),
        (b"{}", "text/plain", "the body must be JSON, sent with Content-Type: application/json"),
        (b"{}", None, "the body must be JSON, sent with Content-Type: application/json"),
        (b"{}", "application/json; charset=latin-1", "the body must be JSON"),
    ],
)
def test_a_body_that_is_not_json_is_400_on_every_route(
    api: Api, content: bytes, content_type: str | None, said: str
) -> None:
    with_body = [(m, p) for m, p, op in operations(api) if "requestBody" in op]
    assert len(with_body) == 13
    gate = {"Authorization": f"Bearer {device_token(api, 'gate-1', 'gate')}"}
    tvm = {"Authorization": f"Bearer {device_token(api, 'tvm-1', 'tvm')}"}
    headers = {"Idempotency-Key": uuid.uuid4().hex}
    if content_type is not None:
        headers["Content-Type"] = content_type
    for method, path in with_body:
        caller = gate if path in GATE_ONLY else tvm if path in TVM_ONLY else api.auth
        response = api.client.request(
            method, filled(path), content=content, headers={**headers, **caller}
        )
        status, code, message = error(response)
        assert (status, code) == (400, "bad_request"), (path, response.text)
        assert message.startswith(said), (path, message)


def test_authentication_comes_before_the_body(api: Api) -> None:
    for method, path, operation in operations(api):
        if "security" not in operation:
            continue
        response = api.client.request(method, filled(path), content=b"{not json")
        assert response.status_code == 401, (method, path, response.text)


def test_a_wrong_method_is_405_with_the_paths_methods(api: Api) -> None:
    for method, path, allow in [
        ("PUT", "/v1/train-runs", "GET, POST"),
        ("DELETE", "/v1/orders", "POST"),
        ("POST", "/v1/keys", "GET"),
        ("TRACE", "/health", "GET"),
    ]:
        response = api.client.request(method, path)
        assert error(response)[:2] == (405, "method_not_allowed")
        assert response.headers["allow"] == allow


# ----------------------------------------------------------------- dates, text, echoes


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/v1/train-runs", {"date": "0"}),
        ("/v1/stats/sales", {"date_to": "0"}),
        ("/v1/stats/sales", {"date_from": "20261201"}),
        ("/v1/availability", {"train": "G111", "date": "0", "from": "VNP", "to": "JGK"}),
        ("/v1/train-runs/G111/0/quotas", {}),
        ("/v1/train-runs/G111/2026-12-01T00:00:00/od-matrix", {}),
    ],
)
def test_a_date_is_yyyy_mm_dd_text(api: Api, path: str, params: dict[str, str]) -> None:
    status, code, message = error(api.get(path, params=params))
    assert (status, code) == (422, "validation_failed")
    assert "date must be written YYYY-MM-DD" in message


def test_a_time_needs_seconds_and_an_offset(api: Api) -> None:
    run = tiny_run()
    run["stops"][0]["depart"] = 1796256000  # a number is not a time, even a plausible one
    status, code, message = error(api.post("/v1/train-runs", run))
    assert (status, code) == (422, "validation_failed") and "ISO 8601" in message


CONTROLS = ["\x00", "\x1f", "\n", "\t", "\x7f", "\x85", "\x9f"]


def _count_rows(settings: CentralSettings) -> dict[str, int]:
    engine = create_engine(settings.database_url)
    with engine.connect() as conn:
        counts = {
            table.name: conn.execute(select(func.count()).select_from(table)).scalar_one()
            for table in (t.orders, t.tickets, t.audit, t.devices, t.train_runs)
        }
    engine.dispose()
    return counts


@pytest.mark.parametrize("control", CONTROLS)
def test_text_with_control_characters_is_refused_on_every_store(
    loaded: Api, settings: CentralSettings, control: str
) -> None:
    held = loaded.post("/v1/orders", order())
    assert held.status_code == 201, held.text
    pay = f"/v1/orders/{held.json()['order_id']}/pay"
    card = {"method": "card", "amount_fen": held.json()["total_fen"], "reference": "R1"}
    adjustment = {"from_quota": "COMMON-ZE", "to_quota": "jinan_ze", "seats": 1, "reason": "x"}
    run = tiny_run(train="G7002")
    attempts = [
        ("/v1/orders", order(passengers=[{"name": f"张{control}三", "id_number": "A1234"}])),
        (pay, {**card, "reference": f"R{control}1", "acquirer": "ICBC"}),
        (pay, {**card, "acquirer": f"IC{control}BC"}),
        (f"{RUN}/adjustments", {**adjustment, "reason": f"group{control}booking"}),
        (f"{RUN}/standing", {"class": "ZE", "capacity": 5, "reason": f"{control}"}),
        ("/v1/train-runs", {**run, "stops": [{**run["stops"][0], "name": f"甲{control}"}]}),
        ("/v1/devices", {"device_id": f"tvm{control}1", "kind": "tvm", "station": "VNP"}),
    ]
    before = _count_rows(settings)
    for path, body in attempts:
        status, code, message = error(loaded.post(path, body))
        assert (status, code) == (422, "validation_failed"), (path, message)
    assert _count_rows(settings) == before


def test_refusals_quote_at_most_forty_characters(api: Api) -> None:
    huge = "9" * (512 * 1024)
    response = api.post("/v1/orders", order(train=huge, **{huge: 1}))
    status, code, message = error(response)
    assert (status, code) == (422, "validation_failed")
    assert len(response.content) < 2000 and "…" in message and huge[:41] not in message


def test_id_and_card_numbers_are_never_echoed(loaded: Api) -> None:
    secret_id = "11010119900101123456789012345678X"  # 33 characters: one too many
    response = loaded.post("/v1/orders", order(passengers=[{"name": "甲", "id_number": secret_id}]))
    assert error(response)[0] == 422 and secret_id not in response.text
    held = loaded.post("/v1/orders", order()).json()
    pan = "6228480402564890018"
    body = {
        "method": "card",
        "amount_fen": 1,
        "reference": "R",
        "acquirer": "A",
        "card_masked": pan,
    }
    response = loaded.post(f"/v1/orders/{held['order_id']}/pay", body)
    assert error(response)[0] == 422 and pan not in response.text and "19 digits" in response.text


# ----------------------------------------------------------------- the Idempotency-Key


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("a" * 128, 201),
        ("a" * 129, 400),
        ("a b", 400),
        ("clé".encode("latin-1"), 400),
        ("~!#{}", 201),
    ],
)
def test_the_idempotency_key_rule_is_the_schemas(
    loaded: Api, key: str | bytes, expected: int
) -> None:
    text = key.decode("latin-1") if isinstance(key, bytes) else key
    assert bool(re.fullmatch(IDEMPOTENCY_KEY_PATTERN, text)) == (expected == 201)
    headers = {**loaded.auth, "Idempotency-Key": key, "Content-Type": "application/json"}
    content = order(passengers=[{"name": "乙", "id_number": f"K{len(key):05d}"}])
    response = loaded.client.post("/v1/orders", json=content, headers=headers)
    assert response.status_code == expected, response.text


def test_a_missing_idempotency_key_is_its_own_code(api: Api) -> None:
    response = api.client.post("/v1/orders", json=order(), headers=api.auth)
    assert error(response)[:2] == (400, "idempotency_key_required")


# ----------------------------------------------------------------- documented statuses


def test_every_operation_documents_the_statuses_it_can_answer(api: Api) -> None:
    for method, path, operation in operations(api):
        documented = {int(status) for status in operation["responses"]}
        expected = {413, 422}
        if "security" in operation:
            expected |= {401, 403}
        if method == "POST":
            expected |= {400, 503}
        keyed = any(p["name"] == "Idempotency-Key" for p in operation.get("parameters", []))
        if keyed:  # the key may come again with another request
            expected |= {409}
        if method == "POST":  # the others are idempotent by their body
            assert keyed or path in IDEMPOTENT_BY_BODY, path
        assert expected <= documented, (method, path, documented)
        for status in documented - {200, 201}:
            assert operation["responses"][str(status)]["description"], (path, status)
