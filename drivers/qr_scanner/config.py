"""The QR scanner's section of a unit's profile, as a strict pydantic model.

``backend = "serial"`` opens ``url`` with pyserial's ``serial_for_url`` (a
device path such as ``/dev/ttyACM0``, ``socket://host:port``, a pty);
``backend = "sim"`` starts the scanner simulator on a pty and opens that
with the same serial code, so the simulator exercises the real path. Unknown
keys, out-of-range numbers and keys that do not belong to the chosen
backend are refused when the profile loads.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from drivers.qr_scanner.framing import DEFAULT_MAX_FRAME_BYTES, Suffix


class ScannerConfig(BaseModel):
    """How to reach the gate's QR scanner and how it frames its scans."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    backend: Literal["serial", "sim"]
    url: str | None = Field(default=None, min_length=1)
    baudrate: int = Field(default=9600, ge=1200, le=921_600)
    suffix: Suffix = "CR"
    max_frame_bytes: int = Field(default=DEFAULT_MAX_FRAME_BYTES, ge=16, le=65_536)
    reopen_backoff_max_s: float = Field(default=5.0, gt=0, le=60)
    control_socket: Path | None = None

    @model_validator(mode="after")
    def _keys_fit_the_backend(self) -> Self:
        if self.backend == "serial" and self.url is None:
            raise ValueError('backend "serial" needs a url (a device path or socket://host:port)')
        if self.backend == "serial" and self.control_socket is not None:
            raise ValueError('control_socket belongs to backend "sim" only')
        if self.backend == "sim" and self.url is not None:
            raise ValueError('backend "sim" opens its own pty: leave url out')
        return self
