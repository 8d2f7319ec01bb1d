"""The kiosk's configuration, fonts, theme, screenshots and frame timing."""

from __future__ import annotations

from pathlib import Path

import pygame
import pytest
from pydantic import ValidationError
from tvm_kiosk_samples import ALL_SCREENS, assert_glyphs_drawn, open_kiosk, shown

from drivers.errors import DeviceConfigError, DeviceUnavailable
from ui.tvm.config import KioskConfig
from ui.tvm.frames import frame_times, percentile, screen_change_times
from ui.tvm.kiosk import Kiosk, fixed_texts
from ui.tvm.theme import bundled_font_path, theme_data
from ui.tvm.widgets import Ink

WQY = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
PYGAME_FONT = Path(pygame.__file__).parent / "freesansbold.ttf"  # Latin only


def test_the_config_has_kiosk_defaults() -> None:
    config = KioskConfig()
    assert config.size == (800, 480) and config.language == "zh"
    assert config.font_path is None and not config.windowed and config.screenshot_dir is None


@pytest.mark.parametrize(
    "section",
    [
        {"size": [320, 240]},
        {"size": [800, "480"]},
        {"language": "fr"},
        {"windowed": "yes"},
        {"fps": 0},
        {"idle_warning_s": -1},
        {"colour": "blue"},
    ],
)
def test_the_config_refuses_what_is_wrong(section: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        KioskConfig.model_validate(section)


def test_the_theme_is_scaled_and_uses_the_kiosk_font() -> None:
    small, large = theme_data(1.0, None), theme_data(1.6, WQY)
    assert small["text_entry_line"]["font"]["size"] == "22"
    assert large["text_entry_line"]["font"]["size"] == "35"
    assert large["text_entry_line"]["font"]["regular_path"] == str(WQY)
    assert small["text_entry_line"]["font"]["regular_path"] == str(bundled_font_path())
    assert large["@row"]["misc"]["border_width"] == "3"
    assert bundled_font_path().is_file() and bundled_font_path(bold=True).is_file()


def test_a_font_without_chinese_is_refused_at_start() -> None:
    assert PYGAME_FONT.is_file()
    with pytest.raises(DeviceConfigError, match="no glyph for"):
        Kiosk(KioskConfig(font_path=PYGAME_FONT))


def test_a_missing_font_is_refused_at_start(tmp_path: Path) -> None:
    with pytest.raises(DeviceConfigError, match="does not exist"):
        Kiosk(KioskConfig(font_path=tmp_path / "none.ttf"))


@pytest.mark.skipif(not WQY.is_file(), reason="fonts-wqy-microhei is not installed")
def test_a_system_font_can_replace_the_bundled_one(tmp_path: Path) -> None:
    with open_kiosk((800, 480), font_path=WQY) as kiosk:
        screen = shown(kiosk, ALL_SCREENS["passengers"])
        assert_glyphs_drawn(kiosk, screen)
        assert kiosk.fonts.path == WQY


def test_every_fixed_text_draws_with_the_bundled_font() -> None:
    with open_kiosk((800, 480)) as kiosk:
        missing = {text: kiosk.fonts.missing_glyphs(text) for text in fixed_texts()}
        assert not any(missing.values()), missing


def test_every_view_shown_is_saved_named_by_counter_and_screen(tmp_path: Path) -> None:
    with open_kiosk((800, 480), screenshot_dir=tmp_path) as kiosk:
        shown(kiosk, ALL_SCREENS["home"])
        kiosk.draw()  # the same view again: not saved again
        shown(kiosk, ALL_SCREENS["trains"])
        kiosk.show(ALL_SCREENS["class"])
        kiosk.show(ALL_SCREENS["passengers"])  # two views before a frame: the last is shown
        kiosk.draw()
    names = sorted(path.name for path in tmp_path.glob("*.png"))
    assert names == ["00001-home.png", "00002-trains.png", "00003-passengers.png"]
    assert pygame.image.load(tmp_path / names[1]).get_size() == (800, 480)


def test_a_closed_kiosk_takes_no_view() -> None:
    kiosk = open_kiosk((800, 480))
    kiosk.close()
    kiosk.close()
    with pytest.raises(DeviceUnavailable):
        kiosk.show(ALL_SCREENS["home"])


def test_frame_times_measures_the_steady_frames_of_a_screen() -> None:
    times = frame_times(ALL_SCREENS["passengers"], (1280, 800), 30)
    assert len(times) == 30 and all(t > 0 for t in times)
    changes = screen_change_times(ALL_SCREENS["trains"], ALL_SCREENS["home"], (800, 480), 3)
    assert len(changes) == 3 and all(t > 0 for t in changes)


def test_percentile_is_the_nearest_rank() -> None:
    times = [float(n) for n in range(1, 101)]
    assert percentile(times, 0.99) == 99.0
    assert percentile(times, 0.5) == 50.0
    assert percentile([3.0], 0.99) == 3.0
    with pytest.raises(ValueError):
        percentile([], 0.5)


def test_a_windowed_kiosk_draws_into_the_window_and_a_later_kiosk_still_opens() -> None:
    with Kiosk(KioskConfig(size=(800, 480), windowed=True)) as kiosk:
        shown(kiosk, ALL_SCREENS["home"])
        window = pygame.display.get_surface()
        assert window is kiosk.surface and window.get_size() == (800, 480)
        assert window.get_at((5, 5))[:3] == kiosk.painter.colour(Ink("header_bg"))
    assert not pygame.display.get_init()  # closing the window closed the display
    with open_kiosk((800, 480)) as later:
        shown(later, ALL_SCREENS["trains"])
        assert later.view.screen.value == "trains"
