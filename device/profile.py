"""A unit's profile: one strict TOML file, read once at start.

Every section is a pydantic model with ``extra="forbid"``: an unknown key, a
bad type or an out-of-range value stops the unit at start with one line that
names the file, the section and the key (``gate.toml: [sync] interval_s:
Input should be greater than 0``). The sections of the drivers are the
drivers' own config models; sections that only a launcher knows (the
screen, which lives above ``device``) are handed in by that launcher, so the
profile stays strict without ``device`` importing ``ui``.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model
from pydantic_core import ErrorDetails

from drivers.card_reader.config import CardReaderConfig
from drivers.gate_mechanism.config import GateMechanismConfig
from drivers.qr_scanner.config import ScannerConfig
from offline_store.connection import StoreSettings

Model = TypeVar("Model", bound=BaseModel)


class ProfileError(ValueError):
    """The profile is missing, unreadable or wrong; the message says where."""


class Strict(BaseModel):
    """Base of every profile section."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class UnitSection(Strict):
    """Who the unit is and where its state lives."""

    kind: Literal["gate", "tvm"]
    central_url: str = Field(pattern=r"^https?://[^\s]+$")
    store: Path
    central_timeout_s: float = Field(default=5.0, gt=0, le=120)


class SyncSection(Strict):
    """How the unit keeps in step with central in the background."""

    interval_s: float = Field(default=5.0, gt=0, le=3600)
    # a page is one write transaction: small ones keep the decision path's waits short
    feed_page: int = Field(default=1000, ge=1, le=5000)
    upload_batch: int = Field(default=500, ge=1, le=1000)
    backoff_max_s: float = Field(default=60.0, gt=0, le=3600)


class GateRulesSection(Strict):
    """The gate's check-in rules and passage handling."""

    opens_minutes: int = Field(default=120, ge=0, le=24 * 60)
    closes_minutes: int = Field(default=3, ge=0, le=24 * 60)
    exit_grace_minutes: int = Field(default=120, ge=0, le=24 * 60)
    passage_timeout_s: float = Field(default=8.0, gt=0, le=120)
    flow_control_gap_s: float = Field(default=3.0, ge=0, le=60)
    clock_skew_limit_s: float = Field(default=30.0, gt=0, le=3600)
    gate_group: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,16}$")


class SideSection(Strict):
    """One side of a gate lane: the readers passengers use to go through that way."""

    scanner: ScannerConfig
    card_reader: CardReaderConfig | None = None


class GateProfile(Strict):
    """Everything a gate unit is configured with."""

    unit: UnitSection
    store: StoreSettings = StoreSettings()
    gate: GateRulesSection = GateRulesSection()
    sync: SyncSection = SyncSection()
    mechanism: GateMechanismConfig
    entry: SideSection | None = None
    exit: SideSection | None = None
    extra: dict[str, Any] = Field(default_factory=dict, exclude=True)  # a launcher's sections

    def sides(self) -> dict[str, SideSection]:
        """The configured sides by direction."""
        found = {"entry": self.entry, "exit": self.exit}
        return {direction: side for direction, side in found.items() if side is not None}


def read_toml(path: Path) -> dict[str, Any]:
    """The file's tables, or a ``ProfileError`` naming the file."""
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ProfileError(f"{path}: no such profile") from None
    except OSError as exc:
        raise ProfileError(f"{path}: cannot read: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{path}: not valid TOML: {exc}") from None


def parse(path: Path, model: type[Model], data: dict[str, Any]) -> Model:
    """Validate ``data`` as ``model``; the first problem as one line naming section and key.

    Types are strict (``buzzer = "22"`` is a mistake, not 22), read as JSON
    reads them: TOML's strings, numbers, booleans, arrays and tables.
    """
    try:
        return model.model_validate_json(json.dumps(data, default=str), strict=True)
    except ValidationError as exc:
        raise ProfileError(f"{path}: {_where(exc.errors()[0])}") from None


def _where(error: ErrorDetails) -> str:
    loc = [str(part) for part in error["loc"]]
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = "unknown key"
    if not loc:
        return message
    section = ".".join(loc[:-1]) if len(loc) > 1 else loc[0]
    key = loc[-1] if len(loc) > 1 else None
    return f"[{section}] {key}: {message}" if key else f"[{section}]: {message}"


def take_extra_sections(
    path: Path, data: dict[str, Any], sections: Mapping[str, type[BaseModel]]
) -> dict[str, BaseModel]:
    """Validate and remove the launcher's own sections (a missing one is left out)."""
    found: dict[str, BaseModel] = {}
    for name, model in sections.items():
        if name in data:
            wrapper = create_model(f"{name}_section", **{name: (model, ...)})  # type: ignore[call-overload]
            found[name] = getattr(parse(path, wrapper, {name: data.pop(name)}), name)
    return found


def load_gate_profile(
    path: Path, extra_sections: Mapping[str, type[BaseModel]] | None = None
) -> GateProfile:
    """Read and check a gate profile; ``extra_sections`` are a launcher's own (the screen)."""
    data = read_toml(path)
    extras = take_extra_sections(path, data, extra_sections or {})
    profile = parse(path, GateProfile, data)
    if profile.unit.kind != "gate":
        raise ProfileError(f'{path}: [unit] kind: this is a "{profile.unit.kind}" profile')
    if not profile.sides():
        raise ProfileError(f"{path}: a gate needs an [entry] or an [exit] side (or both)")
    return profile.model_copy(update={"extra": extras})
