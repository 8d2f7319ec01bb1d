"""A simulator that only echoes: the control channel's test double (run as a module)."""

from __future__ import annotations

import sys
from pathlib import Path

from drivers.sim.control import Control, Message

control = Control(socket_path=Path(sys.argv[1]) if len(sys.argv) > 1 else None)


def _echo(message: Message) -> None:
    control.emit("echoed", text=message["text"])


def _fail(_message: Message) -> None:
    raise RuntimeError("asked to fail")


if __name__ == "__main__":
    control.emit("ready", pid=0)
    control.serve({"echo": _echo, "fail": _fail})
