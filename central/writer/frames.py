"""Length-prefixed JSON frames: how HTTP processes and the writer process talk.

Each frame is a 4-byte big-endian length and that many bytes of JSON. A
frame longer than ``MAX_FRAME_BYTES`` means the peer is broken; the
connection is dropped rather than buffering without bound.
"""

from __future__ import annotations

import struct
from typing import Any

import orjson

HEADER = struct.Struct("!I")
MAX_FRAME_BYTES = 16 * 1024 * 1024  # request bodies are capped at 2 MiB by the API


class FrameError(Exception):
    """The byte stream is not a sequence of sane frames."""


def encode(message: Any) -> bytes:
    """One message as a frame."""
    payload = orjson.dumps(message)
    return HEADER.pack(len(payload)) + payload


class FrameReader:
    """Collects bytes as they arrive and hands out whole messages."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[Any]:
        """Add received bytes; return every message now complete, in order."""
        self._buffer += data
        messages = []
        offset = 0
        while len(self._buffer) - offset >= HEADER.size:
            (length,) = HEADER.unpack_from(self._buffer, offset)
            if length > MAX_FRAME_BYTES:
                raise FrameError(f"frame of {length} bytes is over {MAX_FRAME_BYTES}")
            end = offset + HEADER.size + length
            if len(self._buffer) < end:
                break
            try:
                messages.append(orjson.loads(self._buffer[offset + HEADER.size : end]))
            except orjson.JSONDecodeError as exc:
                raise FrameError(f"frame is not JSON: {exc}") from exc
            offset = end
        del self._buffer[:offset]
        return messages
