"""A TVM's profile: the unit's sections and its devices' (terminal, printer, scanner).

Kept apart from the gate's so a gate never imports the printer's driver
(python-escpos loads a large profile database).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from device.profile import (
    ProfileError,
    Strict,
    SyncSection,
    UnitSection,
    parse,
    read_toml,
    take_extra_sections,
)
from drivers.pos.config import BankTerminalConfig
from drivers.printer.config import TicketPrinterConfig
from drivers.qr_scanner.config import ScannerConfig
from offline_store.connection import StoreSettings


class TvmSection(Strict):
    """The TVM's own settings."""

    idle_timeout_s: float = Field(default=60.0, ge=10, le=600)  # back home, the hold let go
    timezone: str = Field(default="Asia/Shanghai", min_length=1)  # shown and printed times
    health_every_s: float = Field(default=5.0, gt=0, le=300)  # printer and central checks
    language: Literal["zh", "en"] = "zh"  # the screen's language at home
    # paper near its end stops sales (a ticket never runs out mid-print) unless allowed here
    sell_on_paper_near_end: bool = False


class TvmProfile(Strict):
    """Everything a ticket vending machine is configured with."""

    unit: UnitSection
    store: StoreSettings = StoreSettings()
    tvm: TvmSection = TvmSection()
    sync: SyncSection = SyncSection()
    bank_terminal: BankTerminalConfig
    printer: TicketPrinterConfig
    scanner: ScannerConfig
    extra: dict[str, Any] = Field(default_factory=dict, exclude=True)  # a launcher's sections


def load_tvm_profile(
    path: Path, extra_sections: Mapping[str, type[BaseModel]] | None = None
) -> TvmProfile:
    """Read and check a TVM profile; ``extra_sections`` are a launcher's own (the kiosk)."""
    data = read_toml(path)
    extras = take_extra_sections(path, data, extra_sections or {})
    profile = parse(path, TvmProfile, data)
    if profile.unit.kind != "tvm":
        raise ProfileError(f'{path}: [unit] kind: this is a "{profile.unit.kind}" profile')
    return profile.model_copy(update={"extra": extras})
