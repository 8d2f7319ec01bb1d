"""The units' commands as an operator runs them: a unit not enrolled says so in one line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def profile(kind: str, folder: Path) -> Path:
    """The shipped simulator profile of ``kind``, with its store in ``folder``."""
    text = (ROOT / "config" / "units" / f"{kind}-sim.toml").read_text(encoding="utf-8")
    lines = [
        f'store = "{folder / (kind + ".db")}"' if line.startswith("store = ") else line
        for line in text.splitlines()
    ]
    path = folder / f"{kind}.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("kind", ["gate", "tvm"])
def test_running_a_unit_not_enrolled_is_one_clear_line_and_no_event(
    kind: str, tmp_path: Path
) -> None:
    command = [sys.executable, "-m", "stationkit", kind, "run", "--config"]
    done = subprocess.run(
        [*command, str(profile(kind, tmp_path))],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert done.returncode == 1
    assert done.stdout == ""  # standard output is the unit's JSON events only
    assert done.stderr.strip().splitlines() == [
        f"Error: {tmp_path / (kind + '.db')}: this {kind} is not enrolled;"
        f" run `stationkit {kind} enrol`"
    ]
