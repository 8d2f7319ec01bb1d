"""A simulator's control channel: commands in on stdin, events out on stdout, as JSON lines.

The simulator side (``Control``) reads commands such as ``{"command":
"scan", "text": "..."}`` and reports what happened as events such as
``{"event": "ready", "path": "/dev/pts/7"}``; the first event of every
simulator is ``ready``, with what the unit needs to reach it. The steering
side (``SimulatorProcess``) starts a simulator as a process (``python -m
MODULE``), waits for ``ready``, sends commands and waits for events. A line
that is not a command object is answered with an ``error`` event; it never
stops the simulator.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import IO, Any

import orjson

Message = dict[str, Any]
Handler = Callable[[Message], None]
STOP_TIMEOUT_S = 5.0


class Control:
    """The simulator's end of the channel."""

    def __init__(self, commands: IO[bytes] | None = None, events: IO[bytes] | None = None):
        self._in = commands if commands is not None else sys.stdin.buffer
        self._out = events if events is not None else sys.stdout.buffer
        self._lock = threading.Lock()

    def emit(self, event: str, **fields: Any) -> None:
        """Report one event (safe from any thread)."""
        line = orjson.dumps({"event": event, **fields}) + b"\n"
        with self._lock, contextlib.suppress(BrokenPipeError, ValueError):
            self._out.write(line)
            self._out.flush()

    def commands(self) -> Iterator[Message]:
        """Each well-formed command until the steering side closes the channel."""
        for raw in self._in:
            if not raw.strip():
                continue
            try:
                message = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                self.emit("error", message=f"not JSON: {exc}")
                continue
            if not isinstance(message, dict) or not isinstance(message.get("command"), str):
                self.emit("error", message='a command is an object with a "command" string')
                continue
            yield message

    def serve(self, handlers: Mapping[str, Handler]) -> None:
        """Dispatch commands to handlers until the channel closes; errors become events."""
        for message in self.commands():
            handler = handlers.get(message["command"])
            if handler is None:
                known = ", ".join(sorted(handlers))
                self.emit("error", message=f"unknown command {message['command']!r}; {known}")
                continue
            try:
                handler(message)
            except Exception as exc:  # a bad command must not stop the simulator
                self.emit("error", command=message["command"], message=str(exc))


class SimulatorError(RuntimeError):
    """The simulator did not start, or an awaited event did not come."""


class SimulatorProcess:
    """Starts a simulator process and steers it over its control channel."""

    def __init__(self, module: str, *args: str, env: Mapping[str, str] | None = None) -> None:
        self.command = [sys.executable, "-m", module, *args]
        self.env = None if env is None else dict(env)
        self.process: subprocess.Popen[bytes] | None = None
        self._events: list[Message] = []
        self._claimed: set[int] = set()  # indexes of events an ``expect`` returned
        self._seen = threading.Condition()
        self._reader: threading.Thread | None = None

    def start(self, timeout: float = 15.0) -> Message:
        """Start the process; the fields of its ``ready`` event."""
        self.process = subprocess.Popen(
            self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=self.env
        )
        self._reader = threading.Thread(target=self._read, name="sim-events", daemon=True)
        self._reader.start()
        return self.expect("ready", timeout)

    def send(self, command: str, **fields: Any) -> None:
        """Send one command."""
        if self.process is None or self.process.stdin is None:
            raise SimulatorError("the simulator is not running")
        self.process.stdin.write(orjson.dumps({"command": command, **fields}) + b"\n")
        self.process.stdin.flush()

    def expect(
        self, event: str, timeout: float = 5.0, where: Callable[[Message], bool] | None = None
    ) -> Message:
        """Wait for the next unclaimed event of this kind (matching ``where``) and claim it."""
        deadline = time.monotonic() + timeout
        with self._seen:
            while True:
                for index, found in enumerate(self._events):
                    if index in self._claimed or found["event"] != event:
                        continue
                    if where is None or where(found):
                        self._claimed.add(index)
                        return found
                left = deadline - time.monotonic()
                if left <= 0 or not self._running_or_unread():
                    raise SimulatorError(f"{self.command[2]}: no {event!r} event in {timeout} s")
                self._seen.wait(min(left, 0.1))

    def events(self, event: str | None = None) -> list[Message]:
        """Every event seen so far (of one kind, if given)."""
        with self._seen:
            return [e for e in self._events if event is None or e["event"] == event]

    def stop(self) -> None:
        """Close the channel and end the process (killed if it does not stop)."""
        process = self.process
        if process is None:
            return
        with contextlib.suppress(OSError):
            if process.stdin is not None:
                process.stdin.close()
        with contextlib.suppress(ProcessLookupError):
            process.terminate()
        try:
            process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if self._reader is not None:
            self._reader.join(STOP_TIMEOUT_S)

    def __enter__(self) -> SimulatorProcess:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def _running_or_unread(self) -> bool:
        return self._reader is not None and self._reader.is_alive()

    def _read(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for raw in self.process.stdout:
            try:
                message = orjson.loads(raw)
            except orjson.JSONDecodeError:
                continue  # stray output (a library's print) is not an event
            if isinstance(message, dict) and isinstance(message.get("event"), str):
                with self._seen:
                    self._events.append(message)
                    self._seen.notify_all()
        with self._seen:
            self._seen.notify_all()
