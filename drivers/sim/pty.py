"""A raw pseudo-terminal pair: the simulator keeps the master, the unit opens the slave path.

On a pty the baud rate is ignored and modem lines (DTR, RTS, CTS) raise
``OSError`` 25; a simulator that wants a slow line sleeps between bytes.
"""

from __future__ import annotations

import contextlib
import os
import tty
from dataclasses import dataclass


@dataclass
class Pty:
    """An open pty pair: ``master`` is ours, ``path`` is the device the unit opens."""

    master: int
    slave: int
    path: str

    def close(self) -> None:
        """Close both ends (the unit then sees the line drop)."""
        for fd in (self.master, self.slave):
            with contextlib.suppress(OSError):
                os.close(fd)


def open_pty() -> Pty:
    """A new raw pty pair: no echo, no line editing, bytes pass as they are."""
    master, slave = os.openpty()
    tty.setraw(master)
    tty.setraw(slave)
    return Pty(master, slave, os.ttyname(slave))
