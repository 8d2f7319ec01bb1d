"""Draws parsed ESC/POS commands onto a picture of the paper, so people can look at a ticket.

No library renders ESC/POS, so this is a small one: it draws exactly what the
ticket layout sends (initialise, alignment, text in a printer-like font, line
feeds, ``GS v 0`` raster images) and skips everything else, counting what it
could not place. Text is drawn in 12 x 24 dot cells with Pillow's built-in
bitmap font doubled, like a receipt printer's font A, decoded as code page
437 (the page python-escpos selects), so Chinese sent as text shows up as the
mojibake a real printer would print. Pages are capped in height; nothing the
commands say can make it raise or allocate without bound.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from PIL import Image, ImageDraw, ImageFont

from drivers.printer.escpos_stream import (
    Align,
    Command,
    Initialise,
    LineFeed,
    RasterImage,
    Text,
    Unknown,
)

CELL_WIDTH, CELL_HEIGHT = 12, 24  # font A of a 203 dpi head
LINE_HEIGHT = 30  # python-escpos leaves the default line spacing: about 1/6 inch
MAX_PAGE_DOTS = 16_000  # 2 metres of paper; anything longer is cut off
MAX_FEED_LINES = 255
_BITMAP_FONT = ImageFont.load_default_imagefont()
_INVERT = bytes(255 - value for value in range(256))


@dataclass
class RenderedPage:
    """A drawn page and what the renderer had to skip."""

    image: Image.Image
    unknown_commands: int = 0
    truncated: bool = False


@dataclass
class _Paper:
    width: int
    strips: list[Image.Image] = field(default_factory=list)
    height: int = 0
    align: int = 0
    pending: bytes = b""  # text waiting for a line feed
    unknown: int = 0
    truncated: bool = False

    def add(self, strip: Image.Image) -> None:
        room = MAX_PAGE_DOTS - self.height
        if strip.height > room:
            self.truncated = True
            strip = strip.crop((0, 0, strip.width, max(room, 0)))
        if strip.height > 0:
            self.strips.append(strip)
            self.height += strip.height

    def place(self, picture: Image.Image) -> Image.Image:
        """``picture`` on a paper-wide white strip, at the current alignment."""
        strip = Image.new("1", (self.width, picture.height), 1)
        free = max(self.width - picture.width, 0)
        x = {1: free // 2, 2: free}.get(self.align, 0)
        strip.paste(picture.crop((0, 0, min(picture.width, self.width), picture.height)), (x, 0))
        return strip


def render(commands: Iterable[Command], width_dots: int) -> RenderedPage:
    """The page ``commands`` print on paper ``width_dots`` wide."""
    paper = _Paper(width=width_dots)
    for command in commands:
        _draw(paper, command)
    _print_pending(paper)
    image = Image.new("1", (width_dots, max(paper.height, 1)), 1)
    y = 0
    for strip in paper.strips:
        image.paste(strip, (0, y))
        y += strip.height
    return RenderedPage(image.convert("L"), paper.unknown, paper.truncated)


def _draw(paper: _Paper, command: Command) -> None:
    if isinstance(command, Text):
        paper.pending += command.data
    elif isinstance(command, LineFeed):
        _feed(paper, command.lines)
    elif isinstance(command, RasterImage):
        _print_pending(paper)
        paper.add(paper.place(_raster_picture(command)))
    elif isinstance(command, Align):
        paper.align = command.position
    elif isinstance(command, Initialise):
        paper.align, paper.pending = 0, b""
    elif isinstance(command, Unknown):
        paper.unknown += 1


def _feed(paper: _Paper, lines: int) -> None:
    """Print the pending text (if any) as the first line, then blank lines."""
    lines = min(lines, MAX_FEED_LINES)
    if paper.pending and lines:
        _print_pending(paper)
        lines -= 1
    for _ in range(lines):
        if paper.height >= MAX_PAGE_DOTS:  # the page is full: the rest is lost
            paper.truncated = True
            return
        paper.add(Image.new("1", (paper.width, LINE_HEIGHT), 1))


def _print_pending(paper: _Paper) -> None:
    """The buffered text as one or more lines (wrapped at the paper's width, as printers do)."""
    # code page 437 as the printer reads it; what the bitmap font lacks shows as "?"
    text = paper.pending.decode("cp437").encode("latin-1", "replace").decode("latin-1")
    paper.pending = b""
    columns = max(paper.width // CELL_WIDTH, 1)
    for start in range(0, len(text), columns):
        paper.add(paper.place(_text_picture(text[start : start + columns])))


def _text_picture(text: str) -> Image.Image:
    """``text`` in 12 x 24 cells: the bitmap font drawn at 6 x 12, then doubled."""
    # one spare dot at the left: some glyphs of the bitmap font start left of their cell
    small = Image.new("1", (len(text) * CELL_WIDTH // 2 + 1, CELL_HEIGHT // 2), 1)
    ImageDraw.Draw(small).text((1, 0), text, font=_BITMAP_FONT, fill=0)
    cells = small.resize((small.width * 2, small.height * 2), Image.Resampling.NEAREST)
    line = Image.new("1", (cells.width, LINE_HEIGHT), 1)
    line.paste(cells, (0, (LINE_HEIGHT - CELL_HEIGHT) // 2))
    return line


def _raster_picture(image: RasterImage) -> Image.Image:
    """The raster data as a picture (1 bits are black), stretched as its mode says."""
    width = image.width_bytes * 8
    # ESC/POS 1 = ink, Pillow 1 = white: invert every byte
    picture = Image.frombytes("1", (width, image.height), image.data.translate(_INVERT))
    scale_x = 2 if image.mode & 1 else 1
    scale_y = 2 if image.mode & 2 else 1
    if scale_x == scale_y == 1:
        return picture
    size = (width * scale_x, image.height * scale_y)
    return picture.resize(size, Image.Resampling.NEAREST)
