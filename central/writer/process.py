"""Starting and watching the writer process of a split server.

``stationkit central serve`` with ``writer_process`` on starts the writer
process (``stationkit central writer``) on a Unix socket in a private
directory, waits until it listens, and restarts it if it dies: the store
keeps everything, so a restarted writer loads what it needs and goes on.
The writer process stops by itself when the serve process that started it
is gone.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from central.settings import SETTINGS_ENV, CentralSettings

log = logging.getLogger(__name__)
START_TIMEOUT_S = 60.0
RESTART_DELAY_S = 1.0


class WriterProcess:
    """The supervised writer process of one split server."""

    def __init__(self, settings: CentralSettings) -> None:
        self.settings = settings
        self.directory = Path(tempfile.mkdtemp(prefix="stationkit-central-"))  # mode 0700
        self.socket_path = self.directory / "writer.sock"
        self._process: subprocess.Popen[bytes] | None = None
        self._stopping = threading.Event()
        self._watcher = threading.Thread(target=self._watch, name="writer-watch", daemon=True)

    def start(self) -> Path:
        """Start the writer process and wait until it listens; returns its socket."""
        self._spawn()
        self._wait_listening()
        self._watcher.start()
        return self.socket_path

    def stop(self) -> None:
        """Stop the writer process (it finishes the batch in hand) and clean up."""
        self._stopping.set()
        process = self._process
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        shutil.rmtree(self.directory, ignore_errors=True)

    def _spawn(self) -> None:
        env = {**os.environ, SETTINGS_ENV: self.settings.model_dump_json()}
        command = [sys.executable, "-m", "stationkit", "central", "writer"]
        self._process = subprocess.Popen([*command, "--socket", str(self.socket_path)], env=env)

    def _wait_listening(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise RuntimeError(f"the writer process exited with {self._process.returncode}")
            if _listening(self.socket_path):
                return
            time.sleep(0.05)
        raise RuntimeError(f"the writer process did not listen in {START_TIMEOUT_S} s")

    def _watch(self) -> None:
        while not self._stopping.is_set():
            process = self._process
            if process is None:
                return
            code = process.wait()
            if self._stopping.is_set():
                return
            log.error("the writer process exited with %s; restarting it", code)
            time.sleep(RESTART_DELAY_S)
            try:
                self._spawn()
                self._wait_listening()
            except RuntimeError:
                log.exception("the writer process could not be restarted; trying again")


def _listening(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        try:
            probe.connect(str(path))
        except OSError:
            return False
        return True
