"""Starting central as a separate process, for the demo, benchmarks and tests.

The demo and the multi-process tests run central the way production does:
``stationkit central serve`` in its own process, reached over HTTP only.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

START_TIMEOUT_S = 30.0


CODE_ROOT = Path(__file__).resolve().parents[1]  # the checkout this code runs from


def code_path_env() -> dict[str, str]:
    """The environment with this checkout first on the path, so a child runs the same code
    (whichever working directory it starts in)."""
    paths = [str(CODE_ROOT), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}


def free_port() -> int:
    """A TCP port on the loopback that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def is_port_free(port: int) -> bool:
    """True when nothing listens on the loopback port."""
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


@dataclass
class CentralProcess:
    """One ``stationkit central serve`` process."""

    db_url: str
    port: int
    workdir: Path
    operator_token: str
    extra_env: dict[str, str] = field(default_factory=dict)
    workers: int = 1
    writer_process: bool = False
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Base URL of the API."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> CentralProcess:
        """Start the server and wait until it answers /health."""
        if not is_port_free(self.port):
            raise RuntimeError(f"port {self.port} is in use; is another central running?")
        env = {
            **code_path_env(),
            "STATIONKIT_OPERATOR_TOKEN": self.operator_token,
            **self.extra_env,
        }
        command = [
            sys.executable,
            "-m",
            "stationkit",
            "central",
            "serve",
            "--db",
            self.db_url,
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
            "--writer-process" if self.writer_process else "--no-writer-process",
        ]
        self.workdir.mkdir(parents=True, exist_ok=True)
        with (self.workdir / f"central-{self.port}.log").open("ab") as log:
            self.process = subprocess.Popen(
                command,
                cwd=self.workdir,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: kill() takes every child too
            )
        self._wait_healthy()
        return self

    def kill(self) -> None:
        """SIGKILL to every process of the server: the crash at the worst moment."""
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        """SIGTERM and wait; SIGKILL if it will not go."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()

    def _wait_healthy(self) -> None:
        assert self.process is not None
        try:
            wait_answering(self.process, f"{self.url}/health", "central")
        except RuntimeError as exc:
            self.kill()
            raise RuntimeError(f"{exc}; see {self.workdir}/central-{self.port}.log") from None


def wait_answering(
    process: subprocess.Popen[bytes], url: str, what: str, timeout_s: float = START_TIMEOUT_S
) -> None:
    """Wait until a freshly started server answers GET ``url`` with 200; else RuntimeError.

    Raises at once if the process exits; the caller stops it on a timeout.
    """
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not answer {url} in {timeout_s} s")
