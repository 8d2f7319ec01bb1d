"""The TVM's touchscreen: draws each ``TvmView`` the runtime publishes, turns touches into intents.

The runtime hands every view to ``Kiosk.show`` (cheap: the view is only kept);
each frame, ``Kiosk.frame`` reads pygame's events, lets pygame_gui turn
touches into button presses and typing, returns the ``Intent`` objects they
mean, then draws the latest view. Several views published between two
frames are drawn once, as the last of them. A finger on the glass arrives
as FINGERDOWN/FINGERUP (posted by SDL or by a scripted journey) and is
handed to pygame_gui as a mouse click at that point; the mouse clicks SDL
makes up from the same finger are dropped, so one touch is one press. Any
touch that is not a button asking the runtime for something still counts as
activity (an ``IntentKind.TOUCH``, at most one a second). The kiosk runs in
a window or headless (SDL's dummy video driver, drawing offscreen), one per
process; with a screenshot folder, every view shown is saved there as a PNG.
"""

from __future__ import annotations

import math
import os
import string
import time
from collections.abc import Callable
from dataclasses import replace
from types import TracebackType

import pygame
import pygame_gui

from device.tvm.view import Banner, Intent, Screen, TvmView
from drivers.errors import DeviceUnavailable
from ui.fonts import FontBook
from ui.screenshots import ScreenshotWriter
from ui.tvm import screens
from ui.tvm import words as w
from ui.tvm.config import KioskConfig
from ui.tvm.live import LiveWidgets
from ui.tvm.painter import Front, KioskPainter
from ui.tvm.screens.frame import Local, Scene
from ui.tvm.screens.keyboard import edit
from ui.tvm.targets import (
    ACTIVITY,
    ID_FIELD,
    NAME_FIELD,
    SEARCH_FIELD,
    intent_for,
    is_local,
    search_intent,
)
from ui.tvm.theme import bundled_font_path, theme_data
from ui.tvm.widgets import Geometry, Kind, Widget

WINDOW_TITLE = "StationKit TVM"
ACTIVITY_EVERY_S = 1.0  # touches that ask nothing tell the runtime at most this often
MAX_FRAME_STEP_S = 0.25  # pygame_gui's animations never jump further than this
SYMBOLS = "¥→↓…·"
SCREENSHOTS_PENDING = 32  # a journey's screens come faster than PNGs are written; a bound still


class Kiosk:
    """The kiosk's screen, drawn with pygame_gui, at the size ``config`` gives."""

    def __init__(self, config: KioskConfig, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self.size = config.size
        self.clock = clock
        self.surface = _open_surface(config)
        self.fonts = FontBook(config.font_path or bundled_font_path())
        self.fonts.check_drawable(fixed_texts())
        bold = None if config.font_path is not None else FontBook(bundled_font_path(bold=True))
        geo = Geometry.of(self.size, has_banner=False)
        theme = theme_data(geo.scale, config.font_path)
        self.manager = pygame_gui.UIManager(self.size, theme, enable_live_theme_updates=False)
        self.painter = KioskPainter(self.fonts, bold, self.manager.get_theme(), geo)
        self.live = LiveWidgets(self.manager)
        self.view = screens.placeholder(config.language)
        self.local = Local()
        self.shown = 0  # views shown so far (a scripted journey waits on this)
        self.frames = 0
        self.is_closed = False
        self._pending: TvmView | None = None
        self._dirty = True
        self._widgets: list[Widget] = []
        self._back: list[Widget] | None = None
        self._background = pygame.Surface(self.size).convert()
        self._fronts: list[Front] = []
        self._shown_at = self._last_frame = clock()
        self._last_activity = -math.inf
        self._save_next = False
        directory = config.screenshot_dir
        self._screenshots = (
            ScreenshotWriter(directory, SCREENSHOTS_PENDING) if directory is not None else None
        )

    def show(self, view: TvmView) -> None:
        """Take the runtime's latest view; the next frame draws it (call on the kiosk's thread)."""
        if self.is_closed:
            raise DeviceUnavailable("the kiosk is closed")
        self._pending = view

    def frame(self) -> list[Intent]:
        """Read the touches, draw the latest view; the intents the touches mean, in order."""
        intents = self.process()
        self.draw()
        return intents

    def process(self) -> list[Intent]:
        """Hand pygame's events to pygame_gui; the intents its presses and typing mean."""
        intents: list[Intent] = []
        for event in pygame.event.get():
            self._handle(event, intents)
        for event in pygame.event.get(UI_EVENTS):  # what pygame_gui made of them, at once
            self._handle_ui(event, intents)
        return intents

    def draw(self) -> pygame.Surface:
        """Draw the latest view with its overlays; the surface drawn on."""
        now = self.clock()
        if self._pending is not None or self._dirty:
            self._apply(now)
        self.manager.update(min(MAX_FRAME_STEP_S, max(0.0, now - self._last_frame)))
        self._last_frame = now
        self.surface.blit(self._background, (0, 0))
        self.manager.draw_ui(self.surface)
        for front in self._fronts:
            self.surface.blit(front.surface, front.at)
        self._overlays(now)
        if self.config.windowed:
            pygame.display.flip()
        if self._save_next and self._screenshots is not None:
            self._screenshots.save(self.surface, self.view.screen.value)
        self._save_next = False
        self.frames += 1
        return self.surface

    def fail_safe(self) -> None:
        """After a frame failed: drop every widget and show the out-of-service notice."""
        self.live.clear()
        self._back, self._dirty, self.local = None, True, Local()
        self._pending = screens.failsafe(self.view.language)

    def target_rect(self, key: str) -> pygame.Rect | None:
        """Where the button or field ``key`` is on the screen drawn, None if it is not there."""
        return self.live.rect_of(key)

    def is_touchable(self, key: str) -> bool:
        """True when the button or field ``key`` is on the screen drawn and enabled."""
        return self.live.is_enabled(key)

    def field_text(self, key: str) -> str:
        """What text field ``key`` holds now."""
        return self.live.text_of(key)

    @property
    def widgets(self) -> list[Widget]:
        """The widgets of the screen drawn, in painting order."""
        return list(self._widgets)

    @property
    def idle_seconds_left(self) -> float | None:
        """Seconds until the runtime goes home, as the view said, counted down since shown."""
        left = self.view.idle_seconds_left
        return None if left is None else left - (self.clock() - self._shown_at)

    def save_png(self, path: os.PathLike[str] | str) -> None:
        """Save what the screen shows now as a PNG (blocks for tens of ms)."""
        pygame.image.save(self.surface, os.fspath(path))

    def close(self) -> None:
        """Remove the widgets, finish queued screenshots, close the window; twice is harmless."""
        if self.is_closed:
            return
        self.is_closed = True
        self.live.clear()
        if self._screenshots is not None:
            self._screenshots.close()
        if self.config.windowed:
            pygame.display.quit()

    def __enter__(self) -> Kiosk:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def _handle(self, event: pygame.event.Event, intents: list[Intent]) -> None:
        if event.type in (pygame.FINGERDOWN, pygame.FINGERUP):
            event = self._as_click(event)
        elif event.type == pygame.FINGERMOTION:
            return
        elif event.type in CLICKS and getattr(event, "touch", False):
            return  # SDL's mouse copy of a finger event already handled as a finger
        if event.type == pygame.MOUSEBUTTONDOWN:
            self._touched(event.pos, intents)
        self.manager.process_events(event)

    def _as_click(self, event: pygame.event.Event) -> pygame.event.Event:
        down = event.type == pygame.FINGERDOWN
        pos = (round(event.x * (self.size[0] - 1)), round(event.y * (self.size[1] - 1)))
        kind = pygame.MOUSEBUTTONDOWN if down else pygame.MOUSEBUTTONUP
        return pygame.event.Event(kind, pos=pos, button=1, touch=False)

    def _touched(self, pos: tuple[int, int], intents: list[Intent]) -> None:
        """A finger came down: a field touched becomes the one typed into; activity is told."""
        hit = self._hit(pos)
        if hit is not None and hit.kind is Kind.ENTRY and hit.key != self.local.field:
            self.local = replace(self.local, field=hit.key)
            self._dirty = True
        asks_runtime = hit is not None and hit.kind is Kind.BUTTON and not is_local(hit.key)
        if not asks_runtime and self.clock() - self._last_activity >= ACTIVITY_EVERY_S:
            self._last_activity = self.clock()
            intents.append(ACTIVITY)

    def _hit(self, pos: tuple[int, int]) -> Widget | None:
        for widget in reversed(self._widgets):
            touchable = widget.kind in (Kind.BUTTON, Kind.ENTRY) and widget.enabled
            if touchable and pygame.Rect(widget.rect).collidepoint(pos):
                return widget
        return None

    def _handle_ui(self, event: pygame.event.Event, intents: list[Intent]) -> None:
        key = self.live.key_of(getattr(event, "ui_element", None))
        if key is None:
            return
        if event.type == pygame_gui.UI_BUTTON_PRESSED:
            self._pressed(key, intents)
        elif event.type == pygame_gui.UI_TEXT_ENTRY_CHANGED and key == SEARCH_FIELD:
            intents.append(search_intent(self.live.text_of(key).upper()))

    def _pressed(self, key: str, intents: list[Intent]) -> None:
        if key.startswith("page:"):
            step = 1 if key == "page:next" else -1
            self.local = replace(self.local, page=max(0, self.local.page + step))
            self._dirty = True
        elif key.startswith("key:"):
            self._typed(key, intents)
        elif not is_local(key):
            intents.append(intent_for(key, self.live.entries()))

    def _typed(self, key: str, intents: list[Intent]) -> None:
        field = self._typing_field()
        if field is None:
            return
        self.live.set_text(field, edit(self.live.text_of(field), key, field))
        self.live.focus(field)
        if field == SEARCH_FIELD:
            intents.append(search_intent(self.live.text_of(field)))

    def _typing_field(self) -> str | None:
        """The field the on-screen keys type into: the one last touched, else the first."""
        fields = [widget.key for widget in self._widgets if widget.kind is Kind.ENTRY]
        if self.local.field in fields:
            return self.local.field
        return fields[0] if fields else None

    def _apply(self, now: float) -> None:
        view = self._pending or self.view
        is_new, is_new_screen = self._pending is not None, view.screen is not self.view.screen
        if is_new:
            self._follow(self.view, view)
        self._pending = None
        scene = Scene(view, Geometry.of(self.size, view.banner is not Banner.NONE), self.local)
        widgets = screens.build(scene)
        self.live.apply(widgets)
        if is_new_screen:
            self.live.forget_texts()  # a screen entered again starts from what its view says
        self.painter.geo = scene.geo
        self._repaint(widgets)
        self._widgets, self._dirty = widgets, False
        if is_new:
            self.view, self._shown_at, self._save_next = view, now, True
            self.shown += 1

    def _follow(self, old: TvmView, new: TvmView) -> None:
        """The kiosk's own state after the view changes from ``old`` to ``new``."""
        if new.screen is not old.screen:
            self.local = Local()
            return
        if _listed(new) != _listed(old):
            self.local = replace(self.local, page=0)
        if new.screen is Screen.PASSENGERS and len(new.passengers) > len(old.passengers):
            self.live.set_text(NAME_FIELD, "")  # added: the fields are ready for the next one
            self.live.set_text(ID_FIELD, "")
            self.local = replace(self.local, field=NAME_FIELD)

    def _repaint(self, widgets: list[Widget]) -> None:
        back = [widget for widget in widgets if widget.kind is Kind.BOX or _is_back_text(widget)]
        if back != self._back:
            self.painter.paint_background(self._background, back)
            self._back = back
        self._fronts = self.painter.fronts(widgets)

    def _overlays(self, now: float) -> None:
        if self.view.busy:
            self.painter.busy(self.surface, self.view.language, now)
        left = self.idle_seconds_left
        if left is not None and 0 < left <= self.config.idle_warning_s:
            self.painter.countdown(self.surface, math.ceil(left), self.view.language)


UI_EVENTS = [pygame_gui.UI_BUTTON_PRESSED, pygame_gui.UI_TEXT_ENTRY_CHANGED]
CLICKS = (pygame.MOUSEBUTTONDOWN, pygame.MOUSEBUTTONUP)


def fixed_texts() -> list[str]:
    """Every text the kiosk shows that is known before it runs, and the characters of the rest."""
    texts = [text for words in w.fixed_words() for text in (words.zh, words.en)]
    return [*texts, string.ascii_letters + string.digits + string.punctuation, SYMBOLS]


def _listed(view: TvmView) -> tuple[object, ...]:
    """What a screen's long list holds, to start again at its first page when it changes."""
    return (
        tuple(s.code for s in view.destinations),
        tuple(t.train for t in view.trains),
        len(view.tickets),
    )


def _is_back_text(widget: Widget) -> bool:
    return widget.kind is Kind.TEXT and not widget.front


def _open_surface(config: KioskConfig) -> pygame.Surface:
    """The window, or an offscreen surface when headless (pygame_gui still needs a display)."""
    if config.windowed:
        pygame.display.init()
        window = pygame.display.set_mode(config.size)
        pygame.display.set_caption(WINDOW_TITLE)
        pygame.mouse.set_visible(False)  # a touchscreen shows no pointer
        return window
    if not pygame.display.get_init():
        os.environ["SDL_VIDEODRIVER"] = "dummy"  # headless: never open a window
        pygame.display.init()
    if pygame.display.get_surface() is None:
        pygame.display.set_mode((1, 1))  # pygame_gui converts its images to the display's format
    return pygame.Surface(config.size).convert()
