"""Central's settings: a strict TOML file, with a few environment overrides.

Every key is typed and ranged and unknown keys are refused; an error names
the file and the key. ``STATIONKIT_OPERATOR_TOKEN`` overrides the operator
token so it need not sit in a file.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from central.sales.refunds import RefundPolicy
from protocol.ids import station_code

OPERATOR_TOKEN_ENV = "STATIONKIT_OPERATOR_TOKEN"
DEFAULT_DB_URL = "sqlite:///var/central.db"

SETTINGS_ENV = "STATIONKIT_CENTRAL_SETTINGS"  # how `serve` hands its settings to children


class SettingsError(ValueError):
    """A settings file is missing, unreadable or wrong; the message says where."""


class RefundRuleSettings(BaseModel):
    """One step of the refund fee schedule."""

    model_config = ConfigDict(extra="forbid")
    min_hours_before: Annotated[float, Field(ge=0)]
    percent: Annotated[int, Field(ge=0, le=100)]


class CentralSettings(BaseModel):
    """Everything central can be told; defaults follow DOMAIN.md."""

    model_config = ConfigDict(extra="forbid")

    database_url: str = DEFAULT_DB_URL
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] = 8000
    workers: Annotated[int, Field(ge=1, le=64)] = 1  # HTTP server processes sharing one store
    # One writer process changes the store for every HTTP process (``serve`` starts it);
    # without it each HTTP process writes through a thread of its own.
    writer_process: bool = False
    writer_socket: str | None = None  # set by ``serve`` for its HTTP processes
    operator_token: str | None = None
    keys_dir: str = "var/keys"
    hold_minutes: Annotated[int, Field(ge=1, le=120)] = 10
    checkin_opens_minutes: Annotated[int, Field(ge=0, le=24 * 60)] = 120
    valid_after_arrival_minutes: Annotated[int, Field(ge=0, le=24 * 60)] = 120
    card_stations: list[str] = Field(default_factory=list)
    refund_rules: list[RefundRuleSettings] | None = None
    refund_minimum_fee_fen: Annotated[int, Field(ge=0)] = 200
    writer_batch: Annotated[int, Field(ge=1, le=1000)] = 64
    housekeeping_seconds: Annotated[float, Field(gt=0, le=3600)] = 5.0
    enrolment_minutes: Annotated[int, Field(ge=1, le=7 * 24 * 60)] = 60  # a unit's one-time code
    # the station feed gates cache: tickets whose validity ended this long ago are left out
    feed_history_hours: Annotated[int, Field(ge=0, le=24 * 7)] = 6
    report_timezone: str = "Asia/Shanghai"  # the day of reports (anomalies by station and day)
    # a retry comes within minutes; answers are kept far longer, then forgotten
    idempotency_days: Annotated[int, Field(ge=1, le=365)] = 7

    def refund_policy(self) -> RefundPolicy:
        """The refund fee schedule these settings describe."""
        config: dict[str, object] = {"minimum_fee_fen": self.refund_minimum_fee_fen}
        if self.refund_rules is not None:
            config["rules"] = [rule.model_dump() for rule in self.refund_rules]
        return RefundPolicy.from_config(config)

    def checked(self) -> CentralSettings:
        """Cross-field checks pydantic cannot express on one field."""
        for code in self.card_stations:
            try:
                station_code(code)
            except ValueError as exc:
                raise ValueError(f"card_stations: {exc}") from None
        self.zone()
        return self

    def zone(self) -> ZoneInfo:
        """The time zone of report days."""
        try:
            return ZoneInfo(self.report_timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"report_timezone: no time zone {self.report_timezone!r}") from exc


def load_settings(path: Path | None = None, **overrides: Any) -> CentralSettings:
    """Read settings from a TOML file (optional), then the environment, then overrides."""
    data: dict[str, Any] = {}
    if path is not None:
        data = _read_toml(path).get("central", {})
    token = os.environ.get(OPERATOR_TOKEN_ENV)
    if token:
        data["operator_token"] = token
    data.update({k: v for k, v in overrides.items() if v is not None})
    where = str(path) if path else "settings"
    try:
        return CentralSettings.model_validate(data).checked()
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(part) for part in first["loc"])
        raise SettingsError(f"{where}: [central] {key}: {first['msg']}") from exc
    except ValueError as exc:
        raise SettingsError(f"{where}: [central] {exc}") from exc


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError as exc:
        raise SettingsError(f"{path}: no such settings file") from exc
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path}: not valid TOML: {exc}") from exc
