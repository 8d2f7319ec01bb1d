"""Concert framing, apart from any I/O: control bytes, STX…ETX frames and their LRC.

On the wire a Concert exchange is single control bytes (ENQ opens a session,
ACK and NAK answer, EOT closes it) and frames ``STX payload ETX LRC``, where
the LRC is the XOR of every byte after STX up to and including ETX. The
``FrameParser`` is fed whatever chunks the line delivers (split, garbled,
repeated, with stray bytes between) and returns what it recognised: control
bytes, whole frames, and frame errors. It never raises on input and never
reads or writes anything; the link layer decides what to answer (a NAK for a
bad frame) and when to give up on a partial one (``reset``).
"""

from __future__ import annotations

import functools
import operator
from dataclasses import dataclass
from enum import IntEnum, StrEnum

STX = 0x02
ETX = 0x03
# Concert records are 34 (request) and 80 (long answer) characters: anything far
# longer is noise or a runaway sender, and the parser drops it instead of growing.
MAX_PAYLOAD = 256
PRINTABLE = range(0x20, 0x7F)


class Control(IntEnum):
    """The one-byte signals of a Concert session."""

    EOT = 0x04
    ENQ = 0x05
    ACK = 0x06
    NAK = 0x15

    @property
    def byte(self) -> bytes:
        """The signal as one byte on the wire."""
        return bytes([self.value])


CONTROL_VALUES = frozenset(int(code) for code in Control)


class FrameFault(StrEnum):
    """Why bytes on the line did not make a frame."""

    BAD_LRC = "bad_lrc"  # the checksum does not match: the sender must repeat
    BAD_BYTE = "bad_byte"  # a good checksum over bytes a Concert record never holds
    TOO_LONG = "too_long"  # no ETX within MAX_PAYLOAD bytes
    INTERRUPTED = "interrupted"  # a new STX, or the link's timeout, cut the frame short
    STRAY = "stray_bytes"  # bytes outside any frame that are not control bytes


@dataclass(frozen=True)
class ControlByte:
    """A control byte seen outside a frame."""

    code: Control


@dataclass(frozen=True, repr=False)
class Frame:
    """A whole frame whose LRC checked; ``payload`` is what lay between STX and ETX."""

    payload: bytes

    def __repr__(self) -> str:
        # an answer may carry a card number: a frame never shows its bytes in logs
        return f"Frame({len(self.payload)} bytes)"


@dataclass(frozen=True)
class FrameError:
    """Bytes that did not make a frame: ``size`` of them were dropped."""

    fault: FrameFault
    size: int


ParserEvent = ControlByte | Frame | FrameError


def lrc(data: bytes) -> int:
    """The Concert checksum: XOR of ``data`` (the bytes after STX, ETX included)."""
    return functools.reduce(operator.xor, data, 0)


def encode_frame(payload: bytes) -> bytes:
    """``STX payload ETX LRC``; the payload must be printable ASCII, as Concert records are."""
    if any(byte not in PRINTABLE for byte in payload):
        raise ValueError("a Concert frame carries printable ASCII only")
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"a Concert frame carries at most {MAX_PAYLOAD} bytes")
    body = payload + bytes([ETX])
    return bytes([STX]) + body + bytes([lrc(body)])


class _State(IntEnum):
    IDLE = 0  # between frames
    PAYLOAD = 1  # after STX, before ETX
    CHECKSUM = 2  # after ETX: the next byte is the LRC, whatever its value


class FrameParser:
    """Turns chunks of bytes into control bytes, frames and frame errors."""

    def __init__(self, max_payload: int = MAX_PAYLOAD) -> None:
        self._max_payload = max_payload
        self._state = _State.IDLE
        self._payload = bytearray()
        self._stray = 0
        self._events: list[ParserEvent] = []

    @property
    def is_in_frame(self) -> bool:
        """True while a frame has started and not yet ended."""
        return self._state is not _State.IDLE

    def feed(self, data: bytes) -> list[ParserEvent]:
        """Everything the bytes complete, in line order."""
        for byte in data:
            self._step(byte)
        self._flush_stray()
        events, self._events = self._events, []
        return events

    def reset(self) -> FrameError | None:
        """Drop a partial frame (the link waited long enough); its error, if one was open."""
        dropped = self._partial_size()
        self._state = _State.IDLE
        self._payload.clear()
        return FrameError(FrameFault.INTERRUPTED, dropped) if dropped else None

    def _partial_size(self) -> int:
        if self._state is _State.IDLE:
            return 0
        return 1 + len(self._payload) + (1 if self._state is _State.CHECKSUM else 0)

    def _step(self, byte: int) -> None:
        if self._state is _State.IDLE:
            self._idle(byte)
        elif self._state is _State.PAYLOAD:
            self._in_payload(byte)
        else:
            self._checksum(byte)

    def _idle(self, byte: int) -> None:
        if byte == STX:
            self._flush_stray()
            self._state = _State.PAYLOAD
        elif byte in CONTROL_VALUES:
            self._flush_stray()
            self._events.append(ControlByte(Control(byte)))
        else:
            self._stray += 1

    def _in_payload(self, byte: int) -> None:
        if byte == ETX:
            self._state = _State.CHECKSUM
        elif byte == STX:  # the sender started over: the first attempt is lost
            self._events.append(FrameError(FrameFault.INTERRUPTED, 1 + len(self._payload)))
            self._payload.clear()
        elif len(self._payload) >= self._max_payload:
            self._events.append(FrameError(FrameFault.TOO_LONG, 2 + len(self._payload)))
            self._state = _State.IDLE
            self._payload.clear()
        else:
            # any byte is kept: a bit error inside a frame shows up as a bad LRC,
            # so the sender is asked to repeat instead of the frame being lost silently
            self._payload.append(byte)

    def _checksum(self, byte: int) -> None:
        payload = bytes(self._payload)
        self._payload.clear()
        self._state = _State.IDLE
        size = len(payload) + 3
        if lrc(payload + bytes([ETX])) != byte:
            self._events.append(FrameError(FrameFault.BAD_LRC, size))
        elif any(b not in PRINTABLE for b in payload):
            self._events.append(FrameError(FrameFault.BAD_BYTE, size))
        else:
            self._events.append(Frame(payload))

    def _flush_stray(self) -> None:
        if self._stray:
            self._events.append(FrameError(FrameFault.STRAY, self._stray))
            self._stray = 0
