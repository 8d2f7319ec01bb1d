"""Device and channel credentials: issued by the operator, stored only as hashes."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import Connection, insert, select

from central.store import tables as t
from protocol.errors import ErrorCode, StationKitError


def token_hash(token: str) -> str:
    """How a device token is stored."""
    return hashlib.sha256(token.encode()).hexdigest()


def register_device(
    conn: Connection, device_id: str, kind: str, station: str | None, now: datetime
) -> str:
    """Create a device or channel credential; the token is shown once, stored hashed."""
    exists = conn.execute(select(t.devices).where(t.devices.c.device_id == device_id)).first()
    if exists is not None:
        raise StationKitError(f"device {device_id} exists already", ErrorCode.DEVICE_EXISTS)
    token = secrets.token_urlsafe(32)
    conn.execute(
        insert(t.devices).values(
            device_id=device_id,
            kind=kind,
            station=station,
            token_hash=token_hash(token),
            active=True,
            created_at=now,
        )
    )
    return token
