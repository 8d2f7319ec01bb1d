"""Making sure pcscd answers for the sim backend: start it if need be, wait for the reader.

The sim backend needs the PC/SC daemon with vsmartcard's virtual reader.
``ensure_pcscd`` asks PC/SC for a reader matching the configured name; if
the service does not answer it starts ``pcscd --foreground --auto-exit`` in
its own session (so it outlives the caller and serves every process; it
quits by itself a minute after its last client leaves) and waits until the
reader is listed. A file lock makes two processes calling it at once start
one daemon, not two. The ``pcsc`` backend never starts pcscd: on a board
the system runs it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from drivers.card_reader.errors import PcscServiceDown, ReaderLost
from drivers.card_reader.pcsc import PcscSlot
from drivers.errors import DeviceUnavailable

LOCK_PATH = Path(tempfile.gettempdir()) / "stationkit-pcscd.lock"
LOG_PATH = Path(tempfile.gettempdir()) / "stationkit-pcscd.log"
STARTED_PID_PATH = Path(tempfile.gettempdir()) / "stationkit-pcscd.pid"
POLL_S = 0.05
_SBIN = ("/usr/sbin", "/sbin", "/usr/local/sbin")  # pcscd's home; not on every user's PATH
_daemons: list[subprocess.Popen[bytes]] = []  # what this process started, to reap when they end


def ensure_pcscd(reader_match: str, timeout_s: float = 10.0, lock_path: Path = LOCK_PATH) -> bool:
    """Have pcscd list a reader matching ``reader_match``; whether this call started it.

    Raises ``DeviceUnavailable`` with what to do when pcscd is not installed,
    will not start, or runs without such a reader (vsmartcard-vpcd missing).
    """
    deadline = time.monotonic() + timeout_s
    _reap()
    with _locked(lock_path, deadline):
        state = _probe(reader_match)
        if state is None:
            return False
        process = _start_pcscd() if isinstance(state, PcscServiceDown) else None
        _wait_for_reader(reader_match, deadline, process)
        if process is None:
            return False
        STARTED_PID_PATH.write_text(f"{process.pid}\n")
        return True


def started_pcscd_pid() -> int | None:
    """The pid of the pcscd that ``ensure_pcscd`` last started (in any process), if known."""
    try:
        return int(STARTED_PID_PATH.read_text().strip())
    except (OSError, ValueError):
        return None


def _reap() -> None:
    """Collect the daemons this process started that have quit (auto-exit, or stopped)."""
    _daemons[:] = [process for process in _daemons if process.poll() is None]


def _probe(reader_match: str) -> DeviceUnavailable | None:
    """``None`` if a matching reader is listed, else why not."""
    slot = PcscSlot(reader_match)
    try:
        slot.attach()
    except (PcscServiceDown, ReaderLost) as exc:
        return exc
    finally:
        slot.detach()
    return None


def _start_pcscd() -> subprocess.Popen[bytes]:
    binary = shutil.which("pcscd") or shutil.which("pcscd", path=os.pathsep.join(_SBIN))
    if binary is None:
        raise DeviceUnavailable(
            "pcscd is not installed; the sim card reader needs it "
            "(Debian: apt-get install pcscd vsmartcard-vpcd)"
        )
    with open(LOG_PATH, "wb") as log:
        process = subprocess.Popen(
            [binary, "--foreground", "--auto-exit"],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # not ours to stop: it serves every process, then quits
        )
    _daemons.append(process)
    return process


def _wait_for_reader(
    reader_match: str, deadline: float, process: subprocess.Popen[bytes] | None
) -> None:
    while (state := _probe(reader_match)) is not None:
        if process is not None and process.poll() is not None:
            raise DeviceUnavailable(
                f"pcscd stopped at once (exit status {process.returncode}); "
                f"its output: {_tail(LOG_PATH)}"
            )
        if time.monotonic() > deadline:
            raise _no_reader(reader_match, state)
        time.sleep(POLL_S)


def _no_reader(reader_match: str, state: DeviceUnavailable) -> DeviceUnavailable:
    if isinstance(state, PcscServiceDown):
        return DeviceUnavailable(f"pcscd did not come up: {state.message}")
    return DeviceUnavailable(
        f"pcscd runs but lists no reader matching {reader_match!r} ({state.message}); "
        "the sim backend needs vsmartcard's virtual reader (Debian: apt-get install "
        "vsmartcard-vpcd, then restart pcscd)"
    )


def _tail(path: Path, limit: int = 400) -> str:
    try:
        text = path.read_bytes()[-limit:].decode("utf-8", "replace").strip()
    except OSError:
        return "(no log)"
    return text or "(nothing)"


@contextlib.contextmanager
def _locked(path: Path, deadline: float) -> Iterator[None]:
    with open(path, "ab") as handle:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise DeviceUnavailable(
                        f"another process holds {path} (starting pcscd) for too long"
                    ) from None
                time.sleep(POLL_S)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
