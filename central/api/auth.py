"""Who is calling: ``Authorization: Bearer <token>``.

The operator token comes from the settings (or ``STATIONKIT_OPERATOR_TOKEN``);
devices and selling channels hold tokens issued by the operator, stored only
as SHA-256 hashes. A principal names the caller for the audit trail and
scopes its idempotency keys.
"""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass

from sqlalchemy import Engine, select

from central.operating.devices import token_hash
from central.store import tables as t
from protocol.errors import ErrorCode, StationKitError

OPERATOR = "operator"
REMEMBER_S = 10.0  # a revoked device token stops working within this long
_recent: dict[str, tuple[Principal, float]] = {}


class AuthError(StationKitError):
    """Missing, unknown or insufficient credentials."""

    code = ErrorCode.UNAUTHORIZED


@dataclass(frozen=True)
class Principal:
    """An authenticated caller."""

    name: str
    role: str  # "operator" or a device kind
    station: str | None = None

    @property
    def is_operator(self) -> bool:
        """True for the operator."""
        return self.role == OPERATOR


def authenticate(engine: Engine, operator_token: str | None, header: str | None) -> Principal:
    """The principal behind an Authorization header, or ``AuthError``."""
    token = _bearer(header)
    if operator_token and hmac.compare_digest(token.encode(), operator_token.encode()):
        return Principal(OPERATOR, OPERATOR)
    digest = token_hash(token)
    remembered = _recent.get(digest)
    if remembered is not None and remembered[1] > time.monotonic():
        return remembered[0]
    with engine.connect().execution_options(read_only=True) as conn:
        row = conn.execute(select(t.devices).where(t.devices.c.token_hash == digest)).first()
    if row is None or not row.active:
        raise AuthError("unknown or revoked token")
    principal = Principal(row.device_id, row.kind, row.station)
    _recent[digest] = (principal, time.monotonic() + REMEMBER_S)
    return principal


def _bearer(header: str | None) -> str:
    if not header:
        raise AuthError("Authorization: Bearer <token> is required")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError("Authorization must be 'Bearer <token>'")
    return token.strip()
