"""The demo's HTTP client of central, and how a step of the demo fails.

Central runs as a separate process and the demo talks to it over HTTP only:
``Api`` adds the operator or device token and a fresh Idempotency-Key to
every mutating request and turns an error status into ``ApiError``, which
carries central's stable error code. ``refusal`` runs a request central must
refuse with a given code. Every unexpected turn of the demo is a
``DemoError`` whose message says which step failed and why.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import httpx

Json = dict[str, Any]


class DemoError(Exception):
    """A step of the demo failed unexpectedly; the message says which and why."""


class ApiError(DemoError):
    """Central answered a request with an error status."""

    def __init__(self, method: str, path: str, status: int, body: str) -> None:
        self.status = status
        self.code, self.detail = _error_of(body)
        super().__init__(f"{method} {path} -> HTTP {status} {self.code}: {self.detail}")


def _error_of(body: str) -> tuple[str, str]:
    """The code and message of an error body, or the raw text when it is not one."""
    try:
        error = json.loads(body)["error"]
        return str(error["code"]), str(error["message"])
    except (ValueError, KeyError, TypeError):
        return "unknown", body[:300]


class Api:
    """A thin client of central's HTTP API: auth, idempotency keys, errors as exceptions."""

    def __init__(self, base_url: str, operator_token: str) -> None:
        self.base_url = base_url
        self.client = httpx.Client(base_url=base_url, timeout=15.0)
        self.operator_token = operator_token

    def close(self) -> None:
        """Close the connection pool."""
        self.client.close()

    def get(self, path: str, params: dict[str, str] | None = None) -> Any:
        """GET with the operator token; the decoded JSON answer."""
        return self._send("GET", path, None, self.operator_token, None, params)

    def post(
        self, path: str, body: Json | None = None, token: str | None = None, key: str | None = None
    ) -> Any:
        """A mutating POST with a fresh (or the given) Idempotency-Key."""
        return self._send("POST", path, body, token or self.operator_token, key or new_key())

    def _send(
        self,
        method: str,
        path: str,
        body: Json | None,
        token: str,
        key: str | None,
        params: dict[str, str] | None = None,
    ) -> Any:
        headers = {"Authorization": f"Bearer {token}"}
        if key is not None:
            headers["Idempotency-Key"] = key
        try:
            response = self.client.request(method, path, json=body, headers=headers, params=params)
        except httpx.HTTPError as exc:
            raise DemoError(f"{method} {path}: no answer from central: {exc}") from exc
        if response.status_code >= 400:
            raise ApiError(method, path, response.status_code, response.text)
        return response.json()


def new_key() -> str:
    """A fresh Idempotency-Key."""
    return uuid.uuid4().hex


def refusal(action: Callable[[], Any], code: str) -> ApiError:
    """Run a request that central must refuse with ``code``; the refusal."""
    try:
        answer = action()
    except ApiError as exc:
        if exc.code != code:
            raise DemoError(f"expected refusal {code!r}, got: {exc}") from exc
        return exc
    raise DemoError(f"expected refusal {code!r}, but central accepted: {json.dumps(answer)[:300]}")
