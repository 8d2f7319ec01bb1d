"""Text wrapped and shrunk to fit a box, for screens whose texts come from elsewhere.

A screen does not know how long the messages it shows will be, nor how wide
the display is. ``fit_text`` finds the largest size, from a preferred one down
to a floor, at which the text wraps into the box, and evens out its lines
(no lone character left on the last one); at the floor it keeps the lines
that fit and ends the last with an ellipsis, so text never runs out of its
box. Lines break between Chinese characters and at spaces in English; a
word wider than the box is broken between letters; Chinese closing
punctuation stays on the line it ends. No drawing and no I/O here: the
caller passes the font book, and the result is plain data.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from ui.fonts import FontBook

Measure = Callable[[str], int]
ELLIPSIS = "…"
CLOSING = set("，。、；：？！）》」』】〕,.;:?!)]}%")  # never starts a line
SHRINK_STEP = 0.9  # each try is this much smaller than the last


@dataclass(frozen=True)
class FittedText:
    """Lines of text at one size, known to fit the box they were fitted to."""

    lines: tuple[str, ...]
    size: int
    bold: bool
    line_height: int
    widths: tuple[int, ...]

    @property
    def height(self) -> int:
        """The height the lines take, top of the first to bottom of the last."""
        return self.line_height * len(self.lines)

    @property
    def width(self) -> int:
        """The widest line's width."""
        return max(self.widths, default=0)


def fit_text(
    fonts: FontBook,
    text: str,
    box: tuple[int, int],
    sizes: tuple[int, int],
    *,
    bold: bool = False,
) -> FittedText:
    """``text`` at the largest size in ``sizes`` (max, min) whose lines fit ``box`` (w, h)."""
    width, height = box
    largest, smallest = sizes
    size = max(largest, smallest)
    while True:
        fitted = _at_size(fonts, text, width, size, bold)
        if fitted.height <= height:
            return _balanced(fonts, text, fitted)
        if size <= smallest:
            return _cut_to_height(fitted, fonts, width, height)
        size = max(smallest, int(size * SHRINK_STEP))


def wrap(text: str, width: int, measure: Measure) -> list[str]:
    """``text`` broken into lines no wider than ``width`` as ``measure`` counts pixels."""
    lines: list[str] = []
    line = ""
    for piece in _pieces(text):
        if piece.isspace():
            line += piece if line else ""  # kept as given inside a line ("G101  05车")
            continue
        if measure(line + piece) <= width:
            line += piece
            continue
        if line.strip():
            lines.append(line.rstrip())
        line = _break_long(piece, width, measure, lines)
    if line.strip():
        lines.append(line.rstrip())
    return lines


def ellipsize(line: str, width: int, measure: Measure) -> str:
    """``line`` cut short enough to end with an ellipsis within ``width``."""
    while line and measure(line + ELLIPSIS) > width:
        line = line[:-1]
    return line.rstrip() + ELLIPSIS


def _at_size(fonts: FontBook, text: str, width: int, size: int, bold: bool) -> FittedText:
    face = fonts.font(size, bold=bold)

    def measure(piece: str) -> int:
        return face.size(piece)[0]

    lines = tuple(wrap(text, width, measure))
    widths = tuple(measure(line) for line in lines)
    return FittedText(lines, size, bold, face.get_linesize(), widths)


def _balanced(fonts: FontBook, text: str, fitted: FittedText) -> FittedText:
    """The same number of lines, as even as can be: no lone character on the last line."""
    count = len(fitted.lines)
    if count < 2:
        return fitted
    face = fonts.font(fitted.size, bold=fitted.bold)

    def measure(piece: str) -> int:
        return face.size(piece)[0]

    narrow, wide = fitted.width // count, fitted.width  # the narrowest width keeping ``count``
    while narrow < wide:
        middle = (narrow + wide) // 2
        if len(wrap(text, middle, measure)) <= count:
            wide = middle
        else:
            narrow = middle + 1
    return _at_size(fonts, text, wide, fitted.size, fitted.bold)


def _cut_to_height(fitted: FittedText, fonts: FontBook, width: int, height: int) -> FittedText:
    """The lines that fit ``height`` (at least one), the last ending with an ellipsis."""
    keep = max(1, height // fitted.line_height)
    if len(fitted.lines) <= keep:
        return fitted
    face = fonts.font(fitted.size, bold=fitted.bold)

    def measure(piece: str) -> int:
        return face.size(piece)[0]

    lines = (*fitted.lines[: keep - 1], ellipsize(fitted.lines[keep - 1], width, measure))
    widths = tuple(measure(line) for line in lines)
    return FittedText(lines, fitted.size, fitted.bold, fitted.line_height, widths)


def _break_long(piece: str, width: int, measure: Measure, lines: list[str]) -> str:
    """Put the full-width parts of a too-wide ``piece`` into ``lines``; return the rest."""
    if measure(piece) <= width:
        return piece
    line = ""
    for ch in piece:
        if line and measure(line + ch) > width:
            lines.append(line)
            line = ""
        line += ch
    return line


def _pieces(text: str) -> list[str]:
    """Units a line may break between: runs of spaces, words, single Chinese characters."""
    pieces: list[str] = []
    for ch in (" " if ch.isspace() else ch for ch in text):  # tabs and newlines: spaces
        if pieces and _joins_previous(pieces[-1], ch):
            pieces[-1] += ch
        else:
            pieces.append(ch)
    return pieces


def _joins_previous(previous: str, ch: str) -> bool:
    if ch.isspace():
        return previous.isspace()
    if ch in CLOSING:
        return not previous.isspace()
    return not (previous.isspace() or _is_wide(ch) or _is_wide(previous[-1]))


def _is_wide(ch: str) -> bool:
    """Chinese (and other full-width) characters: a line may break before and after each."""
    return unicodedata.east_asian_width(ch) in "WF"
