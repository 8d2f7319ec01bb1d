"""One font file at many sizes for StationKit's screens, and a check that it draws Chinese.

pygame's default font has no Chinese glyphs, and a font that lacks a glyph
draws an empty box ("tofu") without any error. So a screen loads its font by
path from the profile, and ``FontBook`` refuses with a ``DeviceConfigError``,
at start-up, a path that does not exist, a file that is not a font, and a
font that would draw any of the screen's fixed texts as boxes. A glyph is
"missing" when the font draws it exactly as it draws a code point no font
maps (its ``.notdef`` box). pygame's ``font`` module (SDL_ttf) is used rather
than ``freetype`` because it measures text some thirty times faster, which
matters to a screen that wraps and shrinks text on the gate's event loop; it
opens the first face of a ``.ttc`` collection.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Iterable
from pathlib import Path

import pygame

from drivers.errors import DeviceConfigError

log = logging.getLogger(__name__)

MISSING_PROBE = "\U0010fffd"  # a private-use code point no font maps: draws the .notdef box
PROBE_SIZE = 24  # glyphs are compared at this size
MAX_SIZES = 96  # distinct (size, bold) faces kept open; the layout asks for far fewer
MAX_CHECKED = 8192  # characters whose glyph check is remembered


class FontBook:
    """A font file opened at the sizes a screen asks for, each opened once."""

    def __init__(self, path: Path) -> None:
        self.path = path
        pygame.font.init()
        self._faces: dict[tuple[int, bool], pygame.font.Font] = {}
        self._glyph_missing: dict[str, bool] = {}
        self._warned: set[str] = set()
        self._notdef = self._glyph_key(MISSING_PROBE)  # opens the file: fails now if unusable

    def font(self, size: int, *, bold: bool = False) -> pygame.font.Font:
        """The face at ``size`` pixels (synthetic bold when ``bold``)."""
        key = (max(size, 1), bold)
        face = self._faces.get(key)
        if face is None:
            if len(self._faces) >= MAX_SIZES:
                self._faces.clear()
            face = self._faces[key] = self._open(*key)
        return face

    def missing_glyphs(self, text: str) -> str:
        """The distinct characters of ``text`` this font would draw as boxes, in order."""
        seen = dict.fromkeys(ch for ch in text if _needs_glyph(ch))
        return "".join(ch for ch in seen if self._is_missing(ch))

    def check_drawable(self, texts: Iterable[str]) -> None:
        """Raise DeviceConfigError if the font would draw any character of ``texts`` as a box."""
        missing = "".join(dict.fromkeys(ch for text in texts for ch in self.missing_glyphs(text)))
        if missing:
            raise DeviceConfigError(
                f"font {self.path} has no glyph for {missing[:12]!r}, which the screen would"
                " draw as boxes: set font_path to a font with Chinese glyphs"
                " (Debian: fonts-wqy-microhei)"
            )

    def warn_if_missing(self, text: str) -> None:
        """Log once per text that the font lacks some of its characters (drawing goes on)."""
        if text in self._warned or not self.missing_glyphs(text):
            return
        if len(self._warned) < 256:  # a bound, so a stream of odd texts cannot grow it
            self._warned.add(text)
        log.warning(
            "font %s has no glyph for %r: shown as boxes", self.path, self.missing_glyphs(text)
        )

    def _open(self, size: int, bold: bool) -> pygame.font.Font:
        if not self.path.is_file():
            raise DeviceConfigError(
                f"font file {self.path} does not exist: install a font with Chinese glyphs"
                " (Debian: fonts-wqy-microhei) or set font_path"
            )
        try:
            face = pygame.font.Font(self.path, size)
            face.render("A", False, (0, 0, 0))  # a file that is no font fails only when used
        except (OSError, pygame.error) as exc:
            raise DeviceConfigError(f"font file {self.path} cannot be loaded: {exc}") from None
        face.bold = bold
        return face

    def _is_missing(self, ch: str) -> bool:
        missing = self._glyph_missing.get(ch)
        if missing is None:
            if len(self._glyph_missing) >= MAX_CHECKED:
                self._glyph_missing.clear()
            missing = self._glyph_missing[ch] = self._glyph_key(ch) == self._notdef
        return missing

    def _glyph_key(self, ch: str) -> bytes:
        """The glyph's pixels with its size, to compare two glyphs."""
        drawn = self.font(PROBE_SIZE).render(ch, False, (255, 255, 255), (0, 0, 0))
        width, height = drawn.get_size()
        return f"{width}x{height}:".encode() + pygame.image.tobytes(drawn, "RGB")


def _needs_glyph(ch: str) -> bool:
    """False for spaces, controls and format marks, which draw nothing in any font."""
    category = unicodedata.category(ch)
    return category[0] != "Z" and category not in ("Cc", "Cf", "Cs")
