"""Starting a unit (gate, TVM) as a process of its own, for the demo and the end-to-end tests.

``stationkit gate enrol`` and ``stationkit gate run`` run exactly as on a
board; the unit's standard output (one JSON line per event) is read into an
``EventStream`` so the caller can wait for decisions and passages.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from device.enrolment import UnitNotEnrolled
from device.profile import ProfileError
from drivers.sim.control import EventStream
from stationkit.processes import code_path_env

STOP_TIMEOUT_S = 20.0
T = TypeVar("T")
log = logging.getLogger("stationkit.unit")


def logged(run: Callable[[], T]) -> T:
    """Run a unit; a crash leaves its whole traceback in the log before it ends the process.

    An operator's mistake (a unit not enrolled, a profile central disagrees
    with) is no crash: its one line is said by the command line, no traceback.
    """
    try:
        return run()
    except (UnitNotEnrolled, ProfileError):
        raise
    except Exception:
        log.exception("the unit stopped on an error")
        raise


def enrol_unit(kind: str, profile: Path, central_url: str, code: str) -> str:
    """Run ``stationkit <kind> enrol``; its one-line answer, or RuntimeError with its error."""
    command = [sys.executable, "-m", "stationkit", kind, "enrol"]
    command += ["--central", central_url, "--code", code, "--config", str(profile)]
    done = subprocess.run(command, env=code_path_env(), capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise RuntimeError(f"{kind} enrol failed: {done.stderr.strip() or done.stdout.strip()}")
    return done.stdout.strip()


class UnitProcess(EventStream):
    """One running unit: its events, and a clean or a brutal way to stop it."""

    def __init__(self, kind: str, profile: Path, log: Path, *options: str) -> None:
        super().__init__(f"{kind} {profile.name}")
        self.command = [sys.executable, "-m", "stationkit", kind, "run", "--config", str(profile)]
        self.command += options  # e.g. a TVM's ``--script JOURNEY``
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, ready_event: str, timeout: float = 60.0) -> UnitProcess:
        """Start the unit and wait for its ``ready_event`` (e.g. ``gate_started``)."""
        env = {**code_path_env(), "PYGAME_HIDE_SUPPORT_PROMPT": "1"}
        with self.log.open("ab") as errors:
            self.process = subprocess.Popen(
                self.command,
                stdout=subprocess.PIPE,
                stderr=errors,
                env=env,
                start_new_session=True,  # kill() takes its simulators too
            )
        assert self.process.stdout is not None
        self.read_from(self.process.stdout)
        self.expect(ready_event, timeout)
        return self

    def stop(self) -> int | None:
        """SIGTERM, wait, SIGKILL if it will not go; its exit status."""
        process = self.process
        if process is None:
            return None
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.kill()
        self._kill_group()
        self.join()
        return process.returncode

    def kill(self) -> None:
        """SIGKILL the unit and everything it started: a power cut, as far as software goes."""
        if self.process is not None:
            self._kill_group()
            self.process.wait(STOP_TIMEOUT_S)
            self.join()

    def _kill_group(self) -> None:
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)
