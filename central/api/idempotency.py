"""The HTTP side of idempotent mutations: the Idempotency-Key header and the request's fingerprint.

A key is 1-128 printable ASCII characters without spaces
(``protocol.fields.IDEMPOTENCY_KEY_PATTERN``, as the OpenAPI description
states it). The writer side (look the key up, run once, store the answer
with the effect) is ``central.writer.once``.
"""

from __future__ import annotations

import hashlib

import orjson

from protocol.errors import ErrorCode, StationKitError
from protocol.fields import IDEMPOTENCY_KEY_PATTERN, matches, shown

MAX_KEY_LENGTH = 128
KEY_RULE = f"Idempotency-Key must be 1-{MAX_KEY_LENGTH} printable ASCII characters without spaces"


def request_hash(method: str, path: str, body: bytes) -> str:
    """A fingerprint of a request: method, path and canonical JSON body."""
    try:
        canonical = orjson.dumps(orjson.loads(body or b"null"), option=orjson.OPT_SORT_KEYS)
    except orjson.JSONDecodeError:
        canonical = body
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + canonical).hexdigest()


def check_key(key: str | None) -> str:
    """The Idempotency-Key header, required and sane."""
    if not key:
        raise StationKitError(
            "the Idempotency-Key header is required on this request",
            ErrorCode.IDEMPOTENCY_KEY_REQUIRED,
        )
    if not matches(IDEMPOTENCY_KEY_PATTERN, key):
        raise StationKitError(f"{KEY_RULE}, got {shown(key)}", ErrorCode.BAD_REQUEST)
    return key
