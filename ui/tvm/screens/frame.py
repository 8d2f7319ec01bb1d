"""The frame every kiosk screen shares: header, banner line, message line and footer.

The header names the station and the screen and offers the other language;
the banner line says, across the screen, when the machine sells from its
emergency seat block, cannot sell, or runs low on paper; the message line
says what to do now in the passenger's language. The footer holds back and
cancel on the left, paging for long lists, and the screen's main action on
the right; any fixed target the runtime offers that the screen did not place
is put there too, so nothing offered is out of reach. ``Scene`` is what a
screen is built from: the view, the geometry and the kiosk's own state (the
page of a long list, the text field the keys type into).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from device.gate.messages import Words
from device.tvm.view import Banner, Screen, TvmView
from ui.tvm import words as w
from ui.tvm.targets import FIXED
from ui.tvm.widgets import Geometry, Rect, Widget, box, button, split_columns, text

BANNER_FILL = {
    Banner.OFFLINE_BLOCK: "banner_block",
    Banner.OFFLINE: "banner_offline",
    Banner.PAPER_LOW: "banner_paper",
}
NO_MESSAGE_LINE = (Screen.MESSAGE, Screen.CLOSED)  # these show the message large in the body
LEFT_TARGETS = ("back", "cancel")


@dataclass(frozen=True)
class Local:
    """The kiosk's own state, which the runtime does not know."""

    page: int = 0  # of the screen's long list
    field: str = ""  # the text field the on-screen keys type into


@dataclass(frozen=True)
class Scene:
    """What a screen is built from."""

    view: TvmView
    geo: Geometry
    local: Local

    @property
    def language(self) -> str:
        return self.view.language

    def say(self, words: Words, **values: object) -> str:
        """``words`` in the passenger's language."""
        return w.say(words, self.language, **values)

    def can(self, target: str) -> bool:
        """True when the runtime lets ``target`` be touched now."""
        return target in self.view.targets

    def caption(self, target: str) -> str:
        """A fixed target's caption on this screen."""
        words = w.SCREEN_BUTTONS.get((self.view.screen, target)) or w.BUTTONS[target]
        return self.say(words)


@dataclass(frozen=True)
class Pager:
    """A long list shown a page at a time."""

    page: int
    pages: int


def header(scene: Scene) -> list[Widget]:
    """The station and the screen's title; the language button on the right."""
    geo, view = scene.geo, scene.view
    _, y, width, height = geo.header
    language = (width - geo.margin - geo.u(128), y + (height - geo.touch) // 2, geo.u(128))
    right = language[0] - geo.gap if scene.can("language") else width - geo.margin
    station, title = split_columns((geo.margin, y, right - geo.margin, height), (1, 2), geo.gap)
    widgets = [
        box("header", geo.header, "header_bg"),
        text("station", station, scene.say(view.station.name), "title", "header_text"),
        text("title", title, scene.say(view.title), "title", "header_text", "right"),
    ]
    if scene.can("language"):
        rect = (language[0], language[1], language[2], geo.touch)
        widgets += button("language", rect, scene.say(w.LANGUAGE_BUTTON), "@language", True)
    return widgets


def banner(scene: Scene) -> list[Widget]:
    """The banner line, when the view has one."""
    if scene.view.banner is Banner.NONE:
        return []
    rect = scene.geo.banner
    words = scene.say(w.BANNERS[scene.view.banner])
    return [
        box("banner", rect, BANNER_FILL[scene.view.banner]),
        text("banner#text", rect, words, "heading", "banner_text", "center"),
    ]


def message(scene: Scene) -> list[Widget]:
    """What to do now, on the line under the header."""
    if scene.view.message is None or scene.view.screen in NO_MESSAGE_LINE:
        return []
    return [text("message", scene.geo.message, scene.say(scene.view.message), "title", "prompt")]


def footer(
    scene: Scene,
    actions: Iterable[str] = (),
    pager: Pager | None = None,
    drawn: frozenset[str] = frozenset(),
) -> list[Widget]:
    """Back and cancel, the pager, then ``actions`` and any fixed target not drawn elsewhere.

    What does not fit is left out: the screen's actions first, then the pager, then the rest.
    """
    geo = scene.geo
    _, y, width, height = geo.footer
    top = y + (height - geo.touch) // 2
    widgets = [box("footer", geo.footer, "footer_bg")]
    left = geo.margin
    for target in (t for t in LEFT_TARGETS if scene.can(t)):
        rect = (left, top, geo.u(120), geo.touch)
        widgets += button(target, rect, scene.caption(target), "@secondary", True)
        left += geo.u(120) + geo.gap
    paged = pager is not None and pager.pages > 1
    room = width - geo.margin - left - (2 * (geo.u(110) + geo.gap) if paged else 0)
    right = width - geo.margin
    for target in _right_targets(scene, list(actions), drawn)[: room // (geo.u(150) + geo.gap)]:
        right -= geo.u(150)
        rect = (right, top, geo.u(150), geo.touch)
        widgets += button(target, rect, scene.caption(target), "@primary", scene.can(target))
        right -= geo.gap
    if pager is not None and paged:
        widgets += _pager(scene, pager, right, top)
    return widgets


def _right_targets(scene: Scene, actions: list[str], drawn: frozenset[str]) -> list[str]:
    """Right to left: the screen's actions (drawn even when not offered now), then fixed
    targets the screen did not place."""
    placed = set(actions) | drawn | set(LEFT_TARGETS) | {"language"}
    extra = [t for t in scene.view.targets if t in FIXED and t not in placed and t in w.BUTTONS]
    return list(reversed(actions)) + extra


def _pager(scene: Scene, pager: Pager, right: int, top: int) -> list[Widget]:
    geo = scene.geo
    size = geo.u(110)
    previous: Rect = (right - 2 * size - geo.gap, top, size, geo.touch)
    following: Rect = (right - size, top, size, geo.touch)
    return [
        *button(
            "page:prev", previous, scene.say(w.BUTTONS["page:prev"]), "@secondary", pager.page > 0
        ),
        *button(
            "page:next",
            following,
            scene.say(w.BUTTONS["page:next"]),
            "@secondary",
            pager.page < pager.pages - 1,
        ),
    ]


def page_of(items: int, per_page: int, wanted: int) -> Pager:
    """The page shown of ``items`` listed ``per_page`` at a time, ``wanted`` clamped."""
    pages = max(1, -(-items // max(1, per_page)))
    return Pager(min(max(0, wanted), pages - 1), pages)
