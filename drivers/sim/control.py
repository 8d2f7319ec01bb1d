"""A simulator's control channel: commands in, events out, as JSON lines.

The simulator side (``Control``) reads commands such as ``{"command":
"scan", "text": "..."}`` and reports what happened as events such as
``{"event": "ready", "path": "/dev/pts/7"}``; the first event of every
simulator is ``ready``, with what the unit needs to reach it. Commands come
on stdin and, when the simulator is given a control socket, from every
connection to that Unix socket; events go to stdout and to every connection.
So whoever started the simulator steers it over its pipes
(``SimulatorProcess``), and anyone else, such as a test steering the
simulators a unit started for itself, over the socket (``SimulatorClient``).
A line that is not a command object is answered with an ``error`` event; it
never stops the simulator.
"""

from __future__ import annotations

import contextlib
import io
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

import orjson

Message = dict[str, Any]
Stream = IO[bytes] | io.BufferedIOBase  # a pipe, or a socket's file
Handler = Callable[[Message], None]
STOP_TIMEOUT_S = 5.0
MAX_EVENTS = 20_000  # events a steering end keeps; older ones are forgotten


class Control:
    """The simulator's end of the channel."""

    def __init__(
        self,
        commands: IO[bytes] | None = None,
        events: IO[bytes] | None = None,
        socket_path: Path | None = None,
    ) -> None:
        self._in = commands if commands is not None else sys.stdin.buffer
        self._outs: list[Stream] = [events if events is not None else sys.stdout.buffer]
        self._lock = threading.Lock()
        self._socket_path = socket_path
        self._listener = None if socket_path is None else _listen(socket_path)
        self._connections: list[socket.socket] = []

    def emit(self, event: str, **fields: Any) -> None:
        """Report one event to every listener (safe from any thread)."""
        line = orjson.dumps({"event": event, **fields}) + b"\n"
        with self._lock:
            for out in list(self._outs):
                try:
                    out.write(line)
                    out.flush()
                except (OSError, ValueError):  # that listener went away
                    if out is not self._outs[0]:
                        self._outs.remove(out)

    def commands(self, lines: Iterable[bytes] | None = None) -> Iterator[Message]:
        """Each well-formed command of ``lines`` (stdin by default) until they end."""
        for raw in self._in if lines is None else lines:
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

    def serve(self, handlers: Mapping[str, Handler], stdin: bool = True) -> None:
        """Dispatch commands from stdin (and the socket) until stdin closes.

        With ``stdin=False`` only the socket is served, from a thread, and
        this returns at once (a simulator living inside the unit's process).
        """
        lock = threading.Lock()  # one command at a time, whichever channel it came on
        if self._listener is not None:
            threading.Thread(
                target=self._accept, args=(handlers, lock), name="sim-control", daemon=True
            ).start()
        if stdin:
            self._dispatch(self.commands(), handlers, lock)

    def _dispatch(
        self, commands: Iterator[Message], handlers: Mapping[str, Handler], lock: threading.Lock
    ) -> None:
        for message in commands:
            handler = handlers.get(message["command"])
            if handler is None:
                known = ", ".join(sorted(handlers))
                self.emit("error", message=f"unknown command {message['command']!r}; {known}")
                continue
            try:
                with lock:
                    handler(message)
            except Exception as exc:  # a bad command must not stop the simulator
                self.emit("error", command=message["command"], message=str(exc))

    def close(self) -> None:
        """Stop serving the socket: hang up every connection and remove the socket file.

        A simulator inside the unit's process (``serve(stdin=False)``) calls
        this when the unit closes the device, so no thread, descriptor or
        socket file outlives it. Events still go to the events stream.
        """
        listener, self._listener = self._listener, None
        if listener is None:
            return
        with contextlib.suppress(OSError):
            listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread
        listener.close()
        with self._lock:
            connections, self._connections = self._connections, []
            del self._outs[1:]
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()
        if self._socket_path is not None:
            self._socket_path.unlink(missing_ok=True)

    def _accept(self, handlers: Mapping[str, Handler], lock: threading.Lock) -> None:
        listener = self._listener
        while listener is not None:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with self._lock:
                if self._listener is None:  # closed meanwhile
                    conn.close()
                    return
                stream = conn.makefile("rwb")
                self._outs.append(stream)
                self._connections.append(conn)
            threading.Thread(
                target=self._dispatch,
                args=(self.commands(stream), handlers, lock),
                name="sim-control-conn",
                daemon=True,
            ).start()


def _listen(path: Path) -> socket.socket:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    os.chmod(path, 0o600)
    listener.listen(8)
    return listener


class SimulatorError(RuntimeError):
    """The simulator did not start, or an awaited event did not come."""


class _Events:
    """The events one steering end has seen; each ``expect`` claims one."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._events: list[Message] = []
        self._claimed: set[int] = set()
        self._seen = threading.Condition()
        self._reader: threading.Thread | None = None

    def read_from(self, stream: Stream) -> None:
        self._reader = threading.Thread(
            target=self._read, args=(stream,), name="sim-events", daemon=True
        )
        self._reader.start()

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
                if left <= 0 or self._reader is None or not self._reader.is_alive():
                    raise SimulatorError(f"{self.name}: no {event!r} event in {timeout} s")
                self._seen.wait(min(left, 0.1))

    def events(self, event: str | None = None) -> list[Message]:
        """Every event seen so far (of one kind, if given)."""
        with self._seen:
            return [e for e in self._events if event is None or e["event"] == event]

    def _forget_oldest(self) -> None:
        """Keep memory bounded in a long run (the demo): drop the older half past the cap."""
        if len(self._events) <= MAX_EVENTS:
            return
        cut = MAX_EVENTS // 2
        del self._events[:cut]
        self._claimed = {index - cut for index in self._claimed if index >= cut}

    def join(self) -> None:
        if self._reader is not None:
            self._reader.join(STOP_TIMEOUT_S)

    def _read(self, stream: Stream) -> None:
        with contextlib.suppress(OSError, ValueError):
            for raw in stream:
                try:
                    message = orjson.loads(raw)
                except orjson.JSONDecodeError:
                    continue  # stray output (a library's print) is not an event
                if isinstance(message, dict) and isinstance(message.get("event"), str):
                    with self._seen:
                        self._events.append(message)
                        self._forget_oldest()
                        self._seen.notify_all()
        with self._seen:
            self._seen.notify_all()


class SimulatorProcess(_Events):
    """Starts a simulator process and steers it over its pipes."""

    def __init__(self, module: str, *args: str, env: Mapping[str, str] | None = None) -> None:
        super().__init__(module)
        self.command = [sys.executable, "-m", module, *args]
        self.env = None if env is None else dict(env)
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 15.0) -> Message:
        """Start the process; its ``ready`` event."""
        self.process = subprocess.Popen(
            self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=self.env
        )
        assert self.process.stdout is not None
        self.read_from(self.process.stdout)
        return self.expect("ready", timeout)

    def send(self, command: str, **fields: Any) -> None:
        """Send one command."""
        if self.process is None or self.process.stdin is None:
            raise SimulatorError("the simulator is not running")
        self.process.stdin.write(orjson.dumps({"command": command, **fields}) + b"\n")
        self.process.stdin.flush()

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
        self.join()

    def __enter__(self) -> SimulatorProcess:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


class SimulatorClient(_Events):
    """Steers a simulator someone else started, over its control socket."""

    def __init__(self, socket_path: Path, timeout: float = 10.0) -> None:
        super().__init__(str(socket_path))
        deadline = time.monotonic() + timeout
        while True:
            self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                self._sock.connect(str(socket_path))
                break
            except OSError as exc:
                self._sock.close()
                if time.monotonic() > deadline:
                    raise SimulatorError(f"no simulator listens on {socket_path}") from exc
                time.sleep(0.05)
        self._stream = self._sock.makefile("rwb")
        self.read_from(self._stream)

    def send(self, command: str, **fields: Any) -> None:
        """Send one command."""
        self._stream.write(orjson.dumps({"command": command, **fields}) + b"\n")
        self._stream.flush()

    def close(self) -> None:
        """Hang up; the simulator goes on."""
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        self._sock.close()
        self.join()

    def __enter__(self) -> SimulatorClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
