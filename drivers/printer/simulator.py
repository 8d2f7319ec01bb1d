"""The ticket printer simulator: a network receipt printer on a TCP port, as a process.

``python -m drivers.printer.simulator [--control-socket PATH] [--output DIR]
[--host H] [--port P] [--paper-width DOTS]`` listens on TCP (an ephemeral port
by default) like a network printer on port 9100: it keeps every byte each
connection sends (``connection-NNNN.bin`` in the output folder), answers
``DLE EOT`` status queries from its scripted state, and draws each cut ticket
as ``ticket-NNNN.png``. Its first event is ``ready`` with ``host``, ``port``
and ``output_dir``; each ticket is a ``ticket_printed`` event with its
``path``. Commands (JSON lines on stdin or the control socket): ``paper``
{state: ok|near_end|out, after_bytes?}, ``cover`` {open}, ``offline`` {on},
``error`` {kind: none|cutter|unrecoverable|auto_recoverable}, ``silence``
{on}, ``garbage`` {on}, ``disconnect`` (drops every connection) and
``status`` (emits the state and byte counts).
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import socket
import tempfile
import threading
from pathlib import Path
from typing import Any

from drivers.printer.mechanism import ERROR_KINDS, PAPER_STATES, PrinterMechanism
from drivers.printer.render import RenderedPage
from drivers.sim.control import Control, Message

DEFAULT_WIDTH_DOTS = 576
RECEIVE_CHUNK = 65536


class PrinterSimulator:
    """The TCP side and the control side around one ``PrinterMechanism``."""

    def __init__(self, control: Control, output_dir: Path, width_dots: int) -> None:
        self.control = control
        self.output_dir = output_dir
        self.mechanism = PrinterMechanism(width_dots, self._page_printed)
        self._tickets = itertools.count(1)
        self._connection_numbers = itertools.count(1)
        self._connections: dict[int, socket.socket] = {}
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None

    def listen(self, host: str, port: int) -> tuple[str, int]:
        """Start accepting printer connections; the address actually bound."""
        listener = socket.create_server((host, port))
        self._listener = listener
        threading.Thread(target=self._accept, name="printer-accept", daemon=True).start()
        bound_host, bound_port = listener.getsockname()[:2]
        return str(bound_host), int(bound_port)

    def handlers(self) -> dict[str, Any]:
        """The control commands this simulator obeys."""
        return {
            "paper": self._paper,
            "cover": lambda m: self._set(m, "cover_open", "open"),
            "offline": lambda m: self._set(m, "offline", "on"),
            "silence": lambda m: self._set(m, "silent", "on"),
            "garbage": lambda m: self._set(m, "garbage", "on"),
            "error": self._error,
            "disconnect": self._disconnect,
            "status": self._status,
        }

    def _accept(self) -> None:
        assert self._listener is not None
        while True:
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return
            number = next(self._connection_numbers)
            with self._lock:
                self._connections[number] = connection
            threading.Thread(
                target=self._serve, args=(number, connection), name="printer-conn", daemon=True
            ).start()

    def _serve(self, number: int, connection: socket.socket) -> None:
        """Keep, interpret and answer one connection's bytes until it closes."""
        self.control.emit("connected", connection=number)
        log = self.output_dir / f"connection-{number:04d}.bin"
        with contextlib.suppress(OSError), connection, log.open("ab") as kept:
            while data := connection.recv(RECEIVE_CHUNK):
                kept.write(data)
                kept.flush()
                answers = self.mechanism.receive(data)
                if answers:
                    connection.sendall(answers)
        with self._lock:
            self._connections.pop(number, None)
        self.control.emit("disconnected", connection=number)

    def _page_printed(self, page: RenderedPage) -> None:
        path = self.output_dir / f"ticket-{next(self._tickets):04d}.png"
        try:
            page.image.save(path)
        except OSError as exc:  # a full disk must not stop the printer answering
            self.control.emit("error", message=f"cannot save {path}: {exc}")
            return
        self.control.emit(
            "ticket_printed",
            path=str(path),
            height=page.image.height,
            unknown_commands=page.unknown_commands,
            truncated=page.truncated,
        )

    def _paper(self, message: Message) -> None:
        state = message.get("state")
        if state not in PAPER_STATES:
            raise ValueError(f"paper state must be one of {', '.join(PAPER_STATES)}")
        after = message.get("after_bytes")
        if after is not None and (not isinstance(after, int) or after < 0):
            raise ValueError("after_bytes must be a whole number of bytes")
        self.mechanism.set_paper(state, after)
        self._status(message)

    def _error(self, message: Message) -> None:
        kind = message.get("kind")
        if kind not in ERROR_KINDS:
            raise ValueError(f"error kind must be one of {', '.join(ERROR_KINDS)}")
        self.mechanism.update(error=kind)
        self._status(message)

    def _set(self, message: Message, field: str, key: str) -> None:
        value = message.get(key)
        if not isinstance(value, bool):
            raise ValueError(f"{message['command']} needs {key!r}: true or false")
        self.mechanism.update(**{field: value})
        self._status(message)

    def _disconnect(self, _message: Message) -> None:
        with self._lock:
            connections = list(self._connections.values())
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        self.control.emit("disconnecting", connections=len(connections))

    def _status(self, _message: Message) -> None:
        with self._lock:
            connections = len(self._connections)
        self.control.emit("status", connections=connections, **self.mechanism.snapshot())


def main(argv: list[str] | None = None) -> None:
    """Run the simulator until its stdin closes."""
    parser = argparse.ArgumentParser(prog="python -m drivers.printer.simulator")
    parser.add_argument("--control-socket", type=Path)
    parser.add_argument("--output", type=Path)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--paper-width", type=int, default=DEFAULT_WIDTH_DOTS)
    args = parser.parse_args(argv)
    output = args.output or Path(tempfile.mkdtemp(prefix="stationkit-printer-"))
    output.mkdir(parents=True, exist_ok=True)
    control = Control(socket_path=args.control_socket)
    simulator = PrinterSimulator(control, output, args.paper_width)
    host, port = simulator.listen(args.host, args.port)
    control.emit("ready", host=host, port=port, output_dir=str(output))
    control.serve(simulator.handlers())


if __name__ == "__main__":
    main()
