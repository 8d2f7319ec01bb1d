"""The gate's QR scanner: scans for the unit's event loop, read in a worker thread.

``QrScanner`` owns one line (a ``ScannerLink``) and one ``ScanFraming``. A
worker thread does the blocking reads, cuts the bytes into frames and hands
each ``Scan`` (text and time) or ``ScanGarbled`` report to the loop, where
``next_scan()`` awaits them. When the line drops (scanner unplugged, pty or
socket closed) the thread says so in ``health()``, logs it, forgets the
partial frame and reopens the line with exponential backoff until it comes
back or the scanner is closed; the caller's ``next_scan()`` just waits
meanwhile. Nothing the line sends, and no way it fails, reaches the caller
as an exception: only ``next_scan()`` on a closed scanner raises.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from tenacity import (
    RetryCallState,
    RetryError,
    Retrying,
    retry_if_exception_type,
    stop_when_event_set,
    wait_exponential,
)

from drivers.errors import DeviceUnavailable, DriverError, DriverErrorCode, LinkLost
from drivers.qr_scanner.framing import Frame, ScanFraming, ScanGarbled, ScannedText
from drivers.qr_scanner.link import ScannerLink

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
QUEUE_SIZE = 64  # scans nobody collected; past this the oldest go (a stale scan is useless)
FIRST_BACKOFF_S = 0.05
JOIN_TIMEOUT_S = 5.0


def utc_now() -> datetime:
    """The default clock: aware UTC time."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class Scan:
    """A decoded scan and when the scanner delivered it."""

    text: str
    at: datetime


ScanResult = Scan | ScanGarbled


@dataclass(frozen=True)
class ScannerHealth:
    """The scanner as the maintenance menu and the unit's health see it."""

    is_link_open: bool
    last_error: str | None
    last_error_code: DriverErrorCode | None
    scans: int
    garbled: int
    reopens: int  # times the line came back after a drop
    dropped: int  # results thrown away because nobody collected them


class _Closed:
    """Put in the queue on close so every waiting ``next_scan`` wakes up."""


class QrScanner:
    """A QR scanner on one line; ``start()`` it, then await ``next_scan()``."""

    def __init__(
        self,
        link: ScannerLink,
        framing: ScanFraming,
        *,
        clock: Clock = utc_now,
        reopen_backoff_max_s: float = 5.0,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        self._link = link
        self._framing = framing
        self._clock = clock
        self._backoff_max_s = reopen_backoff_max_s
        self._on_close = on_close
        self._queue: asyncio.Queue[ScanResult | _Closed] = asyncio.Queue()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._is_closed = False
        self._lock = threading.Lock()  # guards the health fields below
        self._is_link_open = False
        self._last_error: DriverError | None = None
        self._counts = {"scans": 0, "garbled": 0, "reopens": 0, "dropped": 0}

    async def start(self) -> None:
        """Open the line (``DeviceUnavailable`` if it cannot be) and start reading."""
        self._loop = asyncio.get_running_loop()
        await asyncio.to_thread(self._link.open)
        with self._lock:
            self._is_link_open = True
        self._thread = threading.Thread(
            target=self._read_until_stopped, name="qr-scanner", daemon=True
        )
        self._thread.start()

    async def next_scan(self) -> ScanResult:
        """The next scan or garbled-frame report (waits while the line is down)."""
        if self._is_closed and self._queue.empty():
            raise DeviceUnavailable("the QR scanner is closed")
        result = await self._queue.get()
        if isinstance(result, _Closed):
            self._queue.put_nowait(result)  # wake the next waiter too
            raise DeviceUnavailable("the QR scanner is closed")
        return result

    def health(self) -> ScannerHealth:
        """A snapshot of the line's state and what has been read so far."""
        with self._lock:
            error = self._last_error
            return ScannerHealth(
                is_link_open=self._is_link_open,
                last_error=None if error is None else error.message,
                last_error_code=None if error is None else error.code,
                **self._counts,
            )

    async def close(self) -> None:
        """Stop reading, close the line (and the simulator this scanner started)."""
        if self._is_closed:
            return
        self._is_closed = True
        self._stop.set()
        await asyncio.to_thread(self._shut_down)
        self._enqueue(_Closed())

    def _shut_down(self) -> None:
        if self._thread is not None:
            self._thread.join(JOIN_TIMEOUT_S)
        self._link.close()
        with self._lock:
            self._is_link_open = False
        if self._on_close is not None:
            try:
                self._on_close()
            except Exception:  # closing must finish whatever the simulator does
                log.exception("QR scanner: stopping its simulator failed")

    # The worker thread.

    def _read_until_stopped(self) -> None:
        while not self._stop.is_set():
            try:
                self._deliver(self._framing.feed(self._link.read_chunk()))
            except LinkLost as exc:
                self._recover(exc)
            except Exception as exc:  # a bug must not end the reading quietly
                log.exception("QR scanner: reading failed; reopening the line")
                self._recover(LinkLost(f"reading failed: {exc!r}"))

    def _deliver(self, frames: list[Frame]) -> None:
        for frame in frames:
            result = self._stamp(frame)
            with self._lock:
                self._counts["scans" if isinstance(result, Scan) else "garbled"] += 1
            try:
                self._loop_of_reader().call_soon_threadsafe(self._enqueue, result)
            except RuntimeError:  # the loop is gone: nobody is left to read
                self._stop.set()

    def _loop_of_reader(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            raise RuntimeError("QR scanner: reading before start()")
        return self._loop

    def _stamp(self, frame: Frame) -> ScanResult:
        if isinstance(frame, ScannedText):
            return Scan(frame.text, self._clock())
        log.warning("QR scanner: garbled frame (%s): %s", frame.reason, frame.excerpt)
        return frame

    def _enqueue(self, result: ScanResult | _Closed) -> None:
        """On the loop: queue a result, dropping the oldest if nobody reads them."""
        if self._queue.qsize() >= QUEUE_SIZE:
            with contextlib.suppress(asyncio.QueueEmpty):
                self._queue.get_nowait()
            with self._lock:
                self._counts["dropped"] += 1
        self._queue.put_nowait(result)

    def _recover(self, error: DriverError) -> None:
        log.warning("QR scanner: %s; reopening", error.message)
        self._link.close()
        self._framing.reset()  # a half frame from before the drop is not a scan
        with self._lock:
            self._is_link_open = False
            self._last_error = error
        if self._reopen():
            log.info("QR scanner: line back")

    def _reopen(self) -> bool:
        retrying = Retrying(
            stop=stop_when_event_set(self._stop),
            wait=wait_exponential(multiplier=FIRST_BACKOFF_S, max=self._backoff_max_s),
            retry=retry_if_exception_type(Exception),  # whatever the line says, try again
            sleep=self._pause,
            before_sleep=self._note_failed_reopen,
        )
        try:
            retrying(self._link.open)
        except RetryError:  # closed while the line was down
            return False
        with self._lock:
            self._is_link_open = True
            self._counts["reopens"] += 1
        return True

    def _pause(self, seconds: float) -> None:
        self._stop.wait(seconds)  # close() cuts the backoff short

    def _note_failed_reopen(self, state: RetryCallState) -> None:
        # health() keeps the drop as the last error: it says why the line is down.
        error = state.outcome.exception() if state.outcome is not None else None
        log.debug("QR scanner: reopen attempt %d failed: %s", state.attempt_number, error)
