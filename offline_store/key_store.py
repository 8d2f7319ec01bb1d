"""The keys a gate verifies with: central's public key ring and the holder-tag key.

The ring (``GET /v1/keys``) holds one or more Ed25519 public keys by key id,
several at once while central rotates; a new ring replaces the stored one as
a whole, in one transaction, so a gate never holds half of two rings. An
empty ring is refused: it would make every ticket fail as signed by an
unknown key. The holder-tag key (opaque bytes under their own id) is the
secret that turns an ID number read at the gate into the tag the ticket cache
is indexed by; it is delivered with the ring and kept beside it. Put both in
one :func:`~offline_store.connection.write_transaction` when they arrive together.

A key may carry a scope: a TVM's key (for tickets it sold offline from an
emergency block) is kept with its station, and signs only tickets that board
there; central's keys have none and sign any ticket.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from offline_store.connection import StoreConnection, query, query_one, write_transaction
from protocol.keys import KeyRing, VerifyKey, check_key_id

MAX_TAG_KEY_BYTES = 1024


@dataclass(frozen=True, slots=True)
class HolderTagKey:
    """The secret key holder tags are computed with, under its id."""

    key_id: int
    key: bytes = field(repr=False)  # a secret: never in logs

    def __post_init__(self) -> None:
        if isinstance(self.key_id, bool) or not isinstance(self.key_id, int) or self.key_id < 0:
            raise ValueError(f"holder tag key id must be a non-negative integer: {self.key_id!r}")
        if not isinstance(self.key, bytes) or not 1 <= len(self.key) <= MAX_TAG_KEY_BYTES:
            raise ValueError(f"holder tag key must be 1..{MAX_TAG_KEY_BYTES} bytes")


@dataclass(frozen=True)
class ScopedRing:
    """The stored ring and, for the keys that have one, their station scope."""

    ring: KeyRing
    scopes: Mapping[int, str]

    def allows(self, key_id: int, from_station: str) -> bool:
        """Whether the key ``key_id`` may sign a ticket boarding at ``from_station``."""
        scope = self.scopes.get(key_id)
        return scope is None or scope == from_station


class VerificationKeys:
    """The stored key ring and holder-tag key, on one connection."""

    def __init__(self, conn: StoreConnection) -> None:
        self._conn = conn

    def replace_ring(self, ring: KeyRing, scopes: Mapping[int, str] | None = None) -> None:
        """Make ``ring`` the stored ring, dropping every key it does not hold.

        ``scopes`` names the station each scoped key may sign tickets from.
        """
        if not isinstance(ring, KeyRing) or len(ring) == 0:
            raise ValueError("a key ring with at least one key is needed; the stored one is kept")
        scopes = dict(scopes or {})
        if stray := set(scopes) - set(ring.key_ids()):
            raise ValueError(f"scopes for keys the ring does not hold: {sorted(stray)}")
        rows = [
            (key_id, _public_bytes(ring, key_id), scopes.get(key_id)) for key_id in ring.key_ids()
        ]
        sql = "INSERT INTO verify_keys (key_id, public_key, scope) VALUES (?, ?, ?)"
        with write_transaction(self._conn) as conn:
            conn.execute("DELETE FROM verify_keys")
            conn.executemany(sql, rows)

    def ring(self) -> KeyRing:
        """The stored ring (empty before the first one arrives)."""
        keys = query(self._conn, "SELECT key_id, public_key FROM verify_keys", (), _verify_key)
        return KeyRing(keys)

    def scoped_ring(self) -> ScopedRing:
        """The stored ring with its keys' scopes, in one read."""
        sql = "SELECT key_id, public_key, scope FROM verify_keys"
        rows = query(self._conn, sql, (), lambda row: (_verify_key(row[:2]), row[2]))
        scopes = {key.key_id: scope for key, scope in rows if scope is not None}
        return ScopedRing(KeyRing(key for key, _ in rows), scopes)

    def set_holder_tag_key(self, key: HolderTagKey) -> None:
        """Make ``key`` the holder-tag key, replacing the previous one."""
        if not isinstance(key, HolderTagKey):
            raise ValueError(f"expected a HolderTagKey, got {type(key).__name__}")
        with write_transaction(self._conn) as conn:
            conn.execute(
                "INSERT OR REPLACE INTO holder_tag_key (slot, key_id, key) VALUES (1, ?, ?)",
                (key.key_id, key.key),
            )

    def holder_tag_key(self) -> HolderTagKey | None:
        """The stored holder-tag key, or None before the first one arrives."""
        sql = "SELECT key_id, key FROM holder_tag_key"
        return query_one(self._conn, sql, (), lambda row: HolderTagKey(row[0], row[1]))


def _verify_key(row: tuple[int, bytes]) -> VerifyKey:
    """A VerifyKey from its row."""
    key_id, raw = row
    return VerifyKey.from_public_hex(key_id, raw.hex())


def _public_bytes(ring: KeyRing, key_id: int) -> bytes:
    """The raw 32 bytes of the public key under ``key_id``."""
    key = ring.get(check_key_id(key_id))
    assert key is not None  # key_ids() lists only held keys
    return bytes.fromhex(key.public_hex())
