"""Units' signing keys: a TVM signs the tickets it sells offline with a key of its own.

A TVM registers its Ed25519 public key; central gives it a key id in
128..254 (central's own keys count from 1, so a token's key-id byte says
which kind signed it). A unit has one current key: registering it again
answers the same, a new one replaces it under a new id. A replaced key stays
published while tickets it signed can still be used: until the latest end of
validity of every block the unit was leased, since no ticket sold from a
block is valid longer. Keys are published to the gates of the unit's own
station, with that scope, and only while the unit is active. An id is given
again once no gate needs its old key, the one used longest ago first, so the
ids never run out while at most 127 keys are published at once.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, func, insert, or_, select, text, update

from central.store import tables as t
from protocol.errors import ErrorCode, StationKitError
from protocol.keys import VerifyKey
from protocol.tvm import FIRST_UNIT_KEY_ID, LAST_UNIT_KEY_ID

NEVER = datetime.min.replace(tzinfo=UTC)


class UnitKeyError(StationKitError):
    """A unit's key was refused; the code says why."""

    code = ErrorCode.SIGNING_KEY_REFUSED


def register(
    conn: Connection, device_id: str, station: str, public_key: str, now: datetime
) -> dict[str, Any]:
    """Make ``public_key`` the unit's current key; its ``SigningKeyView``."""
    _lock_key_ids(conn)
    current = current_key(conn, device_id)
    if current is not None and current.public_key == public_key:
        return {"key_id": current.key_id, "public_key": public_key}
    if _was_registered(conn, public_key):
        raise UnitKeyError("this public key was registered before: make a new key pair")
    key_id = _free_key_id(conn, now)
    if current is not None:
        _retire(conn, current, now)
    conn.execute(
        insert(t.unit_keys).values(
            key_id=key_id,
            device_id=device_id,
            station=station,
            public_key=public_key,
            registered_at=now,
        )
    )
    return {"key_id": key_id, "public_key": public_key}


def current_key(conn: Connection, device_id: str) -> Any:
    """The unit's current key row, or None."""
    keys = t.unit_keys.c
    query = select(t.unit_keys).where(keys.device_id == device_id, keys.replaced_at.is_(None))
    return conn.execute(query).first()


def published(conn: Connection, now: datetime) -> list[dict[str, Any]]:
    """The unit keys every gate must know (``protocol.tvm.UnitKey``), by id.

    Every station's gates get them all, each with its TVM's station as scope:
    the exit gate at a block ticket's destination verifies it too, and a gate
    accepts a unit-signed ticket only when it boards at the key's station.
    Unit key ids are one byte, so the list stays short.
    """
    keys = t.unit_keys.c
    query = (
        select(keys.key_id, keys.public_key, keys.device_id, keys.station)
        .select_from(t.unit_keys.join(t.devices, keys.device_id == t.devices.c.device_id))
        .where(t.devices.c.active.is_(True))
        .where(or_(keys.replaced_at.is_(None), keys.publish_until > now))
        .order_by(keys.key_id)
    )
    return [row._asdict() for row in conn.execute(query)]


def device_keys(conn: Connection, device_id: str) -> dict[int, VerifyKey]:
    """Every key the unit ever signed with, by id (a reused id: its newest key)."""
    keys = t.unit_keys.c
    rows = conn.execute(
        select(keys.key_id, keys.public_key)
        .where(keys.device_id == device_id)
        .order_by(keys.unit_key_id)
    )
    return {row.key_id: VerifyKey.from_public_hex(row.key_id, row.public_key) for row in rows}


def _check_point(public_key: str) -> None:
    try:
        VerifyKey.from_public_hex(FIRST_UNIT_KEY_ID, public_key)
    except ValueError as exc:
        raise UnitKeyError(
            f"not an Ed25519 public key: {exc}", ErrorCode.VALIDATION_FAILED
        ) from None


def _lock_key_ids(conn: Connection) -> None:
    """Two writers giving ids at once would give the same one: take turns (PostgreSQL)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('stationkit.unit_keys'))"))


def _was_registered(conn: Connection, public_key: str) -> bool:
    found = select(func.count()).where(t.unit_keys.c.public_key == public_key)
    return bool(conn.execute(found).scalar_one())


def _free_key_id(conn: Connection, now: datetime) -> int:
    """An id no gate needs: not a published key's; of those, the one used longest ago."""
    keys = t.unit_keys.c
    rows = conn.execute(
        select(keys.key_id, keys.registered_at, keys.replaced_at, keys.publish_until)
        .select_from(t.unit_keys.join(t.devices, keys.device_id == t.devices.c.device_id))
        .add_columns(t.devices.c.active)
    ).all()
    in_use = {
        r.key_id for r in rows if r.active and (r.replaced_at is None or r.publish_until > now)
    }
    last_used: dict[int, datetime] = {}
    for r in rows:
        last_used[r.key_id] = max(last_used.get(r.key_id, NEVER), r.registered_at)
    free = [n for n in range(FIRST_UNIT_KEY_ID, LAST_UNIT_KEY_ID + 1) if n not in in_use]
    if not free:
        raise UnitKeyError("every unit key id is in use; try again when blocks have ended")
    return min(free, key=lambda n: (last_used.get(n, NEVER), n))


def _retire(conn: Connection, current: Any, now: datetime) -> None:
    """Replace the unit's key: published on while its tickets may be used."""
    blocks = t.seat_blocks.c
    last_validity = conn.execute(
        select(func.max(blocks.valid_until)).where(blocks.device_id == current.device_id)
    ).scalar()
    until = max(now, last_validity) if last_validity is not None else now
    conn.execute(
        update(t.unit_keys)
        .where(t.unit_keys.c.unit_key_id == current.unit_key_id)
        .values(replaced_at=now, publish_until=until)
    )
