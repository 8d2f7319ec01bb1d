"""An incremental ESC/POS parser: bytes in, printer commands out, no I/O.

The printer simulator feeds it every chunk it receives and gets back the
commands completed so far: the few the renderer draws (initialise, alignment,
text, line feeds, ``GS v 0`` raster images, cut), real-time status queries
(``DLE EOT n``) the simulator answers, commands it knows the length of but
does not draw (``Ignored``), and bytes it cannot place (``Unknown``: skipped
and counted). A command split across chunks waits for its remaining bytes;
nothing raises, whatever arrives. Raster images larger than a real print
head could take are refused as ``Unknown`` so a hostile header cannot make
the simulator buffer gigabytes.
"""

from __future__ import annotations

from dataclasses import dataclass

ESC, GS, DLE, FS, LF, CR = 0x1B, 0x1D, 0x10, 0x1C, 0x0A, 0x0D
MAX_RASTER_WIDTH_BYTES = 512  # 4096 dots: wider than any receipt head
MAX_RASTER_HEIGHT = 4096
_RASTER_HEADER = 8  # GS v 0 m xL xH yL yH


@dataclass(frozen=True, slots=True)
class Initialise:
    """``ESC @``: clear the buffer and reset every mode."""


@dataclass(frozen=True, slots=True)
class Align:
    """``ESC a n``: 0 left, 1 centre, 2 right."""

    position: int


@dataclass(frozen=True, slots=True)
class Text:
    """Printable bytes in the printer's code page."""

    data: bytes


@dataclass(frozen=True, slots=True)
class LineFeed:
    """``LF`` (one line) or ``ESC d n`` (n lines): print the buffer and feed."""

    lines: int = 1


@dataclass(frozen=True, slots=True)
class RasterImage:
    """``GS v 0``: a 1-bit image, ``width_bytes`` x 8 dots wide, bit 7 leftmost, 1 = black."""

    mode: int  # 0 normal, 1 double width, 2 double height, 3 both
    width_bytes: int
    height: int
    data: bytes


@dataclass(frozen=True, slots=True)
class Cut:
    """``GS V``: cut the paper (the end of a ticket)."""

    partial: bool


@dataclass(frozen=True, slots=True)
class StatusQuery:
    """``DLE EOT n``: a real-time status request, answered at once."""

    n: int


@dataclass(frozen=True, slots=True)
class Ignored:
    """A known command that changes nothing the renderer draws (code page, font size...)."""

    data: bytes


@dataclass(frozen=True, slots=True)
class Unknown:
    """Bytes the parser cannot place; skipped and counted."""

    data: bytes


Command = Initialise | Align | Text | LineFeed | RasterImage | Cut | StatusQuery | Ignored | Unknown
Parsed = tuple[Command, int] | None  # a command and its length, or None until it is complete

# Fixed-length commands that do not change what is drawn: (prefix, second byte) -> total length.
_FIXED: dict[tuple[int, int], int] = {
    **{(ESC, ord(c)): 3 for c in "!-EMtGV{R U3J"},
    (ESC, ord("2")): 2,
    (ESC, ord("S")): 2,
    (ESC, ord("p")): 5,
    **{(GS, ord(c)): 3 for c in "!BHfhwaIrb"},
    (GS, ord("L")): 4,
    (GS, ord("W")): 4,
    (FS, ord("&")): 2,
    (FS, ord(".")): 2,
    (FS, ord("!")): 3,
    (FS, ord("C")): 3,
    (DLE, 0x14): 5,
}
_CUT_MODES = frozenset({0, 1, 48, 49})
_CUT_FEED_MODES = frozenset({65, 66, 97, 98, 103, 104})  # followed by a feed amount


def _is_text(byte: int) -> bool:
    return 0x20 <= byte <= 0x7E or byte >= 0x80


class EscPosParser:
    """Feed it bytes as they come; it returns each command once it is complete."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[Command]:
        """The commands completed by ``data`` (a partial command waits for the next call)."""
        self._buffer += data
        commands: list[Command] = []
        position = 0
        while position < len(self._buffer):
            parsed = self._command_at(position)
            if parsed is None:  # the rest of this command has not arrived yet
                break
            command, size = parsed
            commands.append(command)
            position += size
        del self._buffer[:position]
        return commands

    def flush(self) -> list[Command]:
        """Whatever is left in the buffer, as ``Unknown`` (the stream ended mid-command)."""
        rest, self._buffer = bytes(self._buffer), bytearray()
        return [Unknown(rest)] if rest else []

    def _command_at(self, i: int) -> Parsed:
        buffer = self._buffer
        first = buffer[i]
        if _is_text(first):
            end = i
            while end < len(buffer) and _is_text(buffer[end]):
                end += 1
            return Text(bytes(buffer[i:end])), end - i
        if first == LF:
            return LineFeed(1), 1
        if first == CR:
            return Ignored(b"\r"), 1
        if first in (ESC, GS, DLE, FS):
            return self._prefixed_at(i)
        return Unknown(bytes(buffer[i : i + 1])), 1

    def _prefixed_at(self, i: int) -> Parsed:
        """A command starting with ESC, GS, DLE or FS."""
        if i + 1 >= len(self._buffer):
            return None
        key = (self._buffer[i], self._buffer[i + 1])
        special = _SPECIAL.get(key)
        if special is not None:
            return special(self, i)
        length = _FIXED.get(key)
        if length is None:
            return Unknown(bytes(self._buffer[i : i + 2])), 2
        if i + length > len(self._buffer):
            return None
        return Ignored(bytes(self._buffer[i : i + length])), length

    def _args(self, i: int, count: int) -> bytes | None:
        """The ``count`` bytes after a two-byte command at ``i``, or None until they arrive."""
        if i + 2 + count > len(self._buffer):
            return None
        return bytes(self._buffer[i + 2 : i + 2 + count])

    def _initialise(self, _i: int) -> Parsed:
        return Initialise(), 2

    def _align(self, i: int) -> Parsed:
        args = self._args(i, 1)
        if args is None:
            return None
        return Align(args[0] % 48 if args[0] >= 48 else args[0]), 3

    def _feed_lines(self, i: int) -> Parsed:
        args = self._args(i, 1)
        return None if args is None else (LineFeed(args[0]), 3)

    def _status(self, i: int) -> Parsed:
        args = self._args(i, 1)
        return None if args is None else (StatusQuery(args[0]), 3)

    def _cut(self, i: int) -> Parsed:
        args = self._args(i, 1)
        if args is None:
            return None
        mode = args[0]
        if mode in _CUT_MODES:
            return Cut(partial=mode in (1, 49)), 3
        if mode in _CUT_FEED_MODES:
            return None if self._args(i, 2) is None else (Cut(partial=mode % 2 == 0), 4)
        return Unknown(bytes(self._buffer[i : i + 3])), 3

    def _area(self, i: int) -> Parsed:
        """``GS ( x pL pH data``: a length-prefixed function (QR, graphics) not drawn here."""
        args = self._args(i, 3)
        if args is None:
            return None
        length = 5 + args[1] + args[2] * 256
        if i + length > len(self._buffer):
            return None
        return Ignored(bytes(self._buffer[i : i + length])), length

    def _raster(self, i: int) -> Parsed:
        header = self._args(i, _RASTER_HEADER - 2)
        if header is None:
            return None
        zero, mode, x_low, x_high, y_low, y_high = header
        width_bytes, height = x_low + x_high * 256, y_low + y_high * 256
        if zero != ord("0") or mode % 48 > 3 or not _raster_fits(width_bytes, height):
            return Unknown(bytes(self._buffer[i : i + _RASTER_HEADER])), _RASTER_HEADER
        end = i + _RASTER_HEADER + width_bytes * height
        if end > len(self._buffer):
            return None
        data = bytes(self._buffer[i + _RASTER_HEADER : end])
        return RasterImage(mode % 48, width_bytes, height, data), end - i


def _raster_fits(width_bytes: int, height: int) -> bool:
    return 0 < width_bytes <= MAX_RASTER_WIDTH_BYTES and 0 < height <= MAX_RASTER_HEIGHT


_SPECIAL = {
    (ESC, ord("@")): EscPosParser._initialise,
    (ESC, ord("a")): EscPosParser._align,
    (ESC, ord("d")): EscPosParser._feed_lines,
    (DLE, 0x04): EscPosParser._status,
    (GS, ord("V")): EscPosParser._cut,
    (GS, ord("(")): EscPosParser._area,
    (GS, ord("v")): EscPosParser._raster,
}
