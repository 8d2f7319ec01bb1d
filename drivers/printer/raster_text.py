"""Lines of text drawn as 1-bit images with a CJK font, ready for ``GS v 0``.

Receipt printers disagree on how to print Chinese (a GB18030 font ROM behind
``FS &`` on Chinese-market models, none at all on others), and python-escpos
sends ``text("中文")`` as GBK bytes without selecting any code page. So every
line that is not plain ASCII is drawn here with a font file the profile names
and printed as a raster image, which every ESC/POS printer prints the same
way. A font that lacks a glyph would print boxes: ``check_glyphs`` refuses such
text with a ``DeviceConfigError`` instead, and a missing or unreadable font
file is refused when the printer is opened, not at the first sale.
"""

from __future__ import annotations

import struct
import unicodedata
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Literal

from PIL import Image, ImageDraw, ImageFont

from drivers.errors import DeviceConfigError

Align = Literal["left", "center", "right"]
MISSING_PROBE = "\U0010fffd"  # a private-use code point no font maps: draws the .notdef box
INK_THRESHOLD = 128  # grey levels darker than this print as a dot
LINE_GAP = 4  # dots of white between two drawn lines
COLUMN_GAP = "  "  # the least room between two columns
MIN_SIZE = 10  # text is shrunk to fit, down to this size in dots
GLYPHS_KNOWN = 8192  # characters (by size) whose glyph check is remembered
MARGIN = 8  # dots kept white at each side of the paper


class TextRaster:
    """Draws text lines as images of the paper's full width with one font face."""

    def __init__(self, font_path: Path, font_index: int, width_dots: int) -> None:
        self.font_path = font_path
        self.font_index = font_index
        self.width_dots = width_dots
        self._missing: dict[int, bytes] = {}
        self._has_glyph: dict[tuple[str, int], bool] = {}  # rendering a glyph to check is slow
        self.font(24)  # fail now, at open, if the file is absent or not a font

    def font(self, size: int) -> ImageFont.FreeTypeFont:
        """The face at ``size`` dots; DeviceConfigError when the file cannot be used."""
        return _load_font(str(self.font_path), self.font_index, size)

    def check_glyphs(self, text: str, size: int) -> None:
        """Raise DeviceConfigError if the font would draw any character of ``text`` as a box."""
        missing = sorted({ch for ch in text if _needs_glyph(ch) and self._is_missing(ch, size)})
        if missing:
            shown = "".join(missing[:8])
            raise DeviceConfigError(
                f"font {self.font_path} (face {self.font_index}) has no glyph for {shown!r},"
                " which would print as boxes: set font_path to a font that has it"
            )

    def line(self, text: str, size: int, align: Align = "left") -> Image.Image:
        """One line of ``text`` aligned on the paper; longer text is shrunk to fit."""
        self.check_glyphs(text, size)
        font = self._fitting_font(size, lambda f: f.getlength(text))
        free = self._inner_width - int(font.getlength(text))
        x = {"left": 0, "center": free // 2, "right": free}[align]
        return self._draw([(x, text)], font)

    def columns(self, left: str, right: str, size: int, middle: str = "") -> Image.Image:
        """``left`` flush left, ``right`` flush right and ``middle`` centred on one line."""
        self.check_glyphs(left + middle + right, size)

        def needed(font: ImageFont.FreeTypeFont) -> float:
            # the middle is centred, so the longer side decides how much room both sides need
            sides = 2 * max(font.getlength(left), font.getlength(right))
            return sides + font.getlength(middle) + 2 * font.getlength(COLUMN_GAP)

        font = self._fitting_font(size, needed)
        x_middle = (self._inner_width - int(font.getlength(middle))) // 2
        x_right = self._inner_width - int(font.getlength(right))
        pieces = [(0, left), (x_middle, middle), (x_right, right)]
        return self._draw([(x, text) for x, text in pieces if text], font)

    def _fitting_font(
        self, size: int, needed: Callable[[ImageFont.FreeTypeFont], float]
    ) -> ImageFont.FreeTypeFont:
        """The largest face up to ``size`` whose text ``needed`` no more than the paper's width."""
        font = self.font(size)
        while size > MIN_SIZE and needed(font) > self._inner_width:
            size -= 2
            font = self.font(size)
        return font

    def _draw(self, pieces: list[tuple[int, str]], font: ImageFont.FreeTypeFont) -> Image.Image:
        """White paper of one line's height with black text at the given x positions."""
        ascent, descent = font.getmetrics()
        image = Image.new("L", (self.width_dots, ascent + descent + LINE_GAP), 255)
        draw = ImageDraw.Draw(image)
        for x, text in pieces:
            draw.text((MARGIN + max(x, 0), LINE_GAP // 2), text, font=font, fill=0)
        # threshold, not dither: dithered text edges print as speckle
        return image.point(lambda v: 255 if v >= INK_THRESHOLD else 0, mode="1")

    @property
    def _inner_width(self) -> int:
        return self.width_dots - 2 * MARGIN

    def _is_missing(self, ch: str, size: int) -> bool:
        known = self._has_glyph.get((ch, size))
        if known is None:
            if len(self._has_glyph) >= GLYPHS_KNOWN:  # names bring new characters: stay bounded
                self._has_glyph.clear()
            known = self._has_glyph[ch, size] = not self._draws_as_box(ch, size)
        return not known

    def _draws_as_box(self, ch: str, size: int) -> bool:
        font = self.font(size)
        if size not in self._missing:
            self._missing[size] = _mask_key(font, MISSING_PROBE)
        return _mask_key(font, ch) == self._missing[size]


def _needs_glyph(ch: str) -> bool:
    """False for spaces and control characters, which draw nothing in any font."""
    return unicodedata.category(ch)[0] not in "ZC"


def _mask_key(font: ImageFont.FreeTypeFont, ch: str) -> bytes:
    """The glyph's bitmap with its size, to compare two glyphs."""
    mask = font.getmask(ch)
    width, height = mask.size
    return struct.pack(">II", width, height) + bytes(mask)


@lru_cache(maxsize=32)
def _load_font(path: str, index: int, size: int) -> ImageFont.FreeTypeFont:
    if not Path(path).is_file():
        raise DeviceConfigError(
            f"font file {path} does not exist: install a CJK font"
            " (Debian: fonts-wqy-microhei) or set font_path"
        )
    try:
        return ImageFont.truetype(path, size, index=index)
    except OSError as exc:
        raise DeviceConfigError(f"font file {path} face {index} cannot be loaded: {exc}") from None
