"""The [printer] section: strict, typed and ranged, with one section per backend."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from pydantic import ValidationError

from drivers.printer.config import DEFAULT_FONT, TicketPrinterConfig

PROFILE_TOML = """
[printer]
backend = "network"
profile = "TM-T20II"
footer = ["请妥善保管车票", "Keep this ticket"]

[printer.network]
host = "192.0.2.10"
port = 9100

[printer.serial]
device = "/dev/ttyUSB0"
baudrate = 38400

[printer.sim]
port = 0
output_dir = "var/printer"
"""


def test_a_profile_section_parses_with_its_defaults() -> None:
    config = TicketPrinterConfig.model_validate(tomllib.loads(PROFILE_TOML)["printer"])
    assert config.backend == "network"
    assert config.network is not None and config.network.port == 9100
    assert config.width_dots == 576  # the profile's
    assert config.font_path == DEFAULT_FONT
    assert config.sim.output_dir == Path("var/printer")
    assert config.status_timeout_s == 0.5


def test_switching_to_the_simulator_is_one_word() -> None:
    section = tomllib.loads(PROFILE_TOML.replace('"network"\nprofile', '"sim"\nprofile'))
    assert TicketPrinterConfig.model_validate(section["printer"]).backend == "sim"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"backend": "network"}, "backend 'network' needs its [network] section"),
        ({"backend": "serial"}, "backend 'serial' needs its [serial] section"),
        ({"backend": "usb"}, "backend 'usb' needs its [usb] section"),
        ({"backend": "bluetooth"}, "backend"),
        ({"backend": "sim", "colour": "red"}, "colour"),
        ({"backend": "sim", "sim": {"port": 70000}}, "port"),
        ({"backend": "sim", "profile": "NoSuchPrinter"}, "unknown python-escpos printer profile"),
        ({"backend": "sim", "profile": "POS-5890"}, "no paper cutter"),
        ({"backend": "sim", "paper_width_dots": 640}, "exceeds the 576 dots"),
        ({"backend": "sim", "status_timeout_s": 0}, "status_timeout_s"),
        ({"backend": "sim", "qr_module_dots": 1}, "qr_module_dots"),
        ({"backend": "sim", "footer": ["x"] * 9}, "footer"),
        ({"backend": "network", "network": {"host": ""}}, "host"),
        ({"backend": "serial", "serial": {"device": "/dev/ttyS0", "baudrate": 1234}}, "baudrate"),
        ({"backend": "usb", "usb": {"vendor_id": 0x4B8, "product_id": 0x10000}}, "product_id"),
    ],
)
def test_bad_settings_are_refused_with_the_key_named(
    fields: dict[str, object], message: str
) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        TicketPrinterConfig.model_validate(fields)


def test_a_narrower_paper_than_the_profile_is_allowed() -> None:
    config = TicketPrinterConfig(backend="sim", paper_width_dots=512)
    assert config.width_dots == 512
