"""Every kiosk screen from its view: the shared frame around the screen's own body.

``build`` is a pure function of a ``Scene`` (the view, the geometry, the
kiosk's page and field) and returns the screen's widgets in painting
order: the header, the banner line, the message line, the body of the
view's ``Screen``, then the footer with back, cancel, the pager and the
screen's main action. ``placeholder`` is the view shown before the
runtime's first one, ``failsafe`` the one shown after a view failed to draw.
The parts: ``frame`` (header, banner, message line, footer; ``Scene``),
``choose`` (home, destination, trains, class, change), ``order``
(passengers, confirm, pay, print, done), ``notice`` (scan, refund, message,
closed) and ``keyboard`` (the on-screen keys and the fields they type into).
"""

from __future__ import annotations

from collections.abc import Callable

from device.gate.messages import Words
from device.tvm.view import Screen, Station, TvmView
from ui.tvm import words as w
from ui.tvm.screens import frame
from ui.tvm.screens.choose import change, destination, home, seat_class, trains
from ui.tvm.screens.frame import Pager, Scene
from ui.tvm.screens.notice import closed, message, refund, scan
from ui.tvm.screens.order import confirm, done, passengers, pay, printing
from ui.tvm.widgets import Kind, Widget

Body = tuple[list[Widget], Pager | None]
BODIES: dict[Screen, Callable[[Scene], Body]] = {
    Screen.HOME: home,
    Screen.DESTINATION: destination,
    Screen.TRAINS: trains,
    Screen.CLASS: seat_class,
    Screen.PASSENGERS: passengers,
    Screen.CONFIRM: confirm,
    Screen.PAY: pay,
    Screen.PRINT: printing,
    Screen.DONE: done,
    Screen.SCAN: scan,
    Screen.REFUND: refund,
    Screen.CHANGE: change,
    Screen.MESSAGE: message,
    Screen.CLOSED: closed,
}
# the main action of a screen, drawn (disabled when not offered) on the footer's right
ACTIONS: dict[Screen, tuple[str, ...]] = {
    Screen.PASSENGERS: ("confirm",),
    Screen.CONFIRM: ("confirm",),
    Screen.REFUND: ("confirm",),
    Screen.DONE: ("done",),
}


def build(scene: Scene) -> list[Widget]:
    """The widgets of the view's screen, frame included, in painting order."""
    body, pager = BODIES[scene.view.screen](scene)
    drawn = {widget.key for widget in body if widget.kind is Kind.BUTTON}
    actions = ACTIONS.get(scene.view.screen, ())
    return [
        *frame.header(scene),
        *frame.banner(scene),
        *frame.message(scene),
        *body,
        *frame.footer(scene, actions, pager, frozenset(drawn)),
    ]


def placeholder(language: str) -> TvmView:
    """What the kiosk shows before the runtime's first view."""
    return _notice(language, w.STARTING)


def failsafe(language: str) -> TvmView:
    """What the kiosk shows after it failed to draw a view, until the runtime's next one."""
    return _notice(language, w.FAILSAFE)


def _notice(language: str, words: Words) -> TvmView:
    return TvmView(
        screen=Screen.MESSAGE,
        language=language,
        title=words,
        station=Station("", Words("", "")),
        message=words,
    )
