"""What a unit tells the world: one JSON line per event on standard output, and its screen.

Every decision, passage, sync and state change is written as one JSON line
(``{"time": ..., "event": "decision", ...}``) that log tools and monitoring
read; a line never carries an ID or card number. Screens subscribe to the
views the runtime publishes; a unit without a screen has no subscriber.
"""

from __future__ import annotations

import datetime as dt
import logging
import sys
import threading
from collections.abc import Callable
from typing import IO, Any, Generic, TypeVar

import orjson

View = TypeVar("View")
Clock = Callable[[], dt.datetime]
log = logging.getLogger(__name__)


class EventLog:
    """Writes events as JSON lines (thread-safe; a closed output is not an error)."""

    def __init__(self, clock: Clock, out: IO[bytes] | None = None) -> None:
        self.clock = clock
        self._out = out if out is not None else sys.stdout.buffer
        self._lock = threading.Lock()

    def emit(self, event: str, **fields: Any) -> None:
        """Write one event with the unit's time."""
        line = {"time": self.clock().isoformat(timespec="milliseconds"), "event": event, **fields}
        data = orjson.dumps(line, default=str) + b"\n"
        with self._lock:
            try:
                self._out.write(data)
                self._out.flush()
            except (OSError, ValueError):
                pass  # stdout gone (the launcher died): the journal still has everything


class Views(Generic[View]):
    """The latest view of each screen area, and who draws them."""

    def __init__(self) -> None:
        self._subscribers: list[Callable[[View], None]] = []

    def subscribe(self, draw: Callable[[View], None]) -> None:
        """Call ``draw`` with every view published from now on."""
        self._subscribers.append(draw)

    def publish(self, view: View) -> None:
        """Hand a view to every subscriber; a failing screen never stops the unit."""
        for draw in self._subscribers:
            try:
                draw(view)
            except Exception:
                log.exception("a screen failed to draw %r", view)
