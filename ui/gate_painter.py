"""Draws one ``GateView`` onto a surface: symbol, words, banner, footer.

The painter is the gate display without a window: given a surface and a
view it fills the whole surface (the last screen never shows through) and
reports what it drew where, as ``Painted`` rectangles, so callers and tests
can check that nothing overlaps and nothing leaves the screen. Each outcome
has its colours and symbol; the message stands in Chinese (large) over
English (smaller), then the detail of an admission. Texts are wrapped and
shrunk to their boxes (``ui.text_fit``) and every text is also clipped to
its box, so even a degenerate text cannot run off the screen. Fitted and
rendered texts are remembered (``ui.text_blocks``), so showing a screen
seen before costs only a fill, a few shapes and a few blits.
"""

from __future__ import annotations

from dataclasses import dataclass

import pygame

from device.gate.messages import FLOW_CONTROL, Words
from device.gate.view import Banner, GateView, Outcome
from ui.fonts import FontBook
from ui.gate_icons import Colour, Pointing, draw_arrow, draw_cross, draw_no_entry, draw_scan_hint
from ui.gate_layout import GateLayout, Sizes, gate_layout
from ui.text_blocks import Align, TextBlocks
from ui.text_fit import FittedText

BAND_BANNERS = (Banner.FLOW_CONTROL, Banner.EMERGENCY_OPEN, Banner.OUT_OF_SERVICE)
BANNER_WORDS: dict[Banner, Words] = {
    Banner.FLOW_CONTROL: FLOW_CONTROL,
    Banner.EMERGENCY_OPEN: Words("紧急放行", "EMERGENCY - GATES OPEN"),
    Banner.OUT_OF_SERVICE: Words("暂停服务", "OUT OF SERVICE"),
    Banner.OFFLINE: Words("离线", "offline"),
}
SIDE_WORDS = {"entry": Words("进站", "Entry"), "exit": Words("出站", "Exit")}


@dataclass(frozen=True)
class Palette:
    """The colours of one outcome's screen."""

    back: Colour
    symbol: Colour
    words: Colour = (255, 255, 255)
    translation: Colour = (200, 208, 216)
    staff: Colour = (150, 160, 170)


PALETTES = {
    Outcome.READY: Palette(back=(10, 32, 58), symbol=(120, 190, 255)),
    Outcome.ADMIT: Palette(back=(6, 30, 18), symbol=(20, 205, 90)),
    Outcome.REFUSE: Palette(back=(42, 8, 10), symbol=(235, 35, 45)),
    Outcome.CLOSED: Palette(back=(28, 28, 32), symbol=(215, 30, 40)),
}
DETAIL_COLOUR = (255, 214, 80)
BAND_COLOURS: dict[Banner, tuple[Colour, Colour]] = {  # band, words
    Banner.FLOW_CONTROL: ((242, 190, 0), (20, 20, 20)),
    Banner.EMERGENCY_OPEN: ((210, 0, 20), (255, 255, 255)),
    Banner.OUT_OF_SERVICE: ((224, 108, 0), (255, 255, 255)),
}
HAZARD = ((255, 214, 0), (20, 20, 20))  # the emergency band's stripes
OFFLINE_COLOUR = (255, 190, 60)
NO_ENTRY_BAR = (255, 255, 255)


@dataclass(frozen=True)
class Painted:
    """One thing drawn: its name (``icon``, ``message_zh``, ...), where, and a text's lines."""

    name: str
    rect: pygame.Rect
    text: FittedText | None = None


class GatePainter:
    """Draws gate views of one screen size with one font book."""

    def __init__(self, fonts: FontBook, size: tuple[int, int], pointing: Pointing = "up") -> None:
        self.texts = TextBlocks(fonts)
        self.pointing = pointing
        self.layouts = {band: gate_layout(size, with_band=band) for band in (False, True)}

    def layout_for(self, view: GateView) -> GateLayout:
        """The layout ``view`` is drawn with (with a band or without)."""
        return self.layouts[view.banner in BAND_BANNERS]

    def paint(self, surface: pygame.Surface, view: GateView) -> list[Painted]:
        """Draw ``view`` over the whole of ``surface``; what was drawn where."""
        layout = self.layout_for(view)
        palette = PALETTES[view.outcome]
        surface.fill(palette.back)
        painted = [self._paint_symbol(surface, layout, view.outcome, palette)]
        painted += self._paint_words(surface, layout, view, palette)
        painted += self._paint_banner(surface, layout, view.banner)
        painted += self._paint_footer(surface, layout, view, palette)
        return painted

    def _paint_symbol(
        self, surface: pygame.Surface, layout: GateLayout, outcome: Outcome, palette: Palette
    ) -> Painted:
        box = layout.icon
        match outcome:
            case Outcome.ADMIT:
                draw_arrow(surface, box, palette.symbol, self.pointing)
            case Outcome.REFUSE:
                draw_cross(surface, box, palette.symbol)
            case Outcome.CLOSED:
                draw_no_entry(surface, box, palette.symbol, NO_ENTRY_BAR)
            case Outcome.READY:
                hint = box.inflate(-box.width // 8, -box.height // 8)
                draw_scan_hint(surface, hint, palette.symbol, palette.back)
        return Painted("icon", box.copy())

    def _paint_words(
        self, surface: pygame.Surface, layout: GateLayout, view: GateView, palette: Palette
    ) -> list[Painted]:
        """Chinese over English, then the detail; the block centred in the text column."""
        column, sizes = layout.text, layout.sizes
        shares = (0.46, 0.26, 0.16) if view.detail else (0.58, 0.34, 0.0)
        parts = [
            ("message_zh", view.message.zh, sizes.message_zh, palette.words),
            ("message_en", view.message.en, sizes.message_en, palette.translation),
            ("detail", view.detail or "", sizes.detail, DETAIL_COLOUR),
        ]
        stack = [
            self._line(name, text, (column.width, round(column.height * share)), size, ink)
            for (name, text, size, ink), share in zip(parts, shares, strict=True)
            if text
        ]
        align: Align = "center" if layout.is_portrait else "left"
        return self._stack(surface, stack, column, align, gap=round(column.height * 0.045))

    def _paint_banner(
        self, surface: pygame.Surface, layout: GateLayout, banner: Banner
    ) -> list[Painted]:
        """The band across the top for a mode, or the small offline tag."""
        if banner is Banner.OFFLINE:
            return [self._paint_offline(surface, layout)]
        if banner not in BAND_BANNERS:
            return []
        back, ink = BAND_COLOURS[banner]
        pygame.draw.rect(surface, back, layout.band)
        is_alarm = banner is Banner.EMERGENCY_OPEN
        stripes = _paint_hazard(surface, layout.band) if is_alarm else 0
        inner = layout.band.inflate(-2 * layout.margin, -stripes)
        inner.top = layout.band.top
        words, sizes = BANNER_WORDS[banner], layout.sizes
        zh_box = (inner.width, inner.height * 11 // 20)
        en_box = (inner.width, inner.height * 8 // 20)
        stack = [
            self._line("banner_zh", words.zh, zh_box, sizes.banner_zh, ink, bold=is_alarm),
            self._line("banner_en", words.en, en_box, sizes.banner_en, ink, bold=is_alarm),
        ]
        self._stack(surface, stack, inner, "center", gap=0)
        return [Painted("banner", layout.band.copy())]

    def _paint_offline(self, surface: pygame.Surface, layout: GateLayout) -> Painted:
        """A small outlined tag in the top right corner, for staff."""
        box = layout.marker
        words = BANNER_WORDS[Banner.OFFLINE]
        pad = max(2, box.height // 6)
        inside = (box.width - 4 * pad, box.height - 2 * pad)
        fit = self.texts.fit(f"{words.zh} {words.en}", inside, layout.sizes.small)
        tag = pygame.Rect(0, 0, fit.width + 4 * pad, fit.height + 2 * pad)
        tag.midright = box.midright
        outline = max(1, pad // 2)
        pygame.draw.rect(surface, OFFLINE_COLOUR, tag, width=outline, border_radius=tag.height // 2)
        self.texts.draw(surface, fit, tag.inflate(-4 * pad, -2 * pad), OFFLINE_COLOUR, "center")
        return Painted("offline", tag)

    def _paint_footer(
        self, surface: pygame.Surface, layout: GateLayout, view: GateView, palette: Palette
    ) -> list[Painted]:
        """The gate side on the left; after a refusal, its reason code on the right."""
        footer = layout.footer
        side = SIDE_WORDS.get(view.direction)
        notes: list[tuple[str, str, Align]] = [
            ("side", f"{side.zh} {side.en}" if side else view.direction, "left"),
        ]
        if view.outcome is Outcome.REFUSE and view.reason:
            notes.append(("reason", view.reason, "right"))
        width = footer.width * 45 // 100
        painted = []
        for name, text, align in notes:
            if not text:
                continue
            fit = self.texts.fit(text, (width, footer.height), layout.sizes.small)
            box = pygame.Rect(footer.left, footer.bottom - fit.height, width, fit.height)
            if align == "right":
                box.right = footer.right
            drawn = self.texts.draw(surface, fit, box, palette.staff, align)
            painted.append(Painted(name, drawn, fit))
        return painted

    def _line(
        self,
        name: str,
        text: str,
        box: tuple[int, int],
        sizes: Sizes,
        ink: Colour,
        *,
        bold: bool = False,
    ) -> Line:
        """``text`` fitted to ``box``, ready to be stacked."""
        return Line(name, self.texts.fit(text, box, sizes, bold=bold), ink)

    def _stack(
        self, surface: pygame.Surface, stack: list[Line], box: pygame.Rect, align: Align, gap: int
    ) -> list[Painted]:
        """Texts one under the other, ``gap`` apart, the whole centred in ``box``."""
        total = sum(line.fit.height for line in stack) + gap * max(0, len(stack) - 1)
        top = box.top + max(0, (box.height - total) // 2)
        painted = []
        for line in stack:
            slot = pygame.Rect(box.left, top, box.width, line.fit.height)
            drawn = self.texts.draw(surface, line.fit, slot, line.ink, align)
            painted.append(Painted(line.name, drawn, line.fit))
            top += line.fit.height + gap
        return painted


@dataclass(frozen=True)
class Line:
    """A fitted text waiting to be stacked: its name, the fit and its colour."""

    name: str
    fit: FittedText
    ink: Colour


def _paint_hazard(surface: pygame.Surface, band: pygame.Rect) -> int:
    """Yellow and black stripes along the band's bottom edge; their height."""
    height = max(3, band.height // 7)
    strip = pygame.Rect(band.left, band.bottom - height, band.width, height)
    pygame.draw.rect(surface, HAZARD[1], strip)
    previous_clip = surface.get_clip()
    surface.set_clip(strip.clip(previous_clip))
    for x in range(strip.left - height, strip.right + height, 2 * height):
        slant = [
            (x, strip.bottom),
            (x + height, strip.top),
            (x + 2 * height, strip.top),
            (x + height, strip.bottom),
        ]
        pygame.draw.polygon(surface, HAZARD[0], slant)
    surface.set_clip(previous_clip)
    return height
