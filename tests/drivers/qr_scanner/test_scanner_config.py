"""ScannerConfig refuses what it cannot honour; open_scanner fails clearly on a missing scanner."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from drivers.errors import DeviceConfigError, DeviceUnavailable, DriverErrorCode
from drivers.qr_scanner import ScannerConfig, open_scanner

pytestmark = pytest.mark.anyio


def test_defaults_suit_a_common_scanner() -> None:
    config = ScannerConfig(backend="serial", url="/dev/ttyACM0")
    assert (config.baudrate, config.suffix, config.max_frame_bytes) == (9600, "CR", 1024)


@pytest.mark.parametrize(
    ("fields", "complaint"),
    [
        ({"backend": "serial"}, "needs a url"),
        ({"backend": "sim", "url": "/dev/ttyACM0"}, "leave url out"),
        (
            {"backend": "serial", "url": "loop://", "control_socket": "/tmp/x"},
            "control_socket belongs",
        ),
        ({"backend": "serial", "url": "loop://", "baudrate": 50}, "baudrate"),
        ({"backend": "serial", "url": "loop://", "suffix": "NONE"}, "suffix"),
        ({"backend": "serial", "url": "loop://", "max_frame_bytes": 10**6}, "max_frame_bytes"),
        ({"backend": "serial", "url": "loop://", "bauds": 9600}, "bauds"),
        ({"backend": "usb"}, "backend"),
    ],
)
def test_a_bad_section_is_refused_naming_the_key(fields: dict[str, Any], complaint: str) -> None:
    with pytest.raises(ValidationError, match=complaint):
        ScannerConfig(**fields)


def test_the_sim_backend_takes_a_control_socket() -> None:
    config = ScannerConfig(backend="sim", control_socket=Path("/run/sk/scanner.sock"))
    assert config.control_socket == Path("/run/sk/scanner.sock")


async def test_a_missing_device_fails_at_open_with_device_unavailable(tmp_path: Path) -> None:
    missing = ScannerConfig(backend="serial", url=str(tmp_path / "ttyACM9"))
    with pytest.raises(DeviceUnavailable, match="cannot open the QR scanner") as raised:
        await open_scanner(missing)
    assert raised.value.code is DriverErrorCode.UNAVAILABLE


async def test_an_unknown_url_scheme_is_a_config_error() -> None:
    with pytest.raises(DeviceConfigError, match="bogus"):
        await open_scanner(ScannerConfig(backend="serial", url="bogus://scanner"))
