"""What ``stationkit central serve`` says at start, on stderr: where, which store, which layout."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from central.settings import OPERATOR_TOKEN_ENV, CentralSettings
from central.store.migrations import head
from stationkit.cli import _serve_banner
from stationkit.processes import free_port, wait_answering

ROOT = Path(__file__).resolve().parents[2]

NO_TOKEN = (
    "  warning: no operator token (STATIONKIT_OPERATOR_TOKEN or operator_token in the "
    "settings file): the operator API cannot be used"
)


def serve(workdir: Path, *args: str, token: str | None = None) -> tuple[str, str]:
    """Start serve, wait until it answers, stop it; its stdout and stderr."""
    env = {k: v for k, v in os.environ.items() if k != OPERATOR_TOKEN_ENV}
    env["PYTHONPATH"] = str(ROOT)  # this checkout's code, whatever is installed
    if token is not None:
        env[OPERATOR_TOKEN_ENV] = token
    port = free_port()
    out, err = workdir / "stdout", workdir / "stderr"
    command = [sys.executable, "-m", "stationkit", "central", "serve", "--port", str(port)]
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(
            [*command, *args], cwd=workdir, env=env, stdout=stdout, stderr=stderr
        )
    try:
        wait_answering(process, f"http://127.0.0.1:{port}/health", "central", timeout_s=90)
    finally:
        process.terminate()
        process.wait(timeout=30)
    return out.read_text(), err.read_text().replace(str(port), "PORT")


@pytest.mark.slow
def test_one_process_without_an_operator_token(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'central.db'}"
    stdout, stderr = serve(tmp_path, "--db", url, "--workers", "1", "--no-writer-process")
    assert stdout == ""
    assert stderr.splitlines()[:4] == [
        "stationkit central on http://127.0.0.1:PORT",
        f"  store:  {url} (revision {head()}, up to date)",
        "  layout: one process with a writer thread",
        NO_TOKEN,
    ]


@pytest.mark.slow
def test_split_layout_with_a_token(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'central.db'}"
    args = ("--db", url, "--workers", "1", "--writer-process")
    stdout, stderr = serve(tmp_path, *args, token="secret")
    assert stdout == ""
    assert stderr.splitlines()[:3] == [
        "stationkit central on http://127.0.0.1:PORT",
        f"  store:  {url} (revision {head()}, up to date)",
        "  layout: split: a writer process and 1 HTTP worker process",
    ]
    assert "warning" not in stderr


def test_the_banner_hides_the_store_password_and_names_each_layout() -> None:
    url = "postgresql+psycopg://stationkit:s3cret@db.example:5432/central"
    settings = CentralSettings(database_url=url, host="::", workers=4, operator_token="t")
    banner = _serve_banner(settings, "0007")
    assert banner == [
        "stationkit central on http://[::]:8000",
        "  store:  postgresql+psycopg://stationkit:***@db.example:5432/central "
        "(revision 0007, up to date)",
        "  layout: 4 HTTP worker processes, each with a writer thread (they take turns on "
        "the store)",
    ]
