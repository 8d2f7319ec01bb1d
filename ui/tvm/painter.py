"""Paints what pygame_gui does not: the background, the texts, the busy and idle overlays.

pygame_gui lays out Chinese poorly (it hyphenates between characters and
cannot shrink a text to its box), so every text on the kiosk is fitted by
``ui.text_fit`` (lines broken between Chinese characters and at spaces,
shrunk down to a floor, ellipsised past it) and drawn as a block. Panels and
texts behind the widgets are painted once per screen into a background;
captions over buttons are rendered once into small transparent surfaces and
blitted after pygame_gui draws, which costs a blit each per frame. Colours
come from the same JSON theme as the widgets (its ``#kiosk`` block and each
button class's text colours), so one file sets the kiosk's look.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pygame
from pygame_gui.core.interfaces import IUIAppearanceThemeInterface

from ui.fonts import FontBook
from ui.text_blocks import TextBlocks
from ui.tvm import words as w
from ui.tvm.widgets import Geometry, Ink, Kind, Widget, inset

Colour = tuple[int, int, int]
SPIN_PER_S = 0.8  # turns of the busy indicator per second
VEIL_ALPHA = 120
FLAT = {"header", "banner", "footer"}  # strips across the screen: square corners


@dataclass(frozen=True)
class Front:
    """A text rendered to be blitted over the widgets."""

    surface: pygame.Surface
    at: tuple[int, int]


class KioskPainter:
    """Draws the kiosk's texts, panels and overlays with one font and the theme's colours."""

    def __init__(
        self,
        fonts: FontBook,
        bold_fonts: FontBook | None,
        theme: IUIAppearanceThemeInterface,
        geo: Geometry,
    ) -> None:
        self.fonts = fonts
        self.blocks = TextBlocks(fonts)
        # a real bold face draws cleaner strokes than a regular one made bold
        self.bold_blocks = TextBlocks(bold_fonts) if bold_fonts is not None else None
        self.theme = theme
        self.geo = geo
        self._colours: dict[Ink, Colour] = {}
        self._fronts: dict[Widget, Front] = {}
        self._veil: pygame.Surface | None = None

    def colour(self, ink: Ink) -> Colour:
        """The theme's colour for ``ink``."""
        found = self._colours.get(ink)
        if found is None:
            value = self.theme.get_colour(ink.colour, list(ink.ids))
            found = self._colours[ink] = (value.r, value.g, value.b)
        return found

    def paint_background(self, surface: pygame.Surface, widgets: list[Widget]) -> None:
        """The fill, the panels and the texts that sit behind the widgets."""
        surface.fill(self.colour(Ink("background")))
        radius = self.geo.u(4)
        for widget in widgets:
            if widget.kind is Kind.BOX:
                rounded = 0 if widget.key in FLAT else radius
                pygame.draw.rect(
                    surface, self.colour(widget.ink), widget.rect, border_radius=rounded
                )
            elif widget.kind is Kind.TEXT and not widget.front:
                self.paint_text(surface, widget)

    def fronts(self, widgets: list[Widget]) -> list[Front]:
        """The texts over the widgets, rendered (those seen on the last screen are kept)."""
        wanted = [widget for widget in widgets if widget.kind is Kind.TEXT and widget.front]
        kept = {widget: self._fronts.get(widget) or self._render_front(widget) for widget in wanted}
        self._fronts = kept
        return list(kept.values())

    def paint_text(self, surface: pygame.Surface, widget: Widget) -> pygame.Rect:
        """``widget``'s text fitted to its box and drawn there; the pixels it covers."""
        if not widget.text.strip():
            return pygame.Rect(widget.rect[0], widget.rect[1], 0, 0)
        box = pygame.Rect(widget.rect)
        largest, smallest, bold = self.geo.sizes(widget.style)
        blocks = self.bold_blocks if bold and self.bold_blocks is not None else self.blocks
        synthetic = bold and blocks is self.blocks
        fitted = blocks.fit(widget.text, box.size, (largest, smallest), bold=synthetic)
        if widget.middle:
            box = pygame.Rect(
                box.x,
                box.y + (box.height - fitted.height) // 2,
                box.width,
                min(box.height, fitted.height),
            )
        return blocks.draw(surface, fitted, box, self.colour(widget.ink), widget.align)

    def busy(self, surface: pygame.Surface, language: str, now: float) -> None:
        """A veil over the body, a turning arc and "please wait"."""
        body = pygame.Rect(self.geo.body)
        surface.blit(self._veil_for(body.size), body.topleft)
        radius = self.geo.u(32)
        centre = (body.centerx, body.y + body.height * 3 // 5)  # below a screen's own words
        ring = pygame.Rect(0, 0, 2 * radius, 2 * radius)
        ring.center = centre
        start = (now * SPIN_PER_S % 1.0) * 2 * math.pi
        accent = self.colour(Ink("accent"))
        pygame.draw.arc(surface, accent, ring, start, start + 1.5 * math.pi, max(3, radius // 5))
        label = (body.x, centre[1] + radius + self.geo.gap, body.width, self.geo.u(36))
        self.paint_text(
            surface,
            Widget(
                "busy",
                Kind.TEXT,
                label,
                w.say(w.BUSY, language),
                "title",
                Ink("text"),
                align="center",
            ),
        )

    def countdown(self, surface: pygame.Surface, seconds: int, language: str) -> None:
        """ "Back to start in N s" over the message line."""
        rect = self.geo.message
        pygame.draw.rect(
            surface, self.colour(Ink("countdown_bg")), rect, border_radius=self.geo.u(8)
        )
        words = w.say(w.IDLE, language, n=seconds)
        self.paint_text(
            surface,
            Widget(
                "idle",
                Kind.TEXT,
                inset(rect, self.geo.u(4)),
                words,
                "title",
                Ink("countdown_text"),
                align="center",
            ),
        )

    def _render_front(self, widget: Widget) -> Front:
        x, y, width, height = widget.rect
        block = pygame.Surface((max(1, width), max(1, height)), pygame.SRCALPHA)
        block.fill((*self.colour(widget.ink), 0))  # transparent in the text's colour: no fringe
        self.paint_text(
            block,
            Widget(
                widget.key,
                widget.kind,
                (0, 0, width, height),
                widget.text,
                widget.style,
                widget.ink,
                widget.enabled,
                widget.align,
                widget.front,
                widget.middle,
            ),
        )
        return Front(block, (x, y))

    def _veil_for(self, size: tuple[int, int]) -> pygame.Surface:
        if self._veil is None or self._veil.get_size() != size:
            veil = pygame.Surface(size, pygame.SRCALPHA)
            veil.fill((*self.colour(Ink("background")), VEIL_ALPHA))
            self._veil = veil
        return self._veil
