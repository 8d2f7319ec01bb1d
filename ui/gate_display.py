"""The ticket gate's passenger display: draws each ``GateView`` the gate runtime publishes.

The gate runtime knows no screen; after every change it publishes a
``device.gate.view.GateView``, and ``GateDisplay.show`` is the subscriber
that draws it, on the gate's event loop, in about a millisecond. The display
draws into an offscreen surface (a headless gate, tests, screenshots), into
a surface the caller owns (e.g. both sides of a gate on one demo screen),
or into a real window. Its font must draw Chinese: a missing font file, or
one that would draw any of the gate's fixed words as boxes, stops start-up
with a ``DeviceConfigError``; every fixed message is fitted once at start,
so the first passenger waits no longer than the hundredth. With a
screenshot folder, every screen shown is also saved there as a PNG.
"""

from __future__ import annotations

import logging
import string
from pathlib import Path
from types import TracebackType

import pygame

from device.gate.messages import ADMITTED, EMERGENCY, FLOW_CONTROL, READY, REFUSALS, Words
from device.gate.view import Banner, GateView, Outcome
from drivers.errors import DeviceUnavailable
from protocol.units import GateReason
from ui.fonts import FontBook
from ui.gate_display_config import GateDisplayConfig
from ui.gate_icons import Pointing
from ui.gate_layout import GateLayout
from ui.gate_painter import BANNER_WORDS, SIDE_WORDS, GatePainter, Painted
from ui.screenshots import ScreenshotWriter

log = logging.getLogger(__name__)

DETAIL_SAMPLE = "G101  05车 12F号"  # the form of an admission's detail: its characters must draw
WINDOW_TITLE = "StationKit gate"


class GateDisplay:
    """A gate side's passenger screen of ``size`` pixels, drawn with the font at ``font_path``."""

    def __init__(
        self,
        size: tuple[int, int],
        font_path: Path,
        *,
        surface: pygame.Surface | None = None,
        windowed: bool = False,
        arrow: Pointing = "up",
        screenshot_dir: Path | None = None,
    ) -> None:
        size = (int(size[0]), int(size[1]))
        _check_target(size, surface, windowed)
        self.size = size
        self.fonts = FontBook(font_path)
        self.fonts.check_drawable(fixed_texts())
        self._painter = GatePainter(self.fonts, size, arrow)
        self._warm_up()
        self.is_windowed = windowed
        self.surface = _open_window(size) if windowed else surface or pygame.Surface(size)
        self._screenshots = ScreenshotWriter(screenshot_dir) if screenshot_dir else None
        self._painted: tuple[Painted, ...] = ()
        self.is_closed = False

    @classmethod
    def from_config(cls, config: GateDisplayConfig) -> GateDisplay:
        """The display a profile's ``[display]`` section describes (whatever ``enabled`` says)."""
        return cls(
            config.size,
            config.font_path,
            windowed=config.windowed,
            arrow=config.arrow,
            screenshot_dir=config.screenshot_dir,
        )

    def show(self, view: GateView) -> None:
        """Draw ``view`` now (and save it when a screenshot folder is set)."""
        if self.is_closed:
            raise DeviceUnavailable("the gate display is closed")
        self._painted = tuple(self._painter.paint(self.surface, view))
        if self.is_windowed:
            pygame.display.flip()
            pygame.event.pump()  # a window that never reads its events is "not responding"
        if self._screenshots is not None:
            self._screenshots.save(self.surface, f"{view.direction}-{view.outcome.value}")

    @property
    def painted(self) -> tuple[Painted, ...]:
        """What the last ``show`` drew, and where (``icon``, ``message_zh``, ``banner``, ...)."""
        return self._painted

    def layout_for(self, view: GateView) -> GateLayout:
        """The rectangles ``view`` is drawn in."""
        return self._painter.layout_for(view)

    def save_png(self, path: Path) -> None:
        """Save what the screen shows now as a PNG at ``path`` (blocks for tens of ms)."""
        pygame.image.save(self.surface, path)

    def close(self) -> None:
        """Finish queued screenshots and close the window; twice is harmless."""
        if self.is_closed:
            return
        self.is_closed = True
        if self._screenshots is not None:
            self._screenshots.close()
        if self.is_windowed:
            pygame.display.quit()

    def __enter__(self) -> GateDisplay:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def _warm_up(self) -> None:
        """Fit every fixed screen once, so no passenger waits for a font to open."""
        scratch = pygame.Surface(self.size)
        for view in fixed_views():
            self._painter.paint(scratch, view)


def fixed_texts() -> list[str]:
    """Every text the gate shows that is known before it runs, and the letters of the rest."""
    words: list[Words] = [ADMITTED, EMERGENCY, READY, FLOW_CONTROL, *REFUSALS.values()]
    words += [*BANNER_WORDS.values(), *SIDE_WORDS.values()]
    return [text for w in words for text in (w.zh, w.en)] + [DETAIL_SAMPLE, string.printable]


def fixed_views() -> list[GateView]:
    """A view of each outcome and banner with the gate's fixed messages."""
    views = [
        GateView("entry", Outcome.READY, READY),
        GateView("entry", Outcome.ADMIT, ADMITTED, detail=DETAIL_SAMPLE),
        GateView("entry", Outcome.ADMIT, EMERGENCY, banner=Banner.EMERGENCY_OPEN),
        GateView("exit", Outcome.CLOSED, REFUSALS[GateReason.OUT_OF_SERVICE]),
    ]
    views += [GateView("entry", Outcome.READY, READY, banner=banner) for banner in Banner]
    views += [
        GateView("entry", Outcome.REFUSE, words, reason=reason.value)
        for reason, words in REFUSALS.items()
    ]
    return views


def _check_target(size: tuple[int, int], surface: pygame.Surface | None, windowed: bool) -> None:
    if surface is not None and windowed:
        raise ValueError("a gate display draws either into a given surface or into a window")
    if surface is not None and surface.get_size() != size:
        raise ValueError(f"the surface is {surface.get_size()}, the display {size}")


def _open_window(size: tuple[int, int]) -> pygame.Surface:
    """A window of ``size`` (the whole screen on a board's framebuffer), no mouse pointer."""
    pygame.display.init()
    window = pygame.display.set_mode(size)
    pygame.display.set_caption(WINDOW_TITLE)
    pygame.mouse.set_visible(False)
    log.info("gate display window %sx%s opened (%s)", *size, pygame.display.get_driver())
    return window
