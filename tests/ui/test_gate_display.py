"""The gate display as the gate runtime uses it: fonts, targets, screenshots, speed, config."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import pygame
import pytest
from gate_screens import FONT, VIEWS, open_display, share_of
from pydantic import ValidationError

from device.gate.messages import READY
from device.gate.view import GateView, Outcome
from drivers.errors import DeviceConfigError, DeviceUnavailable, DriverErrorCode
from ui.gate_display import GateDisplay, fixed_texts
from ui.gate_display_config import GateDisplayConfig
from ui.gate_painter import PALETTES

PYGAME_FONT = Path(pygame.__file__).parent / pygame.font.get_default_font()  # Latin only


def test_a_missing_font_path_fails_clearly(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-font.ttc"
    with pytest.raises(DeviceConfigError, match="does not exist") as raised:
        GateDisplay((800, 480), missing)
    assert raised.value.code is DriverErrorCode.CONFIG
    assert str(missing) in str(raised.value)


def test_a_file_that_is_not_a_font_fails_clearly(tmp_path: Path) -> None:
    not_a_font = tmp_path / "font.ttf"
    not_a_font.write_bytes(b"this is not a font" * 10)
    with pytest.raises(DeviceConfigError, match="cannot be loaded"):
        GateDisplay((800, 480), not_a_font)


def test_a_font_without_chinese_is_refused_not_drawn_as_boxes() -> None:
    assert PYGAME_FONT.is_file()
    with pytest.raises(DeviceConfigError, match="no glyph for") as raised:
        GateDisplay((800, 480), PYGAME_FONT)
    assert "请" in str(raised.value)


def test_the_font_book_tells_glyphs_from_boxes() -> None:
    with open_display((480, 320)) as display:
        assert display.fonts.missing_glyphs("请刷车票 Please") == ""
        assert display.fonts.missing_glyphs("车\U0010fffd票\U000f0001") == "\U0010fffd\U000f0001"
        display.fonts.check_drawable(fixed_texts())
        with pytest.raises(DeviceConfigError):
            display.fonts.check_drawable(["好\U0010fffd"])


def test_it_draws_into_a_given_surface_and_nowhere_else() -> None:
    canvas = pygame.Surface((1000, 700))
    canvas.fill((1, 2, 3))
    side = canvas.subsurface(pygame.Rect(100, 50, 800, 480))
    with GateDisplay((800, 480), FONT, surface=side) as display:
        display.show(VIEWS["admit"])
        assert display.surface is side
    outside = pygame.mask.from_threshold(canvas, (1, 2, 3), (1, 1, 1, 255)).count()
    assert outside == 1000 * 700 - 800 * 480  # every pixel outside the side is untouched
    assert canvas.get_at((100, 50))[:3] == PALETTES[Outcome.ADMIT].back


def test_a_surface_of_another_size_is_refused() -> None:
    with pytest.raises(ValueError, match="surface"):
        GateDisplay((800, 480), FONT, surface=pygame.Surface((480, 320)))
    with pytest.raises(ValueError, match="either"):
        GateDisplay((800, 480), FONT, surface=pygame.Surface((800, 480)), windowed=True)


def test_a_screen_too_small_to_read_is_refused() -> None:
    with pytest.raises(ValueError, match="at least"):
        GateDisplay((200, 100), FONT)


def test_windowed_it_draws_into_the_display_window() -> None:
    with open_display((480, 320), windowed=True) as display:
        display.show(VIEWS["refuse"])
        window = pygame.display.get_surface()
        assert window is not None and window.get_size() == (480, 320)
        icon = display.layout_for(VIEWS["refuse"]).icon
        assert share_of(window, icon, PALETTES[Outcome.REFUSE].symbol) > 0.2
    assert not pygame.display.get_init()  # closing the display closed the window


def test_every_shown_screen_is_saved_when_asked(tmp_path: Path) -> None:
    shots = tmp_path / "shots"
    config = GateDisplayConfig(size=(480, 320), font_path=FONT, screenshot_dir=shots)
    for _ in range(2):  # a second run (or a second display) never overwrites the first
        with GateDisplay.from_config(config) as display:
            for name in ("ready", "admit", "refuse"):
                display.show(VIEWS[name])
    names = sorted(path.name for path in shots.iterdir())
    assert names == [
        "00001-entry-ready.png",
        "00002-entry-admit.png",
        "00003-exit-refuse.png",
        "00004-entry-ready.png",
        "00005-entry-admit.png",
        "00006-exit-refuse.png",
    ]
    saved = pygame.image.load(shots / "00002-entry-admit.png")
    assert saved.get_size() == (480, 320)
    assert saved.get_at((1, 1))[:3] == PALETTES[Outcome.ADMIT].back


def test_a_closed_display_refuses_to_show_and_closes_once() -> None:
    display = open_display((480, 320))
    display.close()
    display.close()
    with pytest.raises(DeviceUnavailable):
        display.show(VIEWS["ready"])


def test_showing_a_view_takes_about_a_millisecond() -> None:
    """It runs on the gate's event loop: a few ms at most at 800x480, even the first time."""
    with open_display((800, 480)) as display:
        first = _timed(display, VIEWS["refuse"])  # fitted at start, not on the first passenger
        times = [_timed(display, view) for _ in range(20) for view in VIEWS.values()]
        fresh = _timed(display, GateView("entry", Outcome.ADMIT, READY, detail="D9  16车 01F号"))
    assert first < 0.010
    assert statistics.median(times) < 0.005
    assert fresh < 0.030  # a detail never seen before: fitted and rendered on the spot


def _timed(display: GateDisplay, view: GateView) -> float:
    start = time.perf_counter()
    display.show(view)
    return time.perf_counter() - start


def test_config_defaults_and_toml_shapes() -> None:
    config = GateDisplayConfig.model_validate({"size": [1024, 600], "font_path": str(FONT)})
    assert config.size == (1024, 600) and config.font_path == FONT
    assert config.enabled and not config.windowed and config.screenshot_dir is None
    assert config.arrow == "up"


@pytest.mark.parametrize(
    "section",
    [
        {"size": [100, 480]},
        {"size": [800, 480, 3]},
        {"size": ["800", "480"]},
        {"windowed": "yes"},
        {"enabled": 1},
        {"arrow": "down"},
        {"colour": "blue"},
    ],
)
def test_config_refuses_what_it_cannot_mean(section: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        GateDisplayConfig.model_validate(section)


@pytest.mark.parametrize("arrow", ["up", "left", "right"])
def test_the_arrow_points_the_way_through(arrow: str) -> None:
    config = GateDisplayConfig.model_validate(
        {"size": [800, 480], "font_path": str(FONT), "arrow": arrow}
    )
    with GateDisplay.from_config(config) as display:
        display.show(VIEWS["admit"])
        icon = display.layout_for(VIEWS["admit"]).icon
        # across the arrow: the head is wide, the shaft narrow; the head is where it points
        near, far = {"up": (0.46, 0.75), "left": (0.46, 0.75), "right": (0.54, 0.25)}[arrow]
        vertical = arrow == "up"
        head = _green_across(display.surface, icon, near, vertical)
        shaft = _green_across(display.surface, icon, far, vertical)
    assert head > 0.75 * icon.width and 0.2 * icon.width < shaft < 0.45 * icon.width


def _green_across(surface: pygame.Surface, icon: pygame.Rect, at: float, rows: bool) -> int:
    """Green pixels on the row (or column) ``at`` of the way into ``icon``."""
    if rows:
        line = pygame.Rect(icon.left, icon.top + round(at * icon.height), icon.width, 1)
    else:
        line = pygame.Rect(icon.left + round(at * icon.width), icon.top, 1, icon.height)
    return round(share_of(surface, line, PALETTES[Outcome.ADMIT].symbol) * icon.width)
