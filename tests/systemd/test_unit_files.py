"""The systemd unit files verify cleanly (``systemd-analyze verify``, no warnings).

PID 1 is not systemd here, so the units are checked offline; ExecStart is
pointed at this checkout's ``stationkit`` so the binary exists.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

UNITS = sorted((Path(__file__).resolve().parents[2] / "systemd").glob("*.service"))
INSTALLED = "/opt/stationkit/.venv/bin/stationkit"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze missing")
@pytest.mark.parametrize("unit", UNITS, ids=lambda path: path.name)
def test_unit_verifies_without_warnings(unit: Path, tmp_path: Path) -> None:
    local = str(Path(sys.executable).with_name("stationkit"))
    assert INSTALLED in unit.read_text(), "units start the installed stationkit"
    copy = tmp_path / unit.name
    copy.write_text(unit.read_text().replace(INSTALLED, local))
    done = subprocess.run(
        ["systemd-analyze", "verify", str(copy)], capture_output=True, text=True, timeout=60
    )
    # a misspelt key only warns, with exit code 0: any output is a failure
    assert done.returncode == 0 and not done.stderr.strip(), done.stderr


def test_there_is_a_unit_for_central() -> None:
    assert "stationkit-central.service" in [unit.name for unit in UNITS]
