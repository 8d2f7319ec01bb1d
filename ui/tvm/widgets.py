"""What a kiosk screen is made of, as plain data: widgets with a key, a kind, a place and a text.

A screen is a pure function of the view (``ui.tvm.screens``) returning a list
of ``Widget``; the kiosk turns the list into pygame_gui elements and keeps
those whose description did not change, so a new view redraws only what
changed and a text field keeps what the passenger typed. A ``BUTTON``'s key
is its target name; ``ENTRY`` is a text field; ``TEXT`` is text fitted to its
box (wrapped, shrunk, never leaving it); ``BOX`` is a coloured panel behind
other things. ``Geometry`` cuts the screen into the frame every screen
shares (header, banner, message line, body, footer) and scales the 800x480
design to the real size, so 1280x800 is the same screen, larger.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Literal

from ui.text_fit import SHRINK_STEP

Rect = tuple[int, int, int, int]  # x, y, width, height
Align = Literal["left", "center", "right"]
DESIGN = (800, 480)  # the screen the sizes below are given for
MIN_TOUCH = 48  # the smallest side of anything a finger must hit, in pixels at any size


class Kind(enum.Enum):
    """What a widget is."""

    BUTTON = "button"
    ENTRY = "entry"
    TEXT = "text"
    BOX = "box"


# text styles: (largest, smallest) size in design pixels, and bold; text shrinks to fit its box
TEXT_SIZES: dict[str, tuple[int, int, bool]] = {
    "huge": (40, 22, True),
    "big": (30, 16, True),
    "title": (24, 14, True),
    "heading": (20, 13, True),
    "body": (18, 12, False),
    "small": (15, 11, False),
    "caption": (22, 12, False),
    "strong": (22, 12, True),
    "key": (22, 12, False),
}


@dataclass(frozen=True)
class Ink:
    """A colour of the theme: ``colour`` of the element ids ``ids`` (most specific first)."""

    colour: str
    ids: tuple[str, ...] = ("#kiosk",)


@dataclass(frozen=True)
class Widget:
    """One thing on the screen."""

    key: str  # a BUTTON's target name; unique on a screen
    kind: Kind
    rect: Rect
    text: str = ""
    style: str = ""  # BUTTON: theme class (``@primary``); TEXT: a TEXT_SIZES name
    ink: Ink = Ink("text")  # TEXT: its colour; BOX: its fill
    enabled: bool = True  # BUTTON: touchable now (its target is in the view's targets)
    align: Align = "left"
    front: bool = False  # TEXT drawn over the buttons (a button's caption)
    middle: bool = True  # TEXT: centred vertically in its box (else at its top)


def caption_ink(style: str, enabled: bool) -> Ink:
    """The text colour of a button of theme class ``style``, as the theme gives it."""
    return Ink("normal_text" if enabled else "disabled_text", (style, "button"))


@dataclass(frozen=True)
class Geometry:
    """The screen cut into the shared frame, at one size."""

    width: int
    height: int
    scale: float
    has_banner: bool

    @classmethod
    def of(cls, size: tuple[int, int], has_banner: bool) -> Geometry:
        """The frame of a screen of ``size`` pixels."""
        scale = min(size[0] / DESIGN[0], size[1] / DESIGN[1])
        return cls(size[0], size[1], scale, has_banner)

    def u(self, design_pixels: float) -> int:
        """``design_pixels`` at this screen's scale."""
        return round(design_pixels * self.scale)

    @property
    def margin(self) -> int:
        return self.u(12)

    @property
    def gap(self) -> int:
        return max(4, self.u(6))

    @property
    def touch(self) -> int:
        """The height of an ordinary button: never under MIN_TOUCH."""
        return max(MIN_TOUCH, self.u(52))

    @property
    def header(self) -> Rect:
        return (0, 0, self.width, max(MIN_TOUCH + 8, self.u(56)))

    @property
    def banner(self) -> Rect:
        top = _bottom(self.header)
        return (0, top, self.width, self.u(28) if self.has_banner else 0)

    @property
    def message(self) -> Rect:
        top = _bottom(self.banner)
        return (self.margin, top, self.width - 2 * self.margin, self.u(40))

    @property
    def footer(self) -> Rect:
        height = self.touch + 2 * self.gap
        return (0, self.height - height, self.width, height)

    @property
    def body(self) -> Rect:
        top = _bottom(self.message) + self.gap
        bottom = self.footer[1] - self.gap
        return (self.margin, top, self.width - 2 * self.margin, bottom - top)

    def sizes(self, style: str) -> tuple[int, int, bool]:
        """A text style's (largest, smallest, bold) at this scale, both on the size ladder."""
        largest, smallest, bold = TEXT_SIZES[style]
        return on_ladder(self.u(largest)), on_ladder(max(10, self.u(smallest))), bold


def on_ladder(size: int) -> int:
    """The largest size of the ladder not above ``size`` (the smallest rung if none is)."""
    return max((rung for rung in SIZE_LADDER if rung <= size), default=SIZE_LADDER[-1])


def _ladder(top: int, bottom: int) -> tuple[int, ...]:
    """Sizes from ``top`` down, each step as ``ui.text_fit`` shrinks a text."""
    rungs = [top]
    while rungs[-1] > bottom:
        rungs.append(max(bottom, int(rungs[-1] * SHRINK_STEP)))
    return tuple(rungs)


# every text is fitted at sizes from this one ladder, so texts share the font faces they open
# (a face of a Chinese font holds about a megabyte)
SIZE_LADDER = _ladder(120, 10)


def _bottom(rect: Rect) -> int:
    return rect[1] + rect[3]


def split_columns(rect: Rect, shares: tuple[float, ...], gap: int) -> list[Rect]:
    """``rect`` cut left to right into columns of the given shares of its width."""
    x, y, width, height = rect
    room = width - gap * (len(shares) - 1)
    total = sum(shares)
    columns = []
    for share in shares:
        column = round(room * share / total)
        columns.append((x, y, column, height))
        x += column + gap
    last = columns[-1]
    columns[-1] = (last[0], y, rect[0] + width - last[0], height)  # rounding goes to the last
    return columns


def split_rows(rect: Rect, heights: tuple[int, ...], gap: int) -> list[Rect]:
    """``rect`` cut top to bottom into rows of the given heights; ``-1`` takes what is left."""
    x, y, width, height = rect
    fixed = sum(h for h in heights if h >= 0) + gap * (len(heights) - 1)
    rest = max(0, height - fixed)
    rows = []
    for row_height in heights:
        actual = rest if row_height < 0 else row_height
        rows.append((x, y, width, actual))
        y += actual + gap
    return rows


def inset(rect: Rect, by: int) -> Rect:
    """``rect`` shrunk by ``by`` pixels on every side."""
    x, y, width, height = rect
    return (x + by, y + by, max(0, width - 2 * by), max(0, height - 2 * by))


def fits(count: int, room: int, item: int, gap: int) -> int:
    """How many items of ``item`` pixels, ``gap`` apart, fit in ``room`` (at least one)."""
    return max(1, (room + gap) // (item + gap)) if count else 0


def button(
    target: str, rect: Rect, caption: str, style: str, enabled: bool, text_style: str = "caption"
) -> list[Widget]:
    """A button and its caption (fitted inside it, drawn over it)."""
    padding = max(4, rect[3] // 8)
    caption_rect = inset(rect, padding)
    return [
        Widget(target, Kind.BUTTON, rect, style=style, enabled=enabled),
        Widget(
            f"{target}#caption",
            Kind.TEXT,
            caption_rect,
            caption,
            text_style,
            caption_ink(style, enabled),
            align="center",
            front=True,
        ),
    ]


def text(
    key: str,
    rect: Rect,
    words: str,
    style: str = "body",
    ink: str = "text",
    align: Align = "left",
    *,
    middle: bool = True,
) -> Widget:
    """A text in the background (not over a button)."""
    return Widget(key, Kind.TEXT, rect, words, style, Ink(ink), align=align, middle=middle)


def box(key: str, rect: Rect, fill: str) -> Widget:
    """A coloured panel of the theme colour ``fill``."""
    return Widget(key, Kind.BOX, rect, ink=Ink(fill))
