"""``python -m drivers.pos.simulator [--control-socket PATH] [--link PATH]``: a Concert terminal.

Starts a terminal on a fresh pty, announces ``ready {"path": <stable
link>, "pty": <current pty>}`` and serves the register until its standard
input closes (or SIGTERM). Commands come on stdin and, with
``--control-socket``, on that Unix socket (see ``drivers.pos.simulator.device``).
"""

from __future__ import annotations

import argparse
import shutil
import signal
import sys
import tempfile
import threading
from pathlib import Path

from drivers.pos.simulator.device import SimulatedTerminal
from drivers.pos.simulator.line import Faults, SimLine, SimTiming, TerminalSide
from drivers.sim.control import Control


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m drivers.pos.simulator", description=__doc__)
    parser.add_argument("--control-socket", type=Path, help="also take commands on this socket")
    parser.add_argument("--link", type=Path, help="the stable path to announce (default: temp)")
    parser.add_argument("--ack-timeout", type=float, default=1.0, help="seconds to wait for ACK")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the simulator until its control channel closes."""
    args = _arguments(argv)
    scratch = None if args.link else Path(tempfile.mkdtemp(prefix="stationkit-pos-"))
    link: Path = args.link if scratch is None else scratch / "terminal"
    control = Control(socket_path=args.control_socket)
    line = SimLine(link)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # so the cleanup below runs
    try:
        _serve(control, line, SimTiming(ack_timeout_s=args.ack_timeout))
    finally:
        line.close()
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
        if args.control_socket is not None:
            args.control_socket.unlink(missing_ok=True)
    return 0


def _serve(control: Control, line: SimLine, timing: SimTiming) -> None:
    terminal = SimulatedTerminal(TerminalSide(line, timing, Faults(), control.emit), control.emit)
    stop = threading.Event()
    worker = threading.Thread(target=terminal.run, args=(stop,), name="pos-line", daemon=True)
    worker.start()
    try:
        control.emit("ready", path=str(line.link_path), pty=line.pty_path)
        control.serve(terminal.handlers())
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second request must not cut the join
        stop.set()
        worker.join(2.0)


if __name__ == "__main__":
    sys.exit(main())
