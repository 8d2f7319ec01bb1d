"""The keys a gate verifies with: central's public key ring and the holder-tag key.

The ring (``GET /v1/keys``) holds one or more Ed25519 public keys by key id,
several at once while central rotates; a new ring replaces the stored one as
a whole, in one transaction, so a gate never holds half of two rings. An
empty ring is refused: it would make every ticket fail as signed by an
unknown key. The holder-tag key (opaque bytes under their own id) is the
secret that turns an ID number read at the gate into the tag the ticket cache
is indexed by; it is delivered with the ring and kept beside it. Put both in
one :func:`~offline_store.connection.write_transaction` when they arrive together.
"""

from __future__ import annotations

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


class VerificationKeys:
    """The stored key ring and holder-tag key, on one connection."""

    def __init__(self, conn: StoreConnection) -> None:
        self._conn = conn

    def replace_ring(self, ring: KeyRing) -> None:
        """Make ``ring`` the stored ring, dropping every key it does not hold."""
        if not isinstance(ring, KeyRing) or len(ring) == 0:
            raise ValueError("a key ring with at least one key is needed; the stored one is kept")
        rows = [(key_id, _public_bytes(ring, key_id)) for key_id in ring.key_ids()]
        with write_transaction(self._conn) as conn:
            conn.execute("DELETE FROM verify_keys")
            conn.executemany("INSERT INTO verify_keys (key_id, public_key) VALUES (?, ?)", rows)

    def ring(self) -> KeyRing:
        """The stored ring (empty before the first one arrives)."""
        keys = query(self._conn, "SELECT key_id, public_key FROM verify_keys", (), _verify_key)
        return KeyRing(keys)

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
