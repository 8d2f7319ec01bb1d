"""How long the kiosk takes to draw: a frame of a screen shown, and the change to a new screen.

``frame_times`` is what a passenger's eye sees each frame while a screen
stays up: the runtime's view arrives again (its idle countdown a tick lower,
as happens every second near the timeout), the events are read, pygame_gui
updates and draws, the captions and the countdown are drawn over it. The
goal is 16 ms at the 99th percentile for the busiest screen at 1280x800.
``screen_change_times`` is the frame after a touch that brings a new screen:
its widgets are built and its background painted. Both run headless with a
kiosk of their own (one per process: do not call them beside a live kiosk)
and return seconds per frame.
"""

from __future__ import annotations

import math
import time
from dataclasses import replace

from device.tvm.view import TvmView
from ui.tvm.config import KioskConfig
from ui.tvm.kiosk import Kiosk

COUNTDOWN_FROM_S = 15.0  # within the warning: the countdown is drawn on every frame measured
COUNTDOWN_STEP_S = 0.01


def frame_times(view: TvmView, size: tuple[int, int], n: int) -> list[float]:
    """Seconds for each of ``n`` frames of ``view`` at ``size``, the countdown showing."""
    with Kiosk(KioskConfig(size=size)) as kiosk:
        kiosk.show(view)
        kiosk.frame()  # the screen is built once; what follows is the steady state
        times = []
        for n_frame in range(n):
            left = COUNTDOWN_FROM_S - (n_frame * COUNTDOWN_STEP_S) % COUNTDOWN_FROM_S
            started = time.perf_counter()
            kiosk.show(replace(view, idle_seconds_left=left))
            kiosk.frame()
            times.append(time.perf_counter() - started)
        return times


def screen_change_times(
    view: TvmView, other: TvmView, size: tuple[int, int], n: int
) -> list[float]:
    """Seconds for each of ``n`` frames that change from ``other`` to ``view`` at ``size``."""
    with Kiosk(KioskConfig(size=size)) as kiosk:
        times = []
        for _ in range(n):
            kiosk.show(other)
            kiosk.frame()
            started = time.perf_counter()
            kiosk.show(view)
            kiosk.frame()
            times.append(time.perf_counter() - started)
        return times


def percentile(times: list[float], share: float) -> float:
    """The ``share`` (0..1) percentile of ``times`` (nearest rank)."""
    ordered = sorted(times)
    if not ordered:
        raise ValueError("no times")
    rank = max(0, min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1))
    return ordered[rank]
