"""Texts fitted to boxes and drawn as ready-made blocks, remembered between screens.

Rendering a line of text is what costs most when a screen is drawn (about a
third of a millisecond for a long line), and a gate shows the same few
dozen texts again and again. ``TextBlocks`` fits a text to a box once
(``ui.text_fit``) and renders its lines once into one transparent block,
keeping the most recently used blocks, so drawing a text seen before is one
blit. The block is clipped to its box, so nothing drawn leaves it.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Literal

import pygame

from ui.fonts import FontBook
from ui.text_fit import FittedText, fit_text

Colour = tuple[int, int, int]
Align = Literal["left", "center", "right"]
Sizes = tuple[int, int]
MAX_FITS = 512  # fitted texts remembered (small: a few lines of text each)
MAX_BLOCKS = 64  # rendered blocks remembered (up to a few hundred KB each)


class TextBlocks:
    """Fits texts with one font book and draws them from a cache of rendered blocks."""

    def __init__(self, fonts: FontBook) -> None:
        self.fonts = fonts
        self._fits: dict[tuple[str, int, int, Sizes, bool], FittedText] = {}
        self._blocks: OrderedDict[tuple[FittedText, Colour, Align], pygame.Surface] = OrderedDict()

    def fit(
        self, text: str, box: tuple[int, int], sizes: Sizes, *, bold: bool = False
    ) -> FittedText:
        """``text`` wrapped and shrunk to ``box`` (w, h) within ``sizes`` (largest, smallest)."""
        key = (text, *box, sizes, bold)
        fitted = self._fits.get(key)
        if fitted is None:
            self.fonts.warn_if_missing(text)
            if len(self._fits) >= MAX_FITS:
                self._fits.clear()
            fitted = self._fits[key] = fit_text(self.fonts, text, box, sizes, bold=bold)
        return fitted

    def draw(
        self,
        surface: pygame.Surface,
        fit: FittedText,
        box: pygame.Rect,
        colour: Colour,
        align: Align = "left",
    ) -> pygame.Rect:
        """Draw ``fit`` at the top of ``box``, aligned, clipped to it; the pixels it covers."""
        block = self._block(fit, colour, align)
        x = {
            "left": box.left,
            "center": box.left + (box.width - block.get_width()) // 2,
            "right": box.right - block.get_width(),
        }[align]
        previous_clip = surface.get_clip()
        surface.set_clip(box.clip(previous_clip))
        covered = surface.blit(block, (x, box.top))
        surface.set_clip(previous_clip)
        return covered

    def _block(self, fit: FittedText, colour: Colour, align: Align) -> pygame.Surface:
        key = (fit, colour, align)
        block = self._blocks.get(key)
        if block is None:
            block = self._blocks[key] = self._render(fit, colour, align)
            if len(self._blocks) > MAX_BLOCKS:
                self._blocks.popitem(last=False)
        self._blocks.move_to_end(key)
        return block

    def _render(self, fit: FittedText, colour: Colour, align: Align) -> pygame.Surface:
        """All lines of ``fit`` on one transparent surface as wide as the widest line."""
        face = self.fonts.font(fit.size, bold=fit.bold)
        block = pygame.Surface((max(1, fit.width), max(1, fit.height)), pygame.SRCALPHA)
        block.fill((*colour, 0))  # the text's own colour, transparent: no dark fringe on edges
        for n, (line, width) in enumerate(zip(fit.lines, fit.widths, strict=True)):
            x = {"left": 0, "center": (fit.width - width) // 2, "right": fit.width - width}[align]
            block.blit(face.render(line, True, colour), (x, n * fit.line_height))
        return block
