"""The kiosk on the unit's asyncio loop: frames at a steady rate, intents to the runtime in order.

``run_kiosk`` draws a frame every ``1 / fps`` seconds until ``stop`` is set.
The intents a frame returns go into a queue that one task hands to the
runtime (``TvmRuntime.handle``) one at a time, in the order they were
touched, so a payment that takes seconds never holds up the screen, and a
passenger tapping twice is two intents the runtime sees in order (it decides
what a second tap means). Like pibooth's failsafe state, a screen that fails
to draw does not take the kiosk down: the failure is logged and the kiosk
shows an out-of-service notice until the runtime's next view; a failing
``handle`` is logged and the next intent goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from device.tvm.view import Intent
from ui.tvm.kiosk import Kiosk

Handle = Callable[[Intent], Awaitable[None]]
log = logging.getLogger(__name__)


async def run_kiosk(kiosk: Kiosk, handle: Handle, stop: asyncio.Event) -> None:
    """Draw frames and pass intents to ``handle`` until ``stop`` is set."""
    queue: asyncio.Queue[Intent] = asyncio.Queue()
    dispatcher = asyncio.create_task(_dispatch(queue, handle), name="kiosk-intents")
    period = 1.0 / kiosk.config.fps
    loop = asyncio.get_running_loop()
    try:
        while not stop.is_set():
            started = loop.time()
            for intent in _safe_frame(kiosk):
                queue.put_nowait(intent)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), max(0.0, period - (loop.time() - started)))
    finally:
        dispatcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await dispatcher


def _safe_frame(kiosk: Kiosk) -> list[Intent]:
    try:
        return kiosk.frame()
    except Exception:
        log.exception("the kiosk failed to draw %s: showing out of service", kiosk.view.screen)
        kiosk.fail_safe()
        return []


async def _dispatch(queue: asyncio.Queue[Intent], handle: Handle) -> None:
    while True:
        intent = await queue.get()
        try:
            await handle(intent)
        except Exception:
            log.exception("the runtime failed to handle %s", intent.kind)
