"""Every route declares who may call it, and the check comes before the body is read.

The test walks the app's own route table, so a route added later is covered
without anyone remembering to add it here: each non-public route answers 401
without credentials and 403 to a caller of the wrong kind, whatever the
body (none, garbage, a valid-looking one), and the OpenAPI description
declares its bearer security and, for mutations, the Idempotency-Key header.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from conftest import Api, device_token
from fastapi.routing import APIRoute

from central.api.access import DEVICE_KINDS, OPERATOR, AccessRoute, LeanAccessRoute

BODIES: list[Any] = [None, b"{not json", {"nonsense": True}, {"train": "G1" * 100_000}]
# mutations idempotent by their body: an enrolment (code and credential hash), passages by id,
# a TVM's signing key (the same key: the same answer), its offline sales by ticket id
IDEMPOTENT_BY_BODY = {
    "/v1/enrolments",
    "/v1/passages",
    "/v1/units/me/signing-key",
    "/v1/units/me/block-sales",
}
WRONG_KIND = {  # a caller of the wrong kind for each access
    "the operator": "gate",
    "the operator or a selling channel": "gate",
    "the operator or a gate": "window",
    "a gate": "window",
    "a unit (gate or TVM)": "window",
    "a TVM": "gate",
}


def app_routes(routes: list[Any]) -> list[Any]:
    """Every route, including those of included routers (FastAPI keeps them nested)."""
    found = []
    for route in routes:
        nested = getattr(route, "original_router", None)
        found += app_routes(nested.routes) if nested is not None else [route]
    return found


def guarded_routes(api: Api) -> list[tuple[str, str, Any]]:
    routes = []
    for route in app_routes(api.client.app.routes):  # type: ignore[attr-defined]
        if not isinstance(route, APIRoute):
            continue  # FastAPI's own pages: /openapi.json, /docs
        assert isinstance(route, (AccessRoute, LeanAccessRoute)), f"{route.path} has no access"
        for method in route.methods or ():
            routes.append((method, route.path, route.access))
    return routes


def concrete(path: str) -> str:
    """A path with every parameter filled with something plausible."""
    values = {"train": "G111", "date": "2030-01-01", "station": "VNP"}
    return re.sub(r"{(\w+)}", lambda m: values.get(m.group(1), "0123456789abcdef"), path)


def call(api: Api, method: str, path: str, body: Any, token: str | None) -> Any:
    headers = {"Idempotency-Key": uuid.uuid4().hex}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if isinstance(body, bytes):
        headers["Content-Type"] = "application/json"
        return api.client.request(method, path, content=body, headers=headers)
    return api.client.request(method, path, json=body, headers=headers)


def test_every_route_is_declared_and_the_walk_covers_them(loaded: Api) -> None:
    declared = guarded_routes(loaded)
    assert {a.name for _, _, a in declared} >= {"public", "the operator", "a gate"}
    assert all(a.roles is None or a.roles <= DEVICE_KINDS | {OPERATOR} for _, _, a in declared)


def test_without_credentials_every_guarded_route_is_401_whatever_the_body(loaded: Api) -> None:
    for method, path, access in guarded_routes(loaded):
        if access.is_public:
            continue
        for body in BODIES if method == "POST" else [None]:
            response = call(loaded, method, concrete(path), body, token=None)
            assert response.status_code == 401, (method, path, body, response.text)
            assert response.json()["error"]["code"] == "unauthorized"


def test_an_unknown_token_is_401_and_a_wrong_kind_403_whatever_the_body(loaded: Api) -> None:
    tokens = {
        kind: device_token(loaded, f"{kind}-{uuid.uuid4().hex[:8]}", kind)
        for kind in set(WRONG_KIND.values())
    }
    for method, path, access in guarded_routes(loaded):
        if access.is_public:
            continue
        for body in BODIES if method == "POST" else [None]:
            unknown = call(loaded, method, concrete(path), body, token="no-such-token")
            assert unknown.status_code == 401, (method, path, unknown.text)
            kind = WRONG_KIND[access.name]
            wrong = call(loaded, method, concrete(path), body, token=tokens[kind])
            assert wrong.status_code == 403, (method, path, kind, body, wrong.text)
            assert wrong.json()["error"]["code"] == "forbidden"


@pytest.mark.parametrize("path", ["/health", "/v1/keys"])
def test_public_routes_answer_without_credentials(loaded: Api, path: str) -> None:
    assert loaded.client.get(path).status_code == 200


def test_openapi_declares_bearer_security_and_idempotency_keys(loaded: Api) -> None:
    schema = loaded.client.get("/openapi.json").json()
    assert schema["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    for method, path, access in guarded_routes(loaded):
        operation = schema["paths"][path][method.lower()]
        secured = operation.get("security") == [{"bearer": []}]
        assert secured != access.is_public, (method, path)
        if not access.is_public:
            assert {"401", "403"} <= set(operation["responses"]), (method, path)
        headers = [p for p in operation.get("parameters", []) if p["in"] == "header"]
        keyed = any(p["name"] == "Idempotency-Key" and p["required"] for p in headers)
        assert keyed == (method == "POST" and path not in IDEMPOTENT_BY_BODY), (method, path)
