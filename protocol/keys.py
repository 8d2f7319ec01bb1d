"""Ed25519 keys that sign and verify ticket tokens, and the key ring gates trust.

Central holds one or more :class:`SigningKey` objects (persisted as the 32-byte
private seed in hex); units hold a :class:`KeyRing` of :class:`VerifyKey`
objects, one per key id, so a key can be rotated while tickets signed by the
previous key stay valid. The ring's JSON form is what ``GET /v1/keys`` returns.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

ALGORITHM = "Ed25519"
KEY_BYTES = 32
SIGNATURE_BYTES = 64
MAX_KEY_ID = 0xFF  # the token stores the key id in one byte


def check_key_id(key_id: int) -> int:
    """Return ``key_id`` if it fits the token's key-id byte, else raise ValueError."""
    if isinstance(key_id, bool) or not isinstance(key_id, int) or not 0 <= key_id <= MAX_KEY_ID:
        raise ValueError(f"key id must be an integer 0..{MAX_KEY_ID}, got {key_id!r}")
    return key_id


def _key_bytes_from_hex(text: str, what: str) -> bytes:
    """Parse a hex string holding exactly 32 key bytes."""
    try:
        raw = bytes.fromhex(text)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be {KEY_BYTES * 2} hex digits") from None
    if len(raw) != KEY_BYTES:
        raise ValueError(f"{what} must be {KEY_BYTES * 2} hex digits, got {len(text)} characters")
    return raw


class VerifyKey:
    """A public Ed25519 key under a key id; checks token signatures."""

    __slots__ = ("_public", "_raw", "key_id")

    def __init__(self, key_id: int, public_key: Ed25519PublicKey) -> None:
        self.key_id = check_key_id(key_id)
        self._public = public_key
        self._raw = public_key.public_bytes_raw()

    @classmethod
    def from_public_hex(cls, key_id: int, text: str) -> VerifyKey:
        """Load a public key from its 64 hex digits (the raw 32-byte form)."""
        raw = _key_bytes_from_hex(text, "public key")
        return cls(key_id, Ed25519PublicKey.from_public_bytes(raw))

    def public_hex(self) -> str:
        """The raw 32-byte public key as 64 lower-case hex digits."""
        return self._raw.hex()

    def is_valid_signature(self, signature: bytes, message: bytes) -> bool:
        """True if ``signature`` is this key's Ed25519 signature over ``message``."""
        try:
            self._public.verify(signature, message)
        except InvalidSignature:
            return False
        return True

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, VerifyKey):
            return NotImplemented
        return self.key_id == other.key_id and self._raw == other._raw

    def __hash__(self) -> int:
        return hash((self.key_id, self._raw))

    def __repr__(self) -> str:
        return f"VerifyKey(key_id={self.key_id}, public_hex={self.public_hex()!r})"


class SigningKey:
    """A private Ed25519 key under a key id; signs tokens. Lives on central only."""

    __slots__ = ("_private", "key_id")

    def __init__(self, key_id: int, private_key: Ed25519PrivateKey) -> None:
        self.key_id = check_key_id(key_id)
        self._private = private_key

    @classmethod
    def generate(cls, key_id: int) -> SigningKey:
        """A fresh random key under ``key_id``."""
        return cls(key_id, Ed25519PrivateKey.generate())

    @classmethod
    def from_private_hex(cls, key_id: int, text: str) -> SigningKey:
        """Load a key from its 32-byte private seed in hex (the persisted form)."""
        raw = _key_bytes_from_hex(text, "private key")
        return cls(key_id, Ed25519PrivateKey.from_private_bytes(raw))

    def private_bytes_hex(self) -> str:
        """The 32-byte private seed as 64 hex digits; store it like a password."""
        return self._private.private_bytes_raw().hex()

    def public_key(self) -> VerifyKey:
        """The matching public key under the same key id."""
        return VerifyKey(self.key_id, self._private.public_key())

    def sign(self, message: bytes) -> bytes:
        """The 64-byte Ed25519 signature over ``message``."""
        return self._private.sign(message)

    def __repr__(self) -> str:
        # Never print the private seed: reprs end up in logs.
        return f"SigningKey(key_id={self.key_id})"


class KeyRing:
    """The public keys a unit trusts, by key id, so keys can rotate."""

    __slots__ = ("_keys",)

    def __init__(self, keys: Iterable[VerifyKey] = ()) -> None:
        self._keys: dict[int, VerifyKey] = {}
        for key in keys:
            self.add(key)

    def add(self, key: VerifyKey) -> None:
        """Trust ``key``; adding the same key twice is harmless.

        A different key under a known id is refused: reusing an id would make
        every ticket signed by the old key fail as forged without warning.
        """
        known = self._keys.get(key.key_id)
        if known is not None and known != key:
            raise ValueError(f"key id {key.key_id} already holds a different public key")
        self._keys[key.key_id] = key

    def get(self, key_id: int) -> VerifyKey | None:
        """The key under ``key_id``, or None when the ring does not hold it."""
        return self._keys.get(key_id)

    def key_ids(self) -> list[int]:
        """The key ids held, in ascending order."""
        return sorted(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def __contains__(self, key_id: object) -> bool:
        return key_id in self._keys

    def to_json_dict(self) -> dict[str, list[dict[str, Any]]]:
        """``{"keys": [{"key_id": 1, "algorithm": "Ed25519", "public_key": "<hex>"}]}``."""
        return {
            "keys": [
                {"key_id": k, "algorithm": ALGORITHM, "public_key": self._keys[k].public_hex()}
                for k in self.key_ids()
            ]
        }

    @classmethod
    def from_json_dict(cls, data: Mapping[str, Any]) -> KeyRing:
        """Parse the form :meth:`to_json_dict` writes; raises ValueError saying what is wrong."""
        entries = data.get("keys") if isinstance(data, Mapping) else None
        if not isinstance(entries, list):
            raise ValueError('key ring must be an object with a "keys" list')
        return cls(_key_from_json(i, entry) for i, entry in enumerate(entries))


def _key_from_json(index: int, entry: object) -> VerifyKey:
    """Parse one entry of a key ring's ``keys`` list."""
    where = f"keys[{index}]"
    if not isinstance(entry, Mapping):
        raise ValueError(f"{where} must be an object")
    if entry.get("algorithm") != ALGORITHM:
        raise ValueError(f"{where}.algorithm must be {ALGORITHM!r}, got {entry.get('algorithm')!r}")
    key_id, public = entry.get("key_id"), entry.get("public_key")
    if isinstance(key_id, bool) or not isinstance(key_id, int):
        raise ValueError(f"{where}.key_id must be an integer, got {key_id!r}")
    if not isinstance(public, str):
        raise ValueError(f"{where}.public_key must be a hex string")
    try:
        return VerifyKey.from_public_hex(key_id, public)
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None
