"""The card reader's profile section is strict: typed, ranged, no stray keys."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from drivers.card_reader import CardReaderConfig


def test_a_pcsc_reader_needs_only_its_backend_and_name() -> None:
    config = CardReaderConfig(backend="pcsc", reader="ACR1252")
    assert config.read_timeout_s == 1.0 and config.read_chunk == 256


def test_a_sim_reader_takes_a_control_socket_and_a_port(tmp_path: Path) -> None:
    config = CardReaderConfig.model_validate(
        {
            "backend": "sim",
            "reader": "Virtual PCD 00 01",
            "vpcd_port": 35964,
            "control_socket": str(tmp_path / "card.sock"),
        }
    )
    assert config.vpcd_port == 35964 and config.control_socket == tmp_path / "card.sock"


@pytest.mark.parametrize(
    ("fields", "complaint"),
    [
        ({"backend": "usb", "reader": "x"}, "backend"),
        ({"backend": "pcsc"}, "reader"),
        ({"backend": "pcsc", "reader": ""}, "reader"),
        ({"backend": "pcsc", "reader": "x", "baud": 9600}, "baud"),
        ({"backend": "pcsc", "reader": "x", "vpcd_port": 35963}, "vpcd_port"),
        ({"backend": "pcsc", "reader": "x", "control_socket": "/tmp/c"}, "control_socket"),
        ({"backend": "sim", "reader": "x", "vpcd_port": 0}, "vpcd_port"),
        ({"backend": "sim", "reader": "x", "read_timeout_s": 0}, "read_timeout_s"),
        ({"backend": "sim", "reader": "x", "read_chunk": 300}, "read_chunk"),
        ({"backend": "sim", "reader": "x", "read_timeout_s": "soon"}, "read_timeout_s"),
    ],
)
def test_a_bad_section_is_refused_naming_the_key(fields: dict[str, Any], complaint: str) -> None:
    with pytest.raises(ValidationError, match=complaint):
        CardReaderConfig.model_validate(fields)
