"""The Concert link: sessions over a serial line, with timeouts, NAK and bounded retries.

Concert is symmetric: whoever has a record to send opens a session with
ENQ, waits for ACK, sends ``STX record ETX LRC``, waits for ACK (a NAK asks
for the frame again) and closes with EOT. The register sends its request
so, then waits for the terminal to open its own session with the answer.

``ConcertLink`` runs those sessions on the register's side. It is blocking
and runs in the terminal's worker thread, never on the event loop. Its
errors say how far a request got, because that decides whether money may
have moved: ``RequestNotDelivered`` means the terminal certainly did not
take the request; any other ``DriverError`` from ``send`` leaves a doubt.
Under it, ``SerialPort`` is the small interface that moves bytes, and
``PyserialPort`` implements it with ``serial.serial_for_url`` (a device
path, a pty, ``socket://``, ``spy://``).
"""

from __future__ import annotations

import logging
import termios
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, Protocol

import serial

from drivers.errors import DeviceTimeout, DeviceUnavailable, DriverError, LinkLost, ProtocolError
from drivers.pos.framing import (
    Control,
    ControlByte,
    Frame,
    FrameError,
    FrameFault,
    FrameParser,
    ParserEvent,
    encode_frame,
)

log = logging.getLogger(__name__)

POLL_S = 0.05  # how often a waiting read looks at the close flag
# what a line that went away raises: pyserial's own errors, the OS's, and termios's
# (tcdrain and tcflush on a pty whose other end closed raise termios.error, not OSError)
LINE_ERRORS = (serial.SerialException, OSError, termios.error)
WRITE_TIMEOUT_S = 5.0  # a few bytes that cannot leave in that long mean the line is gone
LineFormat = Literal["8N1", "7E1"]


class SerialPort(Protocol):
    """What the link needs from a line: bytes out, bytes in, nothing more."""

    def write(self, data: bytes) -> None:
        """Send bytes; LinkLost if the line is gone."""

    def read(self, timeout: float) -> bytes:
        """Bytes that arrive within ``timeout`` seconds (b"" if none); LinkLost if gone."""

    def discard_input(self) -> None:
        """Forget bytes received and not yet read."""

    def close(self) -> None:
        """Close the line; never raises."""


class PyserialPort:
    """A ``SerialPort`` on pyserial, opened with ``serial_for_url``."""

    def __init__(self, url: str, baudrate: int, line: LineFormat = "8N1") -> None:
        seven_bits = line == "7E1"
        try:
            self._serial = serial.serial_for_url(
                url,
                baudrate=baudrate,
                bytesize=serial.SEVENBITS if seven_bits else serial.EIGHTBITS,
                parity=serial.PARITY_EVEN if seven_bits else serial.PARITY_NONE,
                stopbits=serial.STOPBITS_ONE,
                timeout=0,
                write_timeout=WRITE_TIMEOUT_S,
            )
        except (*LINE_ERRORS, ValueError) as exc:
            raise DeviceUnavailable(f"cannot open the payment terminal at {url}: {exc}") from exc

    def write(self, data: bytes) -> None:
        """Send bytes; LinkLost if the line is gone."""
        try:
            self._serial.write(data)
            self._serial.flush()
        except LINE_ERRORS as exc:
            raise LinkLost(f"the payment terminal's line dropped: {exc}") from exc

    def read(self, timeout: float) -> bytes:
        """Bytes that arrive within ``timeout`` seconds (b"" if none); LinkLost if gone."""
        try:
            if timeout != self._serial.timeout:  # pyserial reconfigures the line on each change
                self._serial.timeout = timeout
            first = self._serial.read(1)
            waiting = self._serial.in_waiting if first else 0
            return first + (self._serial.read(waiting) if waiting else b"")
        except LINE_ERRORS as exc:
            raise LinkLost(f"the payment terminal's line dropped: {exc}") from exc

    def discard_input(self) -> None:
        """Forget bytes received and not yet read."""
        try:
            self._serial.reset_input_buffer()
        except LINE_ERRORS as exc:
            raise LinkLost(f"the payment terminal's line dropped: {exc}") from exc

    def close(self) -> None:
        """Close the line; never raises."""
        try:
            self._serial.close()
        except LINE_ERRORS as exc:
            log.warning("closing the payment terminal's line failed: %s", exc)


class RequestNotDelivered(DriverError):
    """The terminal certainly did not take the request: nothing can have been charged."""

    def __init__(self, cause: DriverError) -> None:
        super().__init__(f"request not delivered: {cause.message}", cause.code)


@dataclass(frozen=True)
class LinkTiming:
    """The link's timeouts (seconds) and how often it tries before giving up."""

    ack_timeout_s: float = 2.0  # for ACK/NAK after our ENQ or frame, and for the closing EOT
    frame_timeout_s: float = 3.0  # from our ACK of the terminal's ENQ to its frame's LRC
    max_attempts: int = 3  # ENQs per session, sends of one frame, NAKs of one answer


@dataclass
class LinkCounters:
    """What went wrong on the line so far (for health and the maintenance menu)."""

    enq_retries: int = 0
    naks_received: int = 0
    naks_sent: int = 0
    frame_errors: int = 0
    missing_eot: int = 0
    reopened: int = 0
    faults: dict[str, int] = field(default_factory=dict)


class ConcertLink:
    """The register's side of Concert sessions over one serial line."""

    def __init__(self, open_port: Callable[[], SerialPort], timing: LinkTiming) -> None:
        self._open_port = open_port
        self._timing = timing
        self._port: SerialPort | None = open_port()  # a missing device fails at start-up
        self._parser = FrameParser()
        self._events: deque[ParserEvent] = deque()
        self._closing = threading.Event()
        self._frame_started = 0.0
        self.counters = LinkCounters()

    @property
    def is_open(self) -> bool:
        """True while a line is open (it reopens by itself after a drop)."""
        return self._port is not None and not self._closing.is_set()

    def send(self, payload: bytes) -> None:
        """Send one record in a session of ours.

        RequestNotDelivered when the terminal certainly did not take it; any
        other DriverError when it may have.
        """
        frame = encode_frame(payload)
        try:
            self._prepare_line()
            self._open_session()
        except DriverError as exc:
            raise RequestNotDelivered(exc) from exc
        self._deliver(frame)

    def receive(self, timeout: float) -> bytes:
        """The record of the next session the terminal opens within ``timeout`` seconds."""
        self._ensure_port()
        self._await_enq(time.monotonic() + timeout)
        self._write(Control.ACK.byte)
        payload = self._take_frame()
        self._write(Control.ACK.byte)
        if self._await_control({Control.EOT}, self._timing.ack_timeout_s) is None:
            self.counters.missing_eot += 1  # the record is whole and acknowledged: keep it
        return payload

    def abort(self) -> None:
        """Make a waiting read give up at once (LinkLost); safe from any thread."""
        self._closing.set()

    def close(self) -> None:
        """Close the line for good."""
        self._closing.set()
        self._drop_port()

    def _open_session(self) -> None:
        for attempt in range(self._timing.max_attempts):
            if attempt:
                self.counters.enq_retries += 1
            self._write(Control.ENQ.byte)
            # the terminal's own ENQ meanwhile is ignored: the register keeps the line,
            # and the terminal repeats its answer later or gives it on duplicata
            reply = self._await_control({Control.ACK, Control.NAK}, self._timing.ack_timeout_s)
            if reply is Control.ACK:
                return
        raise DeviceTimeout(
            f"the terminal did not accept a session ({self._timing.max_attempts} ENQ unanswered)"
        )

    def _deliver(self, frame: bytes) -> None:
        for attempt in range(self._timing.max_attempts):
            self._write(frame)
            reply = self._await_control({Control.ACK, Control.NAK}, self._timing.ack_timeout_s)
            if reply is Control.ACK:
                self._write(Control.EOT.byte)
                return
            if reply is None:
                # silence: the terminal may hold the request and its ACK be lost;
                # sending it again could start a second transaction, so stop here
                self._write(Control.EOT.byte)
                raise DeviceTimeout("the terminal neither acknowledged nor refused the request")
            self.counters.naks_received += 1
            log.info("the terminal refused frame attempt %d (NAK)", attempt + 1)
        self._write(Control.EOT.byte)
        raise RequestNotDelivered(ProtocolError("the terminal refused every copy of the request"))

    def _await_enq(self, deadline: float) -> None:
        while (event := self._next_event(deadline)) is not None:
            if isinstance(event, ControlByte) and event.code is Control.ENQ:
                return
            self._note_ignored(event)
        raise DeviceTimeout("the terminal did not answer in time")

    def _take_frame(self) -> bytes:
        for _ in range(self._timing.max_attempts):
            event = self._await_frame(time.monotonic() + self._timing.frame_timeout_s)
            if isinstance(event, Frame):
                return event.payload
            self.counters.naks_sent += 1
            self._write(Control.NAK.byte)  # ask for the frame again
        raise ProtocolError(f"no good frame from the terminal in {self._timing.max_attempts} tries")

    def _await_frame(self, deadline: float) -> Frame | FrameError | None:
        while (event := self._next_event(deadline)) is not None:
            if isinstance(event, Frame):
                return event
            if isinstance(event, FrameError) and event.fault is not FrameFault.STRAY:
                self._count_fault(event)
                return event
            if isinstance(event, ControlByte) and event.code is Control.ENQ:
                self._write(Control.ACK.byte)  # it missed our ACK and asks again
        interrupted = self._parser.reset()
        if interrupted is not None:
            self._count_fault(interrupted)
        return interrupted

    def _await_control(self, wanted: set[Control], timeout: float) -> Control | None:
        deadline = time.monotonic() + timeout
        while (event := self._next_event(deadline)) is not None:
            if isinstance(event, ControlByte) and event.code in wanted:
                return event.code
            self._note_ignored(event)
        return None

    def _next_event(self, deadline: float) -> ParserEvent | None:
        while not self._events:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self._take(self._read(min(left, POLL_S)))
        return self._events.popleft()

    def _take(self, data: bytes) -> None:
        was_in_frame = self._parser.is_in_frame
        self._events.extend(self._parser.feed(data))
        now = time.monotonic()
        if self._parser.is_in_frame and not was_in_frame:
            self._frame_started = now
        elif self._parser.is_in_frame and now - self._frame_started > self._timing.frame_timeout_s:
            # a frame takes milliseconds: one this old was abandoned (noise, a cut
            # line) and would swallow every control byte that follows
            interrupted = self._parser.reset()
            if interrupted is not None:
                self._count_fault(interrupted)

    def _note_ignored(self, event: ParserEvent) -> None:
        if isinstance(event, FrameError):
            self._count_fault(event)
        log.debug("ignored on the terminal's line: %r", event)

    def _count_fault(self, error: FrameError) -> None:
        self.counters.frame_errors += 1
        faults = self.counters.faults
        faults[error.fault.value] = faults.get(error.fault.value, 0) + 1

    def _prepare_line(self) -> None:
        self._ensure_port()
        try:
            self._forget_stale_input()
        except LinkLost:  # it dropped while idle: nothing is lost by opening it again now
            self._drop_port()
            self._ensure_port()
            self._forget_stale_input()

    def _forget_stale_input(self) -> None:
        # a late session the terminal opened while nobody listened: its answer is
        # recovered by duplicata, so its bytes must not be mistaken for a reply
        self._port_or_raise().discard_input()
        self._parser.reset()
        self._events.clear()

    def _read(self, timeout: float) -> bytes:
        if self._closing.is_set():
            raise LinkLost("the payment terminal is closing")
        return self._guarded(lambda port: port.read(timeout))

    def _write(self, data: bytes) -> None:
        self._guarded(lambda port: port.write(data))

    def _guarded(self, action: Callable[[SerialPort], bytes | None]) -> bytes:
        try:
            return action(self._port_or_raise()) or b""
        except LinkLost:
            self._drop_port()  # reopened by the next session
            raise

    def _ensure_port(self) -> None:
        if self._closing.is_set():
            raise DeviceUnavailable("the payment terminal is closed")
        if self._port is None:
            self._port = self._open_port()
            self.counters.reopened += 1

    def _port_or_raise(self) -> SerialPort:
        if self._port is None:
            raise LinkLost("the payment terminal's line is not open")
        return self._port

    def _drop_port(self) -> None:
        port, self._port = self._port, None
        self._parser.reset()
        self._events.clear()
        if port is not None:
            port.close()
