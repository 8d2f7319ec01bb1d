"""The card reader's section of a unit's profile, checked strictly at start.

``backend = "pcsc"`` reads a real reader through pcscd; ``backend = "sim"``
runs the very same PC/SC path against pcscd's virtual reader (vsmartcard
vpcd) with the card emulator in the field, steered over ``control_socket``.
``reader`` picks the reader: any part of its PC/SC name, matched without
regard to case; it must match exactly one reader. Unknown keys, and sim-only
keys under the pcsc backend, are refused.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

VPCD_DEFAULT_PORT = 35963  # vpcd's first virtual reader, "Virtual PCD 00 00"
SIM_ONLY_KEYS = ("control_socket", "vpcd_port")


class CardReaderConfig(BaseModel):
    """How to reach the contactless card reader, and how long to wait on it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    backend: Literal["pcsc", "sim"]
    reader: str = Field(min_length=1, max_length=200, description="part of the reader's name")
    open_timeout_s: float = Field(
        5.0, gt=0, le=120, description="how long start-up waits for the reader to be listed"
    )
    read_timeout_s: float = Field(
        1.0, gt=0, le=30, description="the longest one card's whole read may take"
    )
    removal_check_s: float = Field(
        0.6,
        ge=0,
        le=5,
        description="after a broken exchange, how long to watch for the card leaving",
    )
    reconnect_interval_s: float = Field(
        1.0, gt=0, le=60, description="pause between attempts to find a lost reader again"
    )
    read_chunk: int = Field(256, ge=16, le=256, description="bytes asked per READ BINARY")
    control_socket: Path | None = Field(None, description="sim: the emulator's control socket")
    vpcd_port: int = Field(
        VPCD_DEFAULT_PORT, ge=1, le=65535, description="sim: the virtual reader's vpcd port"
    )

    @model_validator(mode="after")
    def _sim_keys_only_for_sim(self) -> CardReaderConfig:
        if self.backend == "pcsc":
            given = [key for key in SIM_ONLY_KEYS if key in self.model_fields_set]
            if given:
                raise ValueError(f'{", ".join(given)}: only for backend = "sim"')
        return self
