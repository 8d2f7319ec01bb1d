"""Screenshots of every gate screen at every size, checked from their pixels."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pygame
import pytest
from gate_screens import (
    FONT,
    GREEN,
    LONG_WORDS,
    RED,
    SIZE_IDS,
    SIZES,
    VIEWS,
    assert_laid_out,
    ink_share,
    open_display,
    share_of,
)

from device.gate.messages import READY, REFUSALS
from device.gate.view import Banner, GateView, Outcome
from protocol.units import GateReason
from ui.gate_display import GateDisplay
from ui.gate_painter import BAND_COLOURS, HAZARD, NO_ENTRY_BAR, OFFLINE_COLOUR, PALETTES
from ui.text_fit import ELLIPSIS


@pytest.fixture(scope="module", params=SIZES, ids=SIZE_IDS)
def display(request: pytest.FixtureRequest) -> Iterator[GateDisplay]:
    with open_display(request.param) as opened:
        yield opened


def show_and_save(display: GateDisplay, view: GateView, path: Path) -> pygame.Surface:
    """Show ``view``, save it as a PNG and read the PNG back: the pixels people would see."""
    display.show(view)
    display.save_png(path)
    saved = pygame.image.load(path)
    assert saved.get_size() == display.size
    return saved


def painted(display: GateDisplay, name: str) -> pygame.Rect:
    return next(item.rect for item in display.painted if item.name == name)


def test_admit_shows_a_big_green_arrow(display: GateDisplay, tmp_path: Path) -> None:
    view = VIEWS["admit"]
    screen = show_and_save(display, view, tmp_path / "admit.png")
    icon = display.layout_for(view).icon
    assert share_of(screen, icon, GREEN) > 0.3
    assert share_of(screen, icon, RED) == 0
    assert icon.height >= display.size[1] * 0.4  # big: readable from the queue
    assert [item.name for item in display.painted] == [
        "icon",
        "message_zh",
        "message_en",
        "detail",
        "side",
    ]
    assert_laid_out(display, view)


def test_refuse_shows_a_red_cross_and_the_reason_for_staff(
    display: GateDisplay, tmp_path: Path
) -> None:
    view = VIEWS["refuse"]
    screen = show_and_save(display, view, tmp_path / "refuse.png")
    icon = display.layout_for(view).icon
    assert share_of(screen, icon, RED) > 0.2
    assert share_of(screen, icon, GREEN) == 0
    reason = next(item for item in display.painted if item.name == "reason")
    assert reason.text is not None and reason.text.lines == ("already_used",)
    assert reason.rect.top > painted(display, "message_en").bottom  # at the bottom
    zh = next(item for item in display.painted if item.name == "message_zh")
    en = next(item for item in display.painted if item.name == "message_en")
    assert zh.text is not None and en.text is not None
    assert zh.text.size > en.text.size  # Chinese large, English smaller
    assert_laid_out(display, view)


def test_closed_shows_a_no_entry_sign(display: GateDisplay, tmp_path: Path) -> None:
    view = VIEWS["closed"]
    screen = show_and_save(display, view, tmp_path / "closed.png")
    icon = display.layout_for(view).icon
    assert share_of(screen, icon, PALETTES[Outcome.CLOSED].symbol) > 0.35
    assert share_of(screen, icon, NO_ENTRY_BAR) > 0.1
    assert screen.get_at(icon.center)[:3] == NO_ENTRY_BAR
    assert_laid_out(display, view)


def test_ready_is_calm_with_a_scan_hint(display: GateDisplay, tmp_path: Path) -> None:
    view = VIEWS["ready"]
    screen = show_and_save(display, view, tmp_path / "ready.png")
    icon = display.layout_for(view).icon
    assert share_of(screen, icon, PALETTES[Outcome.READY].symbol) > 0.15
    assert share_of(screen, icon, RED) == share_of(screen, icon, GREEN) == 0
    names = {item.name for item in display.painted}
    assert names == {"icon", "message_zh", "message_en", "side"}
    assert_laid_out(display, view)


@pytest.mark.parametrize("banner", [Banner.FLOW_CONTROL, Banner.OUT_OF_SERVICE])
def test_mode_banners_span_the_top(display: GateDisplay, banner: Banner, tmp_path: Path) -> None:
    view = GateView("entry", Outcome.READY, READY, banner=banner)
    screen = show_and_save(display, view, tmp_path / f"{banner}.png")
    band = painted(display, "banner")
    assert band.top == 0 and band.width == display.size[0]
    assert share_of(screen, band, BAND_COLOURS[banner][0]) > 0.6
    assert ink_share(screen, band, BAND_COLOURS[banner][0]) > 0.05  # the words are there
    assert_laid_out(display, view)


def test_emergency_banner_is_alarming(display: GateDisplay, tmp_path: Path) -> None:
    view = VIEWS["emergency"]
    screen = show_and_save(display, view, tmp_path / "emergency.png")
    band = painted(display, "banner")
    assert share_of(screen, band, BAND_COLOURS[Banner.EMERGENCY_OPEN][0]) > 0.5
    assert share_of(screen, band, HAZARD[0]) > 0.03  # yellow and black stripes
    calm = display.layout_for(GateView("entry", Outcome.READY, READY)).band
    assert calm.height == 0 and band.height > display.size[1] * 0.1
    assert share_of(screen, display.layout_for(view).icon, GREEN) > 0.3  # and the gates are open
    assert_laid_out(display, view)


def test_offline_is_a_small_marker_for_staff(display: GateDisplay, tmp_path: Path) -> None:
    view = GateView("exit", Outcome.READY, READY, banner=Banner.OFFLINE)
    screen = show_and_save(display, view, tmp_path / "offline.png")
    marker = painted(display, "offline")
    width, height = display.size
    assert marker.width * marker.height < width * height * 0.03
    assert marker.right > width * 0.75 and marker.bottom < height * 0.15  # top right
    assert share_of(screen, marker, OFFLINE_COLOUR) > 0.05
    assert "banner" not in {item.name for item in display.painted}
    assert_laid_out(display, view)


def test_chinese_renders_as_real_glyphs(display: GateDisplay) -> None:
    view = VIEWS["refuse"]
    display.show(view)
    zh = next(item for item in display.painted if item.name == "message_zh")
    assert zh.text is not None
    line_height, first = zh.text.line_height, zh.text.lines[0]
    back = PALETTES[view.outcome].back
    drawn = display.surface.subsurface(pygame.Rect(zh.rect.topleft, (zh.rect.width, line_height)))
    assert ink_share(display.surface, drawn.get_rect(topleft=zh.rect.topleft), back) > 0.1
    # the same line drawn straight with the font file: the display's pixels are exactly these
    face = pygame.font.Font(FONT, zh.text.size)
    expected = pygame.Surface(drawn.get_size())
    expected.fill(back)
    expected.blit(face.render(first, True, PALETTES[view.outcome].words), (0, 0))
    assert _difference(drawn, expected) == 0
    # ... and they are not boxes: the font's .notdef box draws differently
    boxes = face.render("\U0010fffd" * len(first), True, (255, 255, 255))
    glyphs = face.render(first, True, (255, 255, 255))
    assert pygame.image.tobytes(boxes, "RGBA") != pygame.image.tobytes(glyphs, "RGBA")
    assert display.fonts.missing_glyphs(first) == ""


@pytest.mark.parametrize("reason", list(REFUSALS), ids=[r.value for r in REFUSALS])
def test_every_refusal_fits_every_size(display: GateDisplay, reason: GateReason) -> None:
    view = GateView("entry", Outcome.REFUSE, REFUSALS[reason], reason=reason.value)
    display.show(view)
    texts = {item.name: item.text for item in display.painted if item.text is not None}
    assert set(texts) == {"message_zh", "message_en", "side", "reason"}
    assert all(not line.endswith(ELLIPSIS) for fit in texts.values() for line in fit.lines)
    assert "".join(texts["message_zh"].lines) == REFUSALS[reason].zh
    assert texts["reason"].lines == (reason.value,)
    assert_laid_out(display, view)


@pytest.mark.parametrize("outcome", [Outcome.REFUSE, Outcome.ADMIT])
def test_long_words_wrap_and_shrink_within_the_screen(
    display: GateDisplay, outcome: Outcome, tmp_path: Path
) -> None:
    view = GateView("entry", outcome, LONG_WORDS, detail="G1 " + "十二车" * 30, reason="x_" * 90)
    show_and_save(display, view, tmp_path / "long.png")
    layout = display.layout_for(view)
    texts = {item.name: item.text for item in display.painted if item.text is not None}
    zh, en = texts["message_zh"], texts["message_en"]
    assert zh.size < layout.sizes.message_zh[0] and len(zh.lines) > 1  # shrunk and wrapped
    assert zh.lines[-1].endswith(ELLIPSIS) or "".join(zh.lines) == LONG_WORDS.zh
    assert en.lines[-1].endswith(ELLIPSIS)  # too long even at the smallest size: cut, marked
    assert all(width <= layout.text.width for fit in texts.values() for width in fit.widths)
    assert_laid_out(display, view)


def test_a_portrait_screen_stacks_the_symbol_over_the_words(tmp_path: Path) -> None:
    with open_display((320, 480)) as display:
        for name, view in VIEWS.items():
            show_and_save(display, view, tmp_path / f"{name}.png")
            layout = display.layout_for(view)
            assert layout.is_portrait and layout.icon.bottom < layout.text.top
            assert_laid_out(display, view)


def _difference(one: pygame.Surface, other: pygame.Surface) -> int:
    """How many colour values differ by more than rounding between two surfaces of one size."""
    one_bytes = pygame.image.tobytes(one, "RGB")
    other_bytes = pygame.image.tobytes(other, "RGB")
    return sum(abs(a - b) > 2 for a, b in zip(one_bytes, other_bytes, strict=True))
