"""A unit's HTTP link to central: enrolment, who-am-I, the station feed, passage upload.

Every call has a timeout; a call that cannot reach central (refused, timed
out, a 5xx) raises ``CentralUnreachable``, one central answered and refused
raises ``CentralRefused`` with the API's stable error code. Each answer that
carries central's time comes back with the round trip's local send and
receive times, from which the unit estimates how far its clock is from
central's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from protocol.units import (
    EnrolmentRequest,
    FeedPage,
    PassageAnswer,
    PassageUpload,
    UnitProfile,
)

Model = TypeVar("Model", bound=BaseModel)
Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    """Now, timezone-aware."""
    return dt.datetime.now(dt.UTC)


class CentralUnreachable(Exception):
    """Central could not be reached, or failed (a timeout, a refused connection, a 5xx)."""


class CentralRefused(Exception):
    """Central answered and refused the request; ``code`` is the API's error code."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Timed:
    """An answer and when its request left and its answer came (the unit's clock)."""

    sent_at: dt.datetime
    received_at: dt.datetime

    def clock_offset(self, central_time: dt.datetime) -> dt.timedelta:
        """Central's clock minus ours, taking the answer as made halfway through the trip."""
        midway = self.sent_at + (self.received_at - self.sent_at) / 2
        return central_time - midway


class CentralLink:
    """One unit's calls to central."""

    def __init__(
        self,
        base_url: str,
        token: str | None,
        timeout_s: float,
        clock: Clock = utc_now,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        headers = {} if token is None else {"Authorization": f"Bearer {token}"}
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            headers=headers,
            timeout=timeout_s,
            transport=transport,
        )
        self.clock = clock

    async def enrol(self, code: str, credential_hash: str) -> tuple[UnitProfile, Timed]:
        """Exchange the one-time code for the credential whose hash is given."""
        body = EnrolmentRequest(enrolment_code=code, credential_hash=credential_hash)
        return await self.call("POST", "/v1/enrolments", UnitProfile, json=body.model_dump())

    async def me(self) -> tuple[UnitProfile, Timed]:
        """The unit as central knows it (and proof the credential still works)."""
        return await self.call("GET", "/v1/units/me", UnitProfile)

    async def feed(self, station: str, cursor: int, limit: int) -> tuple[FeedPage, Timed]:
        """One page of the station's feed after ``cursor``."""
        params = {"cursor": cursor, "limit": limit}
        path = f"/v1/stations/{station}/feed"
        return await self.call("GET", path, FeedPage, params=params)

    async def upload(self, upload: PassageUpload) -> tuple[PassageAnswer, Timed]:
        """A batch of journaled passages and counts."""
        body = upload.model_dump(mode="json", exclude_none=True)
        return await self.call("POST", "/v1/passages", PassageAnswer, json=body)

    async def close(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()

    async def call(
        self, method: str, path: str, model: type[Model], key: str | None = None, **kwargs: Any
    ) -> tuple[Model, Timed]:
        """One request; its answer as ``model`` with when it went and came.

        ``key`` is the Idempotency-Key of a mutation: a retry with the same key
        gets the first answer.
        """
        if key is not None:
            kwargs["headers"] = {**kwargs.get("headers", {}), "Idempotency-Key": key}
        sent = self.clock()
        try:
            response = await self._client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise CentralUnreachable(f"{method} {path}: {type(exc).__name__}: {exc}") from None
        timed = Timed(sent, self.clock())
        if response.status_code >= 500:
            raise CentralUnreachable(f"{method} {path}: central answered {response.status_code}")
        if response.status_code >= 400:
            raise _refusal(response)
        try:
            return model.model_validate_json(response.content), timed
        except ValidationError as exc:
            raise CentralUnreachable(f"{method} {path}: answer not understood: {exc}") from None


def _refusal(response: httpx.Response) -> CentralRefused:
    try:
        error = response.json()["error"]
        return CentralRefused(response.status_code, str(error["code"]), str(error["message"]))
    except (ValueError, KeyError, TypeError):
        return CentralRefused(response.status_code, "unknown", response.text[:200])
