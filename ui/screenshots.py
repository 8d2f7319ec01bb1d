"""Copies of a screen saved as numbered PNG files, written off the event loop.

A demonstration shows people what the gate's screen showed; the display
hands each screen it draws to a ``ScreenshotWriter``. Encoding a PNG takes
tens of milliseconds and pygame's encoder holds the GIL, so the writer only
copies the pixels on the caller's thread (well under a millisecond at
800x480) and one worker thread encodes them with Pillow, which releases the
GIL while it compresses. Files are named ``<counter>-<label>.png``, the counter
going on from the highest number already in the folder (an earlier run); a
name taken meanwhile (another display writing to the same folder) moves the
counter on rather than overwriting. If the disk is slower than the
screens, copies beyond ``max_pending`` are dropped and counted, never
queued without bound; a failed write is logged and never reaches the caller.
"""

from __future__ import annotations

import logging
import re
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pygame

log = logging.getLogger(__name__)

UNSAFE_IN_NAME = re.compile(r"[^a-z0-9_]+")
NUMBERED = re.compile(r"^(\d+)-")


class ScreenshotWriter:
    """Saves screens as ``<counter>-<label>.png`` in one folder, on a worker thread."""

    def __init__(self, directory: Path, max_pending: int = 8) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.max_pending = max_pending
        self.dropped = 0
        self._counter = _last_number(directory)
        self._pending = 0
        self._lock = threading.Lock()
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="screenshots")

    def save(self, surface: pygame.Surface, label: str) -> bool:
        """Queue a copy of ``surface``; False when dropped because too many are pending."""
        with self._lock:
            if self._pending >= self.max_pending:
                self.dropped += 1
                return False
            self._pending += 1
        pixels = pygame.image.tobytes(surface, "RGB")
        job = self._worker.submit(self._write, pixels, surface.get_size(), _safe(label))
        job.add_done_callback(self._finished)
        return True

    def close(self) -> None:
        """Wait for the queued screens to be written; later saves raise RuntimeError."""
        self._worker.shutdown(wait=True)

    def _write(self, pixels: bytes, size: tuple[int, int], label: str) -> Path:
        from PIL import Image  # here, not at import: a unit that never saves a screen skips it

        image = Image.frombytes("RGB", size, pixels)
        while True:
            self._counter += 1  # only this worker thread touches the counter
            path = self.directory / f"{self._counter:05d}-{label}.png"
            try:
                file = path.open("xb")
            except FileExistsError:
                continue
            with file:
                try:
                    image.save(file, format="PNG")
                except BaseException:
                    path.unlink(missing_ok=True)  # no half-written PNG left behind
                    raise
            return path

    def _finished(self, job: Future[Path]) -> None:
        with self._lock:
            self._pending -= 1
        if job.exception() is not None:
            log.warning(
                "a screenshot could not be written to %s: %s", self.directory, job.exception()
            )


def _last_number(directory: Path) -> int:
    """The highest counter among the folder's screenshots, 0 when there are none."""
    numbers = [
        int(match[1]) for path in directory.glob("*.png") if (match := NUMBERED.match(path.name))
    ]
    return max(numbers, default=0)


def _safe(label: str) -> str:
    """``label`` reduced to letters, digits and ``_``/``-``, so it is a harmless file name."""
    return "-".join(part for part in UNSAFE_IN_NAME.split(label.lower()) if part) or "screen"
