"""Who may call each route, declared with the route and checked before its body is read.

Every route of the API is added through ``Routes`` with an ``access``: public,
the operator, sellers (the operator and selling channels), gates, or any
known caller. There is no default, so a route without a declaration does
not import. The route class checks the bearer token and the caller's role
before FastAPI (or ``LeanRoute``) reads the body or validates a parameter:
an unknown or revoked credential answers 401, a known caller of the wrong
kind 403, whatever the request carries. Finer rules that depend on the
request (a TVM sells only at its own station, a gate reads only its
station's feed) stay in the endpoint, after these.

The declarations also write the OpenAPI description: the bearer security
scheme, the ``Idempotency-Key`` header of mutations, and every error status
a route can answer.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.routing import APIRoute
from sqlalchemy import Engine, select
from starlette.concurrency import run_in_threadpool

from central.api.idempotency import KEY_RULE, MAX_KEY_LENGTH
from central.api.lean_route import LeanRoute
from central.operating.devices import token_hash
from central.store import tables as t
from protocol.errors import ErrorCode, StationKitError
from protocol.fields import IDEMPOTENCY_KEY_PATTERN
from protocol.messages import ErrorResponse

OPERATOR = "operator"
SELLING_KINDS = frozenset({"tvm", "window", "agent", "phone", "internet", "sms"})
DEVICE_KINDS = SELLING_KINDS | {"gate"}
REMEMBER_S = 10.0  # a token revoked through another HTTP process stops working within this
BEARER_SCHEME = "bearer"


class AuthError(StationKitError):
    """Missing, unknown or insufficient credentials."""

    code = ErrorCode.UNAUTHORIZED


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: its name (audit, idempotency scope), role and station."""

    name: str
    role: str  # "operator" or a device kind
    station: str | None = None

    @property
    def is_operator(self) -> bool:
        """True for the operator."""
        return self.role == OPERATOR


@dataclass(frozen=True)
class Access:
    """Who may call a route: no one needs to be known (public), or one of ``roles``."""

    name: str
    roles: frozenset[str] | None  # None: public

    @property
    def is_public(self) -> bool:
        """True when anyone may call, with or without credentials."""
        return self.roles is None


PUBLIC = Access("public", None)
GATE_ONLY = Access("a gate", frozenset({"gate"}))
UNITS = Access("a unit (gate or TVM)", frozenset({"gate", "tvm"}))
OPERATOR_ONLY = Access("the operator", frozenset({OPERATOR}))
SELLERS = Access("the operator or a selling channel", frozenset({OPERATOR}) | SELLING_KINDS)
GATES = Access("the operator or a gate", frozenset({OPERATOR, "gate"}))


class Authenticator:
    """Turns a bearer token into a principal; device look-ups run off the event loop."""

    def __init__(self, engine: Engine, operator_token: str | None) -> None:
        self.engine = engine
        self.operator_token = operator_token
        self._recent: dict[str, tuple[Principal, float]] = {}

    async def principal(self, header: str | None) -> Principal:
        """The principal behind an Authorization header, or ``AuthError`` (401)."""
        token = _bearer(header)
        if self.operator_token and hmac.compare_digest(
            token.encode(), self.operator_token.encode()
        ):
            return Principal(OPERATOR, OPERATOR)
        digest = token_hash(token)
        remembered = self._recent.get(digest)
        if remembered is not None and remembered[1] > time.monotonic():
            return remembered[0]
        principal = await run_in_threadpool(self._look_up, digest)
        self._recent[digest] = (principal, time.monotonic() + REMEMBER_S)
        return principal

    def forget(self, device_id: str) -> None:
        """Stop remembering a device's token at once (it was revoked through this process)."""
        for digest, (principal, _) in list(self._recent.items()):
            if principal.name == device_id:
                self._recent.pop(digest, None)

    def _look_up(self, digest: str) -> Principal:
        with self.engine.connect().execution_options(read_only=True) as conn:
            row = conn.execute(select(t.devices).where(t.devices.c.token_hash == digest)).first()
        if row is None or not row.active:
            raise AuthError("unknown or revoked token")
        return Principal(row.device_id, row.kind, row.station)


def _bearer(header: str | None) -> str:
    if not header:
        raise AuthError("Authorization: Bearer <token> is required")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError("Authorization must be 'Bearer <token>'")
    return token.strip()


async def check_access(request: Request, access: Access) -> Principal | None:
    """The caller if ``access`` admits it; 401 or 403 otherwise. Reads no body."""
    if access.is_public:
        return None
    authenticator: Authenticator = request.app.state.authenticator
    principal = await authenticator.principal(request.headers.get("authorization"))
    assert access.roles is not None
    if principal.role not in access.roles:
        raise AuthError(
            f"{principal.name} is a {principal.role}; this request is for {access.name}",
            ErrorCode.FORBIDDEN,
        )
    return principal


def caller(request: Request) -> Principal:
    """The principal the route's access check admitted."""
    principal: Principal | None = request.state.principal
    if principal is None:
        raise RuntimeError("caller() on a public route")
    return principal


Handler = Callable[[Request], Any]


class _Guarded:
    """Mixin: run the access check before the route's own handler."""

    access: Access

    def guard(self, inner: Handler) -> Handler:
        access = self.access

        async def handler(request: Request) -> Response:
            request.state.principal = await check_access(request, access)
            response: Response = await inner(request)
            return response

        return handler


class AccessRoute(_Guarded, APIRoute):
    """A FastAPI route whose access is checked before FastAPI reads anything."""

    def __init__(self, *args: Any, access: Access, **kwargs: Any) -> None:
        self.access = access
        super().__init__(*args, **kwargs)

    def get_route_handler(self) -> Handler:
        return self.guard(super().get_route_handler())


class LeanAccessRoute(_Guarded, LeanRoute):
    """A ``LeanRoute`` whose access is checked before the body is read."""

    def __init__(self, *args: Any, access: Access, **kwargs: Any) -> None:
        self.access = access
        super().__init__(*args, **kwargs)

    def get_route_handler(self) -> Handler:
        return self.guard(super().get_route_handler())


# What each error status means, with the codes it carries (docs/api.md, section 4).
ERROR_STATUSES: dict[int, str] = {
    400: "`bad_request`: the body is not JSON (unparsable, or not sent as application/json), "
    "or the Idempotency-Key is malformed; `idempotency_key_required`: no Idempotency-Key.",
    401: "`unauthorized`: no, malformed, unknown or revoked bearer token (checked first).",
    403: "`forbidden`: the caller may not do this; `holder_mismatch`: another ID number.",
    404: "`unknown_train`, `unknown_station`, `unknown_quota`, `unknown_order`, "
    "`unknown_ticket`: nothing by that name.",
    409: "A refusal by the current state (`sold_out`, `train_exists`, `order_expired`, ...), "
    "or `idempotency_key_reused`: the key came with another request.",
    413: "`request_too_large`: a body over 2 MiB, refused before it is read.",
    422: "`validation_failed`: a parameter or the body breaks the schema, or a rule between "
    "values the operation's description lists; `bad_journey`: a journey this train cannot make.",
    503: "`store_busy`: the writer process cannot be reached, or could not run the request; "
    "it may or may not have taken effect. Retry with the same Idempotency-Key: that is safe.",
}


def _error_responses(statuses: Iterable[int]) -> dict[int | str, dict[str, Any]]:
    return {
        status: {"model": ErrorResponse, "description": ERROR_STATUSES[status]}
        for status in sorted(set(statuses))
    }


class Routes(APIRouter):
    """A router whose every route declares its access (and whether it is a mutation)."""

    def get(  # type: ignore[override]
        self, path: str, *, access: Access, errors: Iterable[int] = (), **kwargs: Any
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Declare a query."""
        return self._declare(path, "GET", access, False, False, errors, kwargs)

    def post(  # type: ignore[override]
        self,
        path: str,
        *,
        access: Access,
        lean: bool = False,
        keyed: bool = True,
        errors: Iterable[int] = (),
        **kwargs: Any,
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Declare a mutation; ``keyed`` ones need an Idempotency-Key (others are
        idempotent by their body: an enrolment, passages by passage id)."""
        return self._declare(path, "POST", access, keyed, lean, errors, kwargs)

    def _declare(
        self,
        path: str,
        method: str,
        access: Access,
        mutation: bool,
        lean: bool,
        errors: Iterable[int],
        kwargs: dict[str, Any],
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        # every request may break a parameter's schema or send too big a body
        statuses = {413, 422, *errors}
        if not access.is_public:
            statuses |= {401, 403}
        if method == "POST":  # a body or a key is read (400); the writer runs it (503)
            statuses |= {400, 503}
        if mutation:  # keyed: the key may come again with another request
            statuses |= {409}
        extra: dict[str, Any] = {}
        if not access.is_public:
            extra["security"] = [{BEARER_SCHEME: []}]
        if mutation:
            extra["parameters"] = [IDEMPOTENCY_KEY_PARAMETER]
        route_class = LeanAccessRoute if lean else AccessRoute

        def decorate(endpoint: Callable[..., Any]) -> Callable[..., Any]:
            self.add_api_route(
                path,
                endpoint,
                methods=[method],
                responses=_error_responses(statuses),
                openapi_extra=extra or None,
                route_class_override=partial(route_class, access=access),  # type: ignore[arg-type]
                **kwargs,
            )
            return endpoint

        return decorate


IDEMPOTENCY_KEY_PARAMETER: dict[str, Any] = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": True,
    "description": "The caller's key for this change: a retry with the same key and body "
    f"gets the first answer. {KEY_RULE}.",
    "schema": {
        "type": "string",
        "minLength": 1,
        "maxLength": MAX_KEY_LENGTH,
        "pattern": IDEMPOTENCY_KEY_PATTERN,
    },
}
