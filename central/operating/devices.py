"""Devices and selling channels: registration, unit enrolment, listing, revocation.

A selling channel (a ticket window, an agent, the internet shop ...) is given
its bearer token when the operator registers it. A unit (a gate or a TVM) is
given a one-time enrolment code instead, short and expiring, which its
technician types in: the unit makes its own token, sends only the token's
SHA-256 with the code, and keeps the token. The code is then spent: the
same exchange again (a retry after a lost answer) answers the same, any
other is refused. Central stores hashes only, of codes and of tokens.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, insert, select, update

from central.store import tables as t
from protocol.errors import ErrorCode, StationKitError
from protocol.messages import DeviceRequest
from protocol.units import UnitKind

UNIT_KINDS: frozenset[str] = frozenset({"gate", "tvm"})
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U
CODE_HALF = 4


class DeviceError(StationKitError):
    """A device request was refused; the code says why."""


def token_hash(token: str) -> str:
    """How a bearer token (and an enrolment code) is stored."""
    return hashlib.sha256(token.encode()).hexdigest()


def register_device(
    conn: Connection, req: DeviceRequest, now: datetime, enrolment_minutes: int
) -> dict[str, Any]:
    """Register a unit (answer: its enrolment code) or a channel (answer: its token)."""
    if conn.execute(
        select(t.devices.c.device_id).where(t.devices.c.device_id == req.device_id)
    ).first():
        raise DeviceError(f"device {req.device_id} exists already", ErrorCode.DEVICE_EXISTS)
    if req.kind in UNIT_KINDS and req.station is None:
        raise DeviceError(
            f"a {req.kind} belongs to a station: give its station", ErrorCode.VALIDATION_FAILED
        )
    row = {
        "device_id": req.device_id,
        "kind": req.kind,
        "station": req.station,
        "gate_group": req.gate_group,
        "direction": req.direction,
        "active": True,
        "created_at": now,
    }
    if req.kind not in UNIT_KINDS:
        token = secrets.token_urlsafe(32)
        conn.execute(insert(t.devices).values(**row, token_hash=token_hash(token)))
        return {"device_id": req.device_id, "token": token}
    code = new_enrolment_code()
    expires = now + timedelta(minutes=enrolment_minutes)
    values = {**row, "enrolment_hash": token_hash(code), "enrolment_expires_at": expires}
    conn.execute(insert(t.devices).values(**values))
    return {
        "device_id": req.device_id,
        "kind": req.kind,
        "station": req.station,
        "enrolment_code": code,
        "expires_at": expires,
    }


def new_enrolment_code() -> str:
    """Eight characters a technician can type: ``7KQ2-M9XD``."""
    chars = "".join(secrets.choice(CODE_ALPHABET) for _ in range(2 * CODE_HALF))
    return f"{chars[:CODE_HALF]}-{chars[CODE_HALF:]}"


def enrol(conn: Connection, code: str, credential_hash: str, now: datetime) -> dict[str, Any]:
    """Bind a unit's credential to its code, once; the unit's profile."""
    row = conn.execute(
        select(t.devices).where(t.devices.c.enrolment_hash == token_hash(code))
    ).first()
    if row is None or not row.active:
        raise DeviceError("unknown or withdrawn enrolment code", ErrorCode.UNKNOWN_ENROLMENT_CODE)
    if row.token_hash is not None:
        if row.token_hash != credential_hash:  # another unit, or another attempt of this one
            raise DeviceError("this enrolment code is spent", ErrorCode.ENROLMENT_CODE_SPENT)
        return unit_profile(row, now)  # the same exchange again: a retry
    if row.enrolment_expires_at <= now:
        raise DeviceError(
            f"this enrolment code expired at {row.enrolment_expires_at:%Y-%m-%d %H:%M} UTC; "
            "ask the operator for a new one",
            ErrorCode.ENROLMENT_CODE_EXPIRED,
        )
    _check_credential_free(conn, credential_hash)
    conn.execute(
        update(t.devices)
        .where(t.devices.c.device_id == row.device_id)
        .values(token_hash=credential_hash, enrolled_at=now, last_seen_at=now)
    )
    return unit_profile(row, now)


def _check_credential_free(conn: Connection, credential_hash: str) -> None:
    """Refuse a credential another device holds (a unit that reused its token)."""
    holder = select(t.devices.c.device_id).where(t.devices.c.token_hash == credential_hash)
    if conn.execute(holder).first() is not None:
        raise DeviceError(
            "another device holds this credential: make a new token and enrol again",
            ErrorCode.DEVICE_EXISTS,
        )


def unit_profile(row: Any, now: datetime) -> dict[str, Any]:
    """A unit as central knows it, with central's time."""
    kind: UnitKind = row.kind
    return {
        "device_id": row.device_id,
        "kind": kind,
        "station": row.station,
        "gate_group": row.gate_group,
        "direction": row.direction,
        "central_time": now,
    }


def list_devices(conn: Connection) -> list[dict[str, Any]]:
    """Every registered device and channel, by id."""
    rows = conn.execute(select(t.devices).order_by(t.devices.c.device_id)).all()
    return [
        {
            "device_id": row.device_id,
            "kind": row.kind,
            "station": row.station,
            "gate_group": row.gate_group,
            "direction": row.direction,
            "active": bool(row.active),
            "enrolled": row.token_hash is not None,
            "created_at": row.created_at,
            "last_seen_at": row.last_seen_at,
        }
        for row in rows
    ]


def revoke_device(conn: Connection, device_id: str) -> dict[str, Any]:
    """Withdraw a device's credential (and any unspent enrolment code) for good."""
    found = conn.execute(
        update(t.devices).where(t.devices.c.device_id == device_id).values(active=False)
    )
    if found.rowcount == 0:
        raise DeviceError(f"no device {device_id}", ErrorCode.UNKNOWN_DEVICE)
    return {"device_id": device_id, "active": False}
