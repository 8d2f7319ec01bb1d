"""Every kiosk screen at 800x480 and 1280x800, in Chinese and English, checked by its pixels."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pygame
import pytest
from tvm_kiosk_samples import (
    ALL_SCREENS,
    LANGUAGES,
    SIZE_IDS,
    SIZES,
    assert_glyphs_drawn,
    assert_laid_out,
    assert_targets_reachable,
    in_language,
    open_kiosk,
    save_and_load,
    share_of,
    shown,
    view,
)

from device.gate.messages import Words
from device.tvm.view import Banner, Screen, Station
from ui.tvm.config import KioskConfig
from ui.tvm.kiosk import Kiosk
from ui.tvm.screens.frame import BANNER_FILL
from ui.tvm.widgets import Geometry, Ink, Kind
from ui.tvm.words import BANNERS


@pytest.fixture(scope="module", params=SIZES, ids=SIZE_IDS)
def kiosk(request: pytest.FixtureRequest) -> Iterator[Kiosk]:
    with open_kiosk(request.param) as opened:
        yield opened


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", sorted(ALL_SCREENS))
def test_every_screen_is_laid_out_and_drawn_with_glyphs(
    kiosk: Kiosk, name: str, language: str, tmp_path: Path
) -> None:
    sample = in_language(ALL_SCREENS[name], language)
    shown(kiosk, replace(sample, busy=False))
    screen = save_and_load(kiosk, tmp_path / f"{name}-{language}.png")
    assert screen.get_size() == kiosk.size
    assert kiosk.view.screen is sample.screen
    assert_laid_out(kiosk)
    assert_glyphs_drawn(kiosk, screen)
    assert_targets_reachable(kiosk, sample)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_passengers_language_is_the_only_one_shown(kiosk: Kiosk, language: str) -> None:
    sample = in_language(ALL_SCREENS["trains"], language)
    shown(kiosk, sample)
    texts = " ".join(w.text for w in kiosk.widgets if w.kind is Kind.TEXT)
    other = "en" if language == "zh" else "zh"
    assert getattr(sample.title, language) in texts
    assert getattr(sample.title, other) not in texts
    assert getattr(sample.trains[0].classes[0].name, language) in texts
    language_caption = next(w for w in kiosk.widgets if w.key == "language#caption")
    assert language_caption.text == ("English" if language == "zh" else "中文")


def test_touch_targets_are_large_at_both_sizes(kiosk: Kiosk) -> None:
    shown(kiosk, ALL_SCREENS["passengers"])  # the screen with the most, and smallest, targets
    keys = [w for w in kiosk.widgets if w.kind is Kind.BUTTON and w.key.startswith("key:")]
    assert len(keys) == 39
    assert min(min(w.rect[2:]) for w in keys) >= 48
    assert_laid_out(kiosk)


@pytest.mark.parametrize("banner", [b for b in Banner if b is not Banner.NONE])
def test_a_banner_runs_across_the_screen_and_pushes_the_body_down(
    kiosk: Kiosk, banner: Banner, tmp_path: Path
) -> None:
    plain = shown(kiosk, ALL_SCREENS["home"]).copy()
    first_button = pygame.Rect(kiosk.target_rect("start:purchase") or (0, 0, 0, 0))
    screen = shown(kiosk, replace(ALL_SCREENS["home"], banner=banner))
    strip = pygame.Rect(Geometry.of(kiosk.size, has_banner=True).banner)
    assert strip.width == kiosk.size[0] and strip.height >= 20
    colour = kiosk.painter.colour(Ink(BANNER_FILL[banner]))
    assert share_of(screen, strip, colour) > 0.5
    assert share_of(plain, strip, colour) == 0
    text = next(w for w in kiosk.widgets if w.key == "banner#text")
    assert text.text == BANNERS[banner].zh
    assert_glyphs_drawn(kiosk, save_and_load(kiosk, tmp_path / "banner.png"))
    moved = kiosk.target_rect("start:purchase")
    assert moved is not None and moved.top >= first_button.top
    assert_laid_out(kiosk)


def test_busy_shows_a_turning_indicator_over_a_veiled_body() -> None:
    clock = FakeClock()
    with clocked_kiosk(clock) as kiosk:
        body = pygame.Rect(Geometry.of(kiosk.size, has_banner=False).body)
        accent = kiosk.painter.colour(Ink("accent"))
        calm = shown(kiosk, replace(ALL_SCREENS["print"], busy=False)).copy()
        busy = shown(kiosk, ALL_SCREENS["print"]).copy()
        clock.now += 0.3
        turned = kiosk.draw().copy()
    assert share_of(calm, body, accent) == 0
    assert share_of(busy, body, accent) > 0.002
    busy_arc = pygame.mask.from_threshold(busy.subsurface(body), accent, (24, 24, 24, 255))
    turned_arc = pygame.mask.from_threshold(turned.subsurface(body), accent, (24, 24, 24, 255))
    assert busy_arc.overlap_area(turned_arc, (0, 0)) < busy_arc.count()  # it moved


def test_the_idle_countdown_shows_near_the_timeout_and_counts_down() -> None:
    clock = FakeClock()
    with clocked_kiosk(clock, idle_warning_s=20.0) as kiosk:
        line = pygame.Rect(Geometry.of(kiosk.size, has_banner=False).message)
        warning = kiosk.painter.colour(Ink("countdown_bg"))
        far = shown(kiosk, replace(ALL_SCREENS["trains"], idle_seconds_left=60.0)).copy()
        assert kiosk.idle_seconds_left == pytest.approx(60.0)
        clock.now += 45.0
        near = kiosk.draw().copy()
        assert kiosk.idle_seconds_left == pytest.approx(15.0)
        clock.now += 20.0
        gone = kiosk.draw().copy()
    assert share_of(far, line, warning) == 0
    assert share_of(near, line, warning) > 0.5
    assert share_of(gone, line, warning) == 0  # the runtime has gone home by now


def test_long_texts_stay_in_their_boxes(kiosk: Kiosk, tmp_path: Path) -> None:
    long_words = Words(
        "本次列车因故晚点，请旅客们在候车室耐心等候并留意广播通知，" * 5,
        "Pneumonoultramicroscopicsilicovolcanoconiosis station " * 6,
    )
    far = Station("XXX", long_words, "XXX")
    sample = replace(
        ALL_SCREENS["trains"],
        station=far,
        title=long_words,
        message=long_words,
        destination=far,
        trains=tuple(replace(t, train=t.train * 3) for t in ALL_SCREENS["trains"].trains),
    )
    for language in ("zh", "en"):
        shown(kiosk, in_language(sample, language))
        assert_laid_out(kiosk)
        scratch = pygame.Surface(kiosk.size)
        for widget in kiosk.widgets:
            if widget.kind is Kind.TEXT:
                drawn = kiosk.painter.paint_text(scratch, widget)
                assert pygame.Rect(widget.rect).contains(drawn), widget.key
        assert_glyphs_drawn(kiosk, save_and_load(kiosk, tmp_path / f"long-{language}.png"))


def test_a_screen_without_the_runtimes_targets_draws_its_buttons_disabled(kiosk: Kiosk) -> None:
    shown(kiosk, replace(ALL_SCREENS["home"], targets=("start:refund", "language")))
    assert not kiosk.is_touchable("start:purchase")
    assert kiosk.target_rect("start:purchase") is not None  # still there, greyed
    assert kiosk.is_touchable("start:refund")
    assert kiosk.target_rect("back") is None  # back is only drawn when offered


def test_before_the_first_view_the_kiosk_says_it_is_starting(tmp_path: Path) -> None:
    with open_kiosk((800, 480), language="en") as kiosk:
        screen = kiosk.draw()
        assert kiosk.shown == 0
        assert kiosk.view.screen is Screen.MESSAGE
        assert any(w.text == "Starting" for w in kiosk.widgets)
        assert_glyphs_drawn(kiosk, screen)


def test_a_new_view_only_rebuilds_what_changed(kiosk: Kiosk) -> None:
    shown(kiosk, ALL_SCREENS["passengers"])
    before = dict(kiosk.live._elements)
    shown(kiosk, replace(ALL_SCREENS["passengers"], idle_seconds_left=12.0))
    assert kiosk.live._elements == before  # the same pygame_gui elements, none rebuilt
    fewer = tuple(t for t in ALL_SCREENS["passengers"].targets if t != "passenger:add")
    shown(kiosk, replace(ALL_SCREENS["passengers"], targets=fewer))
    assert kiosk.live._elements["passenger:add"] is before["passenger:add"]  # only disabled
    assert not kiosk.is_touchable("passenger:add")


def clocked_kiosk(clock: FakeClock, **options: object) -> Kiosk:
    """A headless 800x480 kiosk whose time is ``clock``."""
    return Kiosk(KioskConfig(size=(800, 480), **options), clock=clock)  # type: ignore[arg-type]


def test_sample_views_cover_every_screen() -> None:
    assert {v.screen for v in ALL_SCREENS.values()} == set(Screen)
    assert view(Screen.HOME).station.code
