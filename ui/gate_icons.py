"""The gate display's big symbols, drawn with plain pygame shapes into a square.

A passenger decides from the symbol before reading a word: a green arrow
(pass), a red cross (do not pass), a no-entry sign (gate closed), and a
scan hint (a QR code beside an ID card) while the gate waits. Each is drawn
from coordinates given as shares of its square, so it scales with the
screen, and filled shapes get an antialiased outline so their edges stay
smooth at any size. No image files: nothing to install, nothing to lose.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache
from typing import Literal

import pygame
import segno

Colour = tuple[int, int, int]
Pointing = Literal["up", "left", "right"]

# an arrow pointing up, in shares of its square: tip, head, shaft
ARROW_UP = (
    (0.50, 0.04),
    (0.95, 0.50),
    (0.67, 0.50),
    (0.67, 0.96),
    (0.33, 0.96),
    (0.33, 0.50),
    (0.05, 0.50),
)
CROSS_BAR = 0.2  # the cross's bar thickness, a share of the square
QR_TEXT = "StationKit"  # what the hint's QR code says; a real code looks right to people


def draw_arrow(
    surface: pygame.Surface, box: pygame.Rect, colour: Colour, pointing: Pointing
) -> None:
    """A filled arrow in ``box`` pointing up (straight through the gate), left or right."""
    _fill(surface, colour, [_at(box, *_turned(pointing, x, y)) for x, y in ARROW_UP])


def draw_cross(surface: pygame.Surface, box: pygame.Rect, colour: Colour) -> None:
    """A bold X filling ``box``."""
    inset = 0.1
    for start, end in (
        ((inset, inset), (1 - inset, 1 - inset)),
        ((1 - inset, inset), (inset, 1 - inset)),
    ):
        _fill(surface, colour, _bar(box, start, end, CROSS_BAR * box.width))


def draw_no_entry(surface: pygame.Surface, box: pygame.Rect, colour: Colour, bar: Colour) -> None:
    """A filled disc with a white bar across: no entry."""
    radius = box.width * 0.47
    pygame.draw.aacircle(surface, colour, box.center, round(radius))
    bar_rect = pygame.Rect(0, 0, round(radius * 1.4), round(radius * 0.36))
    bar_rect.center = box.center
    pygame.draw.rect(surface, bar, bar_rect, border_radius=max(1, bar_rect.height // 5))


def draw_scan_hint(surface: pygame.Surface, box: pygame.Rect, colour: Colour, back: Colour) -> None:
    """A QR code with an ID card laid over its lower right corner."""
    qr = _qr_picture(round(box.width * 0.7), colour)
    surface.blit(qr, box.topleft)
    card = pygame.Rect(0, 0, round(box.width * 0.6), round(box.width * 0.38))
    pad = card.height // 10  # the card's dark edge, which keeps it apart from the code
    card.bottomright = (box.right - pad, box.bottom - pad)
    _draw_card(surface, card, colour, back, pad)


@lru_cache(maxsize=8)
def _qr_picture(side: int, colour: Colour) -> pygame.Surface:
    """A real (version 1) QR code of whole pixel modules, at most ``side`` wide, transparent."""
    matrix = segno.make_qr(QR_TEXT, version=1, error="l").matrix
    module = max(1, side // len(matrix))
    picture = pygame.Surface((module * len(matrix),) * 2, pygame.SRCALPHA)
    for y, row in enumerate(matrix):
        for x, is_dark in enumerate(row):
            if is_dark:
                picture.fill(colour, (x * module, y * module, module, module))
    return picture


def _draw_card(
    surface: pygame.Surface, card: pygame.Rect, colour: Colour, back: Colour, pad: int
) -> None:
    """An ID card: a rounded outline, a photo square and three text lines."""
    radius = max(2, card.height // 8)
    pygame.draw.rect(surface, back, card.inflate(2 * pad, 2 * pad), border_radius=radius)
    pygame.draw.rect(surface, colour, card, width=max(2, card.height // 14), border_radius=radius)
    photo = pygame.Rect(0, 0, round(card.width * 0.26), round(card.height * 0.56))
    photo.midleft = (card.left + round(card.width * 0.1), card.centery)
    pygame.draw.rect(surface, colour, photo, border_radius=max(1, radius // 2))
    for share in (0.3, 0.5, 0.7):
        line = pygame.Rect(0, 0, round(card.width * 0.42), max(2, card.height // 12))
        line.midleft = (photo.right + card.width // 10, card.top + round(card.height * share))
        pygame.draw.rect(surface, colour, line)


def _turned(pointing: Pointing, x: float, y: float) -> tuple[float, float]:
    """A point of the upward arrow, turned to point ``pointing``."""
    match pointing:
        case "right":
            return 1 - y, x
        case "left":
            return y, 1 - x
    return x, y


def _bar(
    box: pygame.Rect, start: tuple[float, float], end: tuple[float, float], thickness: float
) -> list[tuple[float, float]]:
    """The four corners of a bar of ``thickness`` pixels from ``start`` to ``end`` (shares)."""
    (x0, y0), (x1, y1) = _at(box, *start), _at(box, *end)
    length = math.hypot(x1 - x0, y1 - y0)
    nx, ny = (y0 - y1) / length * thickness / 2, (x1 - x0) / length * thickness / 2
    return [(x0 + nx, y0 + ny), (x1 + nx, y1 + ny), (x1 - nx, y1 - ny), (x0 - nx, y0 - ny)]


def _at(box: pygame.Rect, x: float, y: float) -> tuple[float, float]:
    """A point given in shares of ``box``, in pixels."""
    return box.left + x * (box.width - 1), box.top + y * (box.height - 1)


def _fill(surface: pygame.Surface, colour: Colour, points: Sequence[tuple[float, float]]) -> None:
    """A filled polygon whose edges are smoothed by an antialiased outline."""
    pygame.draw.polygon(surface, colour, points)
    pygame.draw.aalines(surface, colour, True, points)
