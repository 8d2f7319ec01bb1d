"""The simulated terminal's serial line: a pty behind a stable path, and its Concert sessions.

The register opens a symbolic link (like udev's ``/dev/serial/by-id/...``)
that points at the current pty. Dropping the line closes that pty, so the
register sees its line fail mid-exchange, after the link has been pointed
at a fresh pty: the register's next session reopens the same path and
finds the terminal again, as it would after a cable was plugged back in.

``TerminalSide`` speaks the terminal's half of Concert, written apart from
the register's link on purpose (the two halves must not share a mistake):
it serves the register's sessions and opens its own to send answers, with
faults on request (NAK the register's frames, corrupt the LRC of its own).
When the register claims the line while the terminal waits to send, the
terminal yields; its answer then stays available by duplicata.
"""

from __future__ import annotations

import contextlib
import os
import select
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from threading import Event
from typing import Any

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
from drivers.pos.records import RecordError, decode_answer
from drivers.sim.pty import Pty, open_pty

POLL_S = 0.05
Emit = Callable[..., None]


@dataclass
class SimTiming:
    """How long the terminal waits for the register, and how often it tries."""

    ack_timeout_s: float = 1.0
    frame_timeout_s: float = 3.0
    attempts: int = 3


@dataclass
class Faults:
    """Faults to play on the next frames: counts left."""

    nak_requests: int = 0  # NAK this many of the register's good frames
    corrupt_answers: int = 0  # send this many of our frames with a wrong LRC first


class SimLine:
    """A pty the register reaches through a stable symbolic link."""

    def __init__(self, link_path: Path) -> None:
        self.link_path = link_path
        self._pty = open_pty()
        self._publish(self._pty)

    @property
    def pty_path(self) -> str:
        """The pty the link points at now."""
        return self._pty.path

    def read(self, timeout: float) -> bytes:
        """Bytes from the register within ``timeout`` (b"" if none)."""
        try:
            ready, _, _ = select.select([self._pty.master], [], [], timeout)
            return os.read(self._pty.master, 1024) if ready else b""
        except (OSError, ValueError):  # the line was closed under us (shutting down)
            return b""

    def write(self, data: bytes) -> None:
        """Bytes to the register."""
        with contextlib.suppress(OSError):  # a register that is gone just does not hear
            os.write(self._pty.master, data)

    def drop(self) -> None:
        """Cut the line: point the link at a new pty, then close the old one."""
        old, self._pty = self._pty, open_pty()
        self._publish(self._pty)
        old.close()

    def close(self) -> None:
        """Close the pty and remove the link."""
        self._pty.close()
        self.link_path.unlink(missing_ok=True)

    def _publish(self, pty: Pty) -> None:
        staging = self.link_path.with_name(self.link_path.name + ".new")
        staging.unlink(missing_ok=True)
        staging.symlink_to(pty.path)
        os.replace(staging, self.link_path)  # atomic: the register never sees no link


class TerminalSide:
    """The terminal's half of Concert sessions on a ``SimLine``."""

    def __init__(self, line: SimLine, timing: SimTiming, faults: Faults, emit: Emit) -> None:
        self.line = line
        self.timing = timing
        self.faults = faults
        self._emit = emit
        self._parser = FrameParser()
        self._events: deque[ParserEvent] = deque()
        self._register_waiting = False  # the register's ENQ arrived while we were sending
        self._frame_started = 0.0

    def await_request(self, stop: Event) -> bytes | None:
        """Serve one register session; its record, or None (nothing whole came, or stop)."""
        if not self._register_waiting and not self._await_enq(stop):
            return None
        self._register_waiting = False
        self.line.write(Control.ACK.byte)
        payload = self._take_frame()
        if payload is not None:
            self._await_control({Control.EOT}, self.timing.ack_timeout_s)
        return payload

    def send(self, payload: bytes) -> bool:
        """Send a record in a session of ours; False if the register never took it."""
        if not self._claim_line():
            return False
        for attempt in range(self.timing.attempts):
            self.line.write(self._frame(payload))
            self._emit("frame_sent", attempt=attempt + 1, **_answer_fields(payload))
            reply = self._await_control({Control.ACK, Control.NAK}, self.timing.ack_timeout_s)
            if reply is Control.ACK:
                self.line.write(Control.EOT.byte)
                return True
        self.line.write(Control.EOT.byte)
        return False

    def stay_busy(self, seconds: float, stop: Event) -> None:
        """Work on a transaction: whatever the register sends meanwhile goes unanswered."""
        deadline = time.monotonic() + seconds
        while not stop.is_set() and (left := deadline - time.monotonic()) > 0:
            ignored = self.line.read(min(left, POLL_S))
            if ignored:
                self._emit("busy_ignored", size=len(ignored))
        self.forget_input()

    def forget_input(self) -> None:
        """Drop what the parser holds (a new pty, or stale bytes)."""
        self._parser.reset()
        self._events.clear()

    def _claim_line(self) -> bool:
        for _ in range(self.timing.attempts):
            self.line.write(Control.ENQ.byte)
            reply = self._await_control({Control.ACK, Control.ENQ}, self.timing.ack_timeout_s)
            if reply is Control.ACK:
                return True
            if reply is Control.ENQ:  # the register wants the line: it has priority
                self._register_waiting = True
                self._emit("yielded_to_register")
                return False
        return False

    def _frame(self, payload: bytes) -> bytes:
        frame = encode_frame(payload)
        if self.faults.corrupt_answers > 0:
            self.faults.corrupt_answers -= 1
            return frame[:-1] + bytes([frame[-1] ^ 0x5A])
        return frame

    def _await_enq(self, stop: Event) -> bool:
        while not stop.is_set():
            event = self._next_event(time.monotonic() + POLL_S * 4)
            if isinstance(event, ControlByte) and event.code is Control.ENQ:
                return True
        return False

    def _take_frame(self) -> bytes | None:
        for _ in range(self.timing.attempts):
            event = self._await_frame(time.monotonic() + self.timing.frame_timeout_s)
            if isinstance(event, Frame) and self.faults.nak_requests > 0:
                self.faults.nak_requests -= 1
                self._emit("nak_sent", reason="scripted")
            elif isinstance(event, Frame):
                self.line.write(Control.ACK.byte)
                return event.payload
            else:
                self._emit("nak_sent", reason=event.fault.value if event else "timeout")
            self.line.write(Control.NAK.byte)
        return None

    def _await_frame(self, deadline: float) -> Frame | FrameError | None:
        while (event := self._next_event(deadline)) is not None:
            if isinstance(event, Frame):
                return event
            if isinstance(event, FrameError) and event.fault is not FrameFault.STRAY:
                return event
        return self._parser.reset()

    def _await_control(self, wanted: set[Control], timeout: float) -> Control | None:
        deadline = time.monotonic() + timeout
        while (event := self._next_event(deadline)) is not None:
            if isinstance(event, ControlByte) and event.code in wanted:
                return event.code
        return None

    def _next_event(self, deadline: float) -> ParserEvent | None:
        while not self._events:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self._take(self.line.read(min(left, POLL_S)))
        return self._events.popleft()

    def _take(self, data: bytes) -> None:
        was_in_frame = self._parser.is_in_frame
        self._events.extend(self._parser.feed(data))
        now = time.monotonic()
        if self._parser.is_in_frame and not was_in_frame:
            self._frame_started = now
        elif self._parser.is_in_frame and now - self._frame_started > self.timing.frame_timeout_s:
            self._parser.reset()  # abandoned: it would swallow the register's next ENQ
            self._emit("frame_abandoned")


def _answer_fields(payload: bytes) -> dict[str, Any]:
    # events show what the register will see: the card masked, never the raw report
    try:
        answer = decode_answer(payload)
    except RecordError:
        return {"size": len(payload)}
    return {
        "status": answer.status,
        "amount": answer.amount,
        "private": answer.private,
        "card": answer.report.card_masked,
        "acquirer": answer.report.acquirer,
    }
