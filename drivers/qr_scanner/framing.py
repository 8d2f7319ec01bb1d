"""Cutting a QR scanner's byte stream into scans: framing apart from I/O.

A 2D scanner in serial (or USB-CDC) mode sends the decoded text followed by
a suffix: CR by default, or CRLF, LF or TAB as its setup says. ``ScanFraming``
is fed whatever chunks the line delivers (split anywhere, repeated,
garbled) and returns, in order, the texts it decoded and a report for each
frame it had to throw away: one longer than the limit (``too_long``; the
parser then skips to the next suffix and never buffers more than the limit)
or one that is not UTF-8 text or carries control characters (``not_text``).
A report carries only a short escaped excerpt, never the whole frame. The
parser does no I/O and keeps no clock: the scanner above it stamps the time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

Suffix = Literal["CR", "CRLF", "LF", "TAB"]
SUFFIX_BYTES: dict[Suffix, bytes] = {"CR": b"\r", "CRLF": b"\r\n", "LF": b"\n", "TAB": b"\t"}
DEFAULT_MAX_FRAME_BYTES = 1024
EXCERPT_BYTES = 32

_LF = 0x0A
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")  # Unicode category Cc


class GarbledReason(StrEnum):
    """Why a frame was thrown away; stable, reported as is."""

    TOO_LONG = "too_long"
    NOT_TEXT = "not_text"


@dataclass(frozen=True)
class ScannedText:
    """One frame that decoded to text (the scanner adds the time)."""

    text: str


@dataclass(frozen=True)
class ScanGarbled:
    """A frame thrown away, with why and a short escaped excerpt of its start."""

    reason: GarbledReason
    excerpt: str


Frame = ScannedText | ScanGarbled


def escaped_excerpt(raw: bytes | bytearray) -> str:
    """The first bytes of ``raw`` as printable ASCII, anything else as ``\\xNN``."""
    head = raw[:EXCERPT_BYTES]
    text = "".join(chr(b) if 0x20 <= b < 0x7F and b != 0x5C else f"\\x{b:02x}" for b in head)
    return text + ("..." if len(raw) > EXCERPT_BYTES else "")


class ScanFraming:
    """Turns chunks of the scanner's byte stream into ``ScannedText`` and ``ScanGarbled``.

    With suffix CR, an LF right after the CR is skipped (a scanner set to
    CRLF talking to a driver set to CR). With LF or CRLF the frame ends at LF
    and one CR before it is dropped. Empty frames are ignored.
    """

    def __init__(self, suffix: Suffix = "CR", max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES):
        if max_frame_bytes < 1:
            raise ValueError("max_frame_bytes must be at least 1")
        self.suffix = suffix
        self.max_frame_bytes = max_frame_bytes
        self._end = SUFFIX_BYTES[suffix][-1:]  # CRLF ends at its LF
        self._drops_cr_before_end = suffix in ("LF", "CRLF")
        self._skips_lf_after_end = suffix == "CR"
        # A CR waiting to be dropped may sit in the buffer beside a full frame.
        self._buffer_limit = max_frame_bytes + (1 if self._drops_cr_before_end else 0)
        self._buffer = bytearray()
        self._is_discarding = False  # inside a too-long frame, skipping to its end
        self._may_skip_lf = False

    def feed(self, chunk: bytes) -> list[Frame]:
        """The frames this chunk completed (and too-long reports), in order."""
        frames: list[Frame] = []
        position = 0
        while position < len(chunk):
            if self._may_skip_lf:
                self._may_skip_lf = False
                if chunk[position] == _LF:
                    position += 1
                    continue
            end = chunk.find(self._end, position)
            if end < 0:
                self._take(chunk[position:], frames)
                break
            self._take(chunk[position:end], frames)
            self._finish_frame(frames)
            position = end + 1
            self._may_skip_lf = self._skips_lf_after_end
        return frames

    def reset(self) -> None:
        """Forget any partial frame (the line dropped and came back)."""
        self._buffer.clear()
        self._is_discarding = False
        self._may_skip_lf = False

    def _take(self, data: bytes, frames: list[Frame]) -> None:
        if self._is_discarding or not data:
            return
        self._buffer += data
        if len(self._buffer) > self._buffer_limit:
            # The excerpt must not depend on how the line happened to chunk the bytes.
            head = self._buffer[: self._buffer_limit + 1]
            frames.append(ScanGarbled(GarbledReason.TOO_LONG, escaped_excerpt(head)))
            self._buffer.clear()
            self._is_discarding = True

    def _finish_frame(self, frames: list[Frame]) -> None:
        if self._is_discarding:
            self._is_discarding = False
            return
        raw = bytes(self._buffer)
        self._buffer.clear()
        if self._drops_cr_before_end and raw.endswith(b"\r"):
            raw = raw[:-1]
        if raw:
            frames.append(self._decode(raw))

    def _decode(self, raw: bytes) -> Frame:
        if len(raw) > self.max_frame_bytes:
            return ScanGarbled(GarbledReason.TOO_LONG, escaped_excerpt(raw))
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return ScanGarbled(GarbledReason.NOT_TEXT, escaped_excerpt(raw))
        if _CONTROL.search(text):
            return ScanGarbled(GarbledReason.NOT_TEXT, escaped_excerpt(raw))
        return ScannedText(text)
