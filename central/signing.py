"""Central's keys: the Ed25519 keys that sign tickets, and the real-name secret.

Keys live as files in a directory (mode 0600): ``signing-<id>.hex`` holds a
key's 32-byte seed. The newest key signs; every key stays published in the
key ring so tickets signed before a rotation still verify at the gates.
``holder.secret`` keys the hash of ID numbers used by the real-name rule, so
the store never holds a raw ID number. ``holder-tag.secret`` keys the tags by
which a gate finds the tickets of an ID card tapped on its reader: that key
is published to enrolled gates with their feed (a gate must compute tags
offline), so it is a key of its own, never the real-name secret.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path

from protocol.keys import KeyRing, SigningKey
from protocol.token import normalise_id_number
from protocol.tvm import FIRST_UNIT_KEY_ID
from protocol.units import holder_tag

KEY_FILE_RE = re.compile(r"^signing-(\d{1,3})\.hex$")
HOLDER_SECRET_FILE = "holder.secret"
HOLDER_TAG_FILE = "holder-tag.secret"
HOLDER_TAG_KEY_ID = 1
MAX_KEY_ID = FIRST_UNIT_KEY_ID - 1  # 128 and up are the TVMs' keys (one byte in the token)


class KeyStore:
    """The signing keys and holder secret in one directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self._keys = self._read_keys()
        if not self._keys:
            self.rotate()
        self._holder_secret = self._read_or_create_secret(HOLDER_SECRET_FILE)
        self.holder_tag_key = self._read_or_create_secret(HOLDER_TAG_FILE)

    @property
    def active(self) -> SigningKey:
        """The key that signs new tickets: the newest."""
        return self._keys[max(self._keys)]

    def key_ring(self) -> KeyRing:
        """Every public key, for ``GET /v1/keys`` and the gates."""
        return KeyRing(key.public_key() for key in self._keys.values())

    def rotate(self) -> SigningKey:
        """Create the next signing key; older keys keep verifying."""
        key_id = max(self._keys, default=0) + 1
        if key_id > MAX_KEY_ID:
            raise ValueError(f"central's key ids run out at {MAX_KEY_ID}; the rest are the TVMs'")
        key = SigningKey.generate(key_id)
        _write_private(self.directory / f"signing-{key_id}.hex", key.private_bytes_hex())
        self._keys[key_id] = key
        return key

    def holder_key(self, id_number: str) -> str:
        """A keyed hash of an ID number: equal for the same person, useless if leaked."""
        normalised = normalise_id_number(id_number).encode()
        return hmac.new(self._holder_secret, normalised, hashlib.sha256).hexdigest()

    def holder_tag(self, id_number: str) -> str:
        """The tag a gate finds this ID number's tickets by (hex; see ``protocol.units``)."""
        return holder_tag(self.holder_tag_key, id_number)

    def _read_keys(self) -> dict[int, SigningKey]:
        keys = {}
        for path in self.directory.iterdir():
            match = KEY_FILE_RE.match(path.name)
            if match:
                key_id = int(match.group(1))
                keys[key_id] = SigningKey.from_private_hex(key_id, path.read_text().strip())
        return keys

    def _read_or_create_secret(self, name: str) -> bytes:
        path = self.directory / name
        if not path.exists():
            _write_private(path, secrets.token_hex(32))
        return bytes.fromhex(path.read_text().strip())


def _write_private(path: Path, text: str) -> None:
    """Write a secret file readable by its owner only, atomically."""
    temporary = path.with_suffix(".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
