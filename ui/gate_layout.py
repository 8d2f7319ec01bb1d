"""Where each part of the gate display goes, for any screen size.

Gate displays are small and of several sizes (480x320, 800x480, 1024x600 are
common), so nothing is placed in fixed pixels: every distance and text size
is a share of the screen's "unit", the height of a landscape screen (or
what a portrait screen's width allows). On a landscape screen the big icon
stands on the left and the words on its right; on a portrait one the icon
stands above the words. A band across the top holds a mode banner (flow
control, emergency, out of service); without one a thin strip holds the
small offline marker. The footer carries the gate side and, after a
refusal, the reason code for staff. Pure geometry: no drawing here.
"""

from __future__ import annotations

from dataclasses import dataclass

import pygame

MIN_SIZE = (240, 160)  # below this the words cannot be read anyway
Sizes = tuple[int, int]  # the largest and the smallest size a text may take, in pixels


@dataclass(frozen=True)
class TextSizes:
    """The (largest, smallest) pixel size of each kind of text."""

    message_zh: Sizes
    message_en: Sizes
    detail: Sizes
    banner_zh: Sizes
    banner_en: Sizes
    small: Sizes  # the footer and the offline marker, for staff


@dataclass(frozen=True)
class GateLayout:
    """The rectangles of one screen, all inside ``screen``; treat them as read-only."""

    screen: pygame.Rect
    margin: int
    band: pygame.Rect  # the banner band across the top; zero height when there is none
    marker: pygame.Rect  # the box the small offline marker sits in, top right
    icon: pygame.Rect  # a square: the arrow, the cross, the no-entry sign, the scan hint
    text: pygame.Rect  # the message, its translation and the detail
    footer: pygame.Rect  # gate side (left) and reason code (right)
    sizes: TextSizes
    is_portrait: bool


def gate_layout(size: tuple[int, int], *, with_band: bool) -> GateLayout:
    """The layout of a ``size`` screen, with or without the banner band."""
    width, height = size
    if width < MIN_SIZE[0] or height < MIN_SIZE[1]:
        raise ValueError(f"a gate display needs at least {MIN_SIZE[0]}x{MIN_SIZE[1]}, got {size}")
    unit = min(height, width / 1.6)
    margin = max(4, round(0.03 * unit))
    top = round((0.17 if with_band else 0.085) * unit)
    footer_height = round(0.075 * unit)
    body = pygame.Rect(margin, top + margin, width - 2 * margin, 0)
    body.height = height - footer_height - margin // 2 - body.top - margin
    is_portrait = width < height
    icon, text = (_stacked if is_portrait else _side_by_side)(body, round(0.05 * unit))
    return GateLayout(
        screen=pygame.Rect(0, 0, width, height),
        margin=margin,
        band=pygame.Rect(0, 0, width, top if with_band else 0),
        marker=_marker_box(width, margin, top, unit),
        icon=icon,
        text=text,
        footer=pygame.Rect(margin, height - footer_height - margin // 2, body.width, footer_height),
        sizes=_text_sizes(unit),
        is_portrait=is_portrait,
    )


def _side_by_side(body: pygame.Rect, gap: int) -> tuple[pygame.Rect, pygame.Rect]:
    """The icon square on the left, as tall as the body allows; the words fill the rest."""
    side = min(body.height, round(0.4 * body.width))
    icon = pygame.Rect(body.left + gap // 2, 0, side, side)
    icon.centery = body.centery
    text = pygame.Rect(icon.right + gap, body.top, 0, body.height)
    text.width = body.right - text.left
    return icon, text


def _stacked(body: pygame.Rect, gap: int) -> tuple[pygame.Rect, pygame.Rect]:
    """The icon square on top, centred; the words below it."""
    side = min(round(0.42 * body.height), body.width)
    icon = pygame.Rect(0, body.top, side, side)
    icon.centerx = body.centerx
    text = pygame.Rect(body.left, icon.bottom + gap, body.width, 0)
    text.height = body.bottom - text.top
    return icon, text


def _marker_box(width: int, margin: int, top: int, unit: float) -> pygame.Rect:
    marker_width = round(0.34 * unit)
    return pygame.Rect(width - margin - marker_width, margin // 2, marker_width, top - margin)


def _text_sizes(unit: float) -> TextSizes:
    def sizes(largest: float, smallest: float, floor: int) -> Sizes:
        return max(floor, round(largest * unit)), max(floor, round(smallest * unit))

    return TextSizes(
        message_zh=sizes(0.14, 0.05, 12),
        message_en=sizes(0.07, 0.035, 10),
        detail=sizes(0.085, 0.045, 11),
        banner_zh=sizes(0.075, 0.04, 11),
        banner_en=sizes(0.048, 0.03, 10),
        small=sizes(0.04, 0.03, 10),
    )
