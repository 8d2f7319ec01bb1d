"""What the gate display tests share: headless SDL, the font, sample views, pixel checks.

Imported before pygame by every gate display test, so SDL draws without a
screen (``SDL_VIDEODRIVER=dummy``) whatever the environment says.
"""

from __future__ import annotations

import os

os.environ["SDL_VIDEODRIVER"] = "dummy"
os.environ["SDL_AUDIODRIVER"] = "dummy"
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

from itertools import combinations
from pathlib import Path
from typing import Any

import pygame

from device.gate.messages import ADMITTED, EMERGENCY, READY, REFUSALS, Words
from device.gate.view import Banner, GateView, Outcome
from protocol.units import GateReason
from ui.gate_display import GateDisplay
from ui.gate_painter import BAND_COLOURS, HAZARD, PALETTES

FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
SIZES = [(480, 320), (800, 480), (1024, 600)]
SIZE_IDS = [f"{w}x{h}" for w, h in SIZES]
DETAIL = "G7021  03车 08A号"
LONG_WORDS = Words(
    "本次列车因故晚点，请旅客们在候车室耐心等候并留意广播通知，" * 4,
    "This train is delayed. Please wait in the waiting room and listen for announcements. " * 3
    + "Pneumonoultramicroscopicsilicovolcanoconiosis" * 3,
)

VIEWS = {
    "ready": GateView("entry", Outcome.READY, READY),
    "admit": GateView("entry", Outcome.ADMIT, ADMITTED, detail=DETAIL),
    "refuse": GateView(
        "exit",
        Outcome.REFUSE,
        REFUSALS[GateReason.ALREADY_USED],
        reason=GateReason.ALREADY_USED.value,
    ),
    "closed": GateView(
        "entry",
        Outcome.CLOSED,
        REFUSALS[GateReason.OUT_OF_SERVICE],
        banner=Banner.OUT_OF_SERVICE,
    ),
    "emergency": GateView("entry", Outcome.ADMIT, EMERGENCY, banner=Banner.EMERGENCY_OPEN),
}

GREEN = PALETTES[Outcome.ADMIT].symbol
RED = PALETTES[Outcome.REFUSE].symbol
TOLERANCE = (40, 40, 40, 255)  # antialiased edges are not counted as the colour


def open_display(size: tuple[int, int], **options: Any) -> GateDisplay:
    """A headless display of ``size`` with the CJK font."""
    return GateDisplay(size, FONT, **options)


def share_of(surface: pygame.Surface, rect: pygame.Rect, colour: tuple[int, int, int]) -> float:
    """The share of ``rect``'s pixels within TOLERANCE of ``colour``."""
    area = surface.subsurface(rect)
    matching = pygame.mask.from_threshold(area, colour, TOLERANCE).count()
    return matching / (rect.width * rect.height)


def ink_share(surface: pygame.Surface, rect: pygame.Rect, back: tuple[int, int, int]) -> float:
    """The share of ``rect``'s pixels that differ from the background at all."""
    area = surface.subsurface(rect)
    blank = pygame.mask.from_threshold(area, back, (1, 1, 1, 255)).count()
    return 1 - blank / (rect.width * rect.height)


def edge_colours(surface: pygame.Surface, depth: int) -> set[tuple[int, int, int]]:
    """Every colour in the ring ``depth`` pixels deep along the screen's edges."""
    width, height = surface.get_size()
    ring = [(x, y) for x in range(width) for y in (*range(depth), *range(height - depth, height))]
    ring += [(x, y) for y in range(height) for x in (*range(depth), *range(width - depth, width))]
    pixels = [surface.get_at(point) for point in ring]
    return {(pixel.r, pixel.g, pixel.b) for pixel in pixels}


def allowed_edge_colours(view: GateView) -> set[tuple[int, int, int]]:
    """What may touch the screen's edge: the background, a band's colours and stripes."""
    allowed = {PALETTES[view.outcome].back}
    if view.banner in BAND_COLOURS:
        allowed.add(BAND_COLOURS[view.banner][0])
    if view.banner is Banner.EMERGENCY_OPEN:
        allowed.update(HAZARD)
    return allowed


def assert_laid_out(display: GateDisplay, view: GateView) -> None:
    """Everything drawn is on the screen, in its own part of it, and nothing overlaps."""
    layout = display.layout_for(view)
    screen = layout.screen
    for item in display.painted:
        assert screen.contains(item.rect), f"{item.name} {item.rect} leaves {screen}"
        assert item.rect.width > 0 and item.rect.height > 0, f"{item.name} is empty"
        region = _region_of(item.name, layout)
        assert region.contains(item.rect), f"{item.name} {item.rect} leaves {region}"
        if item.text is not None:  # drawn whole: the clip to its box took nothing away
            assert item.rect.size == (item.text.width, item.text.height), item.name
    for one, other in combinations(display.painted, 2):
        assert not one.rect.colliderect(other.rect), f"{one.name} overlaps {other.name}"
    edges = edge_colours(display.surface, max(2, layout.margin // 3))
    stray = edges - allowed_edge_colours(view)
    assert not stray, f"something drawn at the screen's edge: {sorted(stray)[:5]}"


def _region_of(name: str, layout: object) -> pygame.Rect:
    regions = {
        "icon": "icon",
        "message_zh": "text",
        "message_en": "text",
        "detail": "text",
        "banner": "band",
        "offline": "marker",
        "side": "footer",
        "reason": "footer",
    }
    rect: pygame.Rect = getattr(layout, regions[name])
    return rect
