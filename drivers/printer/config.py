"""The ticket printer's section of a unit profile: a strict pydantic model.

``backend`` picks the link (``network``, ``serial``, ``usb`` or ``sim``) and
the section of the same name gives its connection parameters; the other
sections may stay in the file, unused, so switching a kiosk to the simulator
is a one-word change. Everything is typed and ranged and unknown keys are
refused. The printer profile is one of python-escpos's profile names; the
paper width defaults to that profile's and may not exceed it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal, Self

from escpos.capabilities import get_profile  # type: ignore[import-untyped]
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Backend = Literal["serial", "network", "usb", "sim"]
DEFAULT_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
DEFAULT_PROFILE = "TM-T20II"  # 80 mm paper, 576 dots at 203 dpi, full cut
Port = Annotated[int, Field(ge=1, le=65535)]
Seconds = Annotated[float, Field(gt=0, le=120)]
FooterLine = Annotated[str, Field(max_length=80)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NetworkSettings(_Section):
    """A printer on the network (raw TCP, usually port 9100)."""

    host: Annotated[str, Field(min_length=1, max_length=253)]
    port: Port = 9100
    timeout_s: Seconds = 10.0  # connecting and sending one ticket


class SerialSettings(_Section):
    """A printer on a serial line (RS-232, or USB-serial as /dev/ttyUSB0)."""

    device: Annotated[str, Field(min_length=1)]
    baudrate: Literal[9600, 19200, 38400, 57600, 115200] = 115200
    bytesize: Literal[7, 8] = 8
    parity: Literal["N", "E", "O"] = "N"
    stopbits: Literal[1, 2] = 1
    xonxoff: bool = False
    dsrdtr: bool = False  # hardware flow control on DSR/DTR
    timeout_s: Seconds = 10.0  # sending one ticket


class UsbSettings(_Section):
    """A printer that speaks ESC/POS over USB bulk endpoints (needs pyusb and libusb)."""

    vendor_id: Annotated[int, Field(ge=0, le=0xFFFF)]
    product_id: Annotated[int, Field(ge=0, le=0xFFFF)]
    in_ep: Annotated[int, Field(ge=0x81, le=0x8F)] = 0x82
    out_ep: Annotated[int, Field(ge=0x01, le=0x0F)] = 0x01
    timeout_s: Seconds = 10.0


class SimSettings(_Section):
    """The printer simulator, started as a process of its own and reached over TCP."""

    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=0, le=65535)] = 0  # 0 = an ephemeral port
    output_dir: Path | None = None  # where tickets go; a fresh temporary folder when unset
    control_socket: Path | None = None  # a Unix socket to steer the simulator from outside
    timeout_s: Seconds = 10.0


class TicketPrinterConfig(_Section):
    """The ``[printer]`` section of a TVM profile."""

    backend: Backend
    network: NetworkSettings | None = None
    serial: SerialSettings | None = None
    usb: UsbSettings | None = None
    sim: SimSettings = Field(default_factory=SimSettings)
    profile: str = DEFAULT_PROFILE
    paper_width_dots: Annotated[int | None, Field(ge=128, le=2048)] = None  # None: the profile's
    font_path: Path = DEFAULT_FONT  # a TrueType/OpenType font with CJK glyphs
    font_index: Annotated[int, Field(ge=0, le=15)] = 0  # the face inside a .ttc collection
    footer: Annotated[list[FooterLine], Field(max_length=8)] = Field(default_factory=list)
    qr_module_dots: Annotated[int, Field(ge=2, le=16)] = 4
    status_timeout_s: Annotated[float, Field(gt=0, le=10)] = 0.5  # per status query

    @field_validator("profile")
    @classmethod
    def _known_profile(cls, name: str) -> str:
        try:
            profile = get_profile(name)
        except KeyError:
            raise ValueError(f"unknown python-escpos printer profile {name!r}") from None
        if not profile.supports("bitImageRaster"):
            raise ValueError(f"profile {name!r} cannot print raster images (GS v 0)")
        if not (profile.supports("paperFullCut") or profile.supports("paperPartCut")):
            raise ValueError(f"profile {name!r} has no paper cutter; a ticket printer needs one")
        return name

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.backend != "sim" and getattr(self, self.backend) is None:
            raise ValueError(f"backend {self.backend!r} needs its [{self.backend}] section")
        profile_width = profile_width_dots(self.profile)
        if self.paper_width_dots is None and profile_width is None:
            raise ValueError(f"profile {self.profile!r} has no known width: set paper_width_dots")
        if self.paper_width_dots and profile_width and self.paper_width_dots > profile_width:
            raise ValueError(
                f"paper_width_dots {self.paper_width_dots} exceeds the {profile_width} dots"
                f" of profile {self.profile!r}"
            )
        return self

    @property
    def width_dots(self) -> int:
        """The printable width in dots: the setting, else the profile's."""
        width = self.paper_width_dots or profile_width_dots(self.profile)
        assert width is not None  # the model validator made sure
        return width


def profile_width_dots(name: str) -> int | None:
    """The paper width in dots python-escpos knows for profile ``name``, if any."""
    pixels: Any = get_profile(name).profile_data["media"]["width"].get("pixels")
    return pixels if isinstance(pixels, int) else None
