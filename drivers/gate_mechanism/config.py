"""The gate mechanism's section of a unit's profile, as a strict pydantic model.

Every pin is a BCM GPIO number (0-27) and no pin may serve two parts. Each
direction (``entry``, ``exit``) has a flap relay and a passage sensor and
may have its own green and red lamps; a direction without lamps of its own
uses ``shared_lamps``, which must then be given (and is refused when no
direction would use it). ``backend = "gpio"`` needs a ``pin_factory``;
``walk_through_ms`` and ``control_socket`` belong to ``backend = "sim"``.
Unknown keys and out-of-range numbers are refused when the profile loads.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

Direction = Literal["entry", "exit"]
DIRECTIONS: tuple[Direction, ...] = ("entry", "exit")
Pin = Annotated[int, Field(ge=0, le=27, description="BCM GPIO number")]
DEFAULT_WALK_THROUGH_MS = 300


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LampPins(_Section):
    """A green and a red lamp."""

    green: Pin
    red: Pin


class DirectionPins(_Section):
    """One direction's flap relay, passage sensor and (optionally) lamps."""

    flap_relay: Pin
    passage_sensor: Pin
    lamps: LampPins | None = None


class BeepPattern(_Section):
    """``count`` beeps of ``on_ms``, ``off_ms`` apart."""

    on_ms: int = Field(ge=10, le=5000)
    off_ms: int = Field(default=100, ge=0, le=5000)
    count: int = Field(default=1, ge=1, le=20)


DEFAULT_BEEPS: dict[str, BeepPattern] = {
    "ok": BeepPattern(on_ms=80),
    "refuse": BeepPattern(on_ms=600),
    "alarm": BeepPattern(on_ms=200, off_ms=200, count=5),
}


class GateMechanismConfig(_Section):
    """The gate's flaps, sensors, lamps and buzzer, and how they are wired."""

    backend: Literal["gpio", "sim"]
    pin_factory: Literal["lgpio", "rpigpio"] | None = None
    entry: DirectionPins
    exit: DirectionPins
    shared_lamps: LampPins | None = None
    buzzer: Pin
    relay_active_high: bool  # no default: a wrong guess energises the flaps at rest
    lamp_active_high: bool = True
    buzzer_active_high: bool = True
    sensor_pull: Literal["up", "down", "none"] = "up"
    sensor_active_high: bool = False  # with a pull-up, a beam or switch pulls the line low
    sensor_bounce_ms: int = Field(default=20, ge=0, le=1000)
    beeps: dict[str, BeepPattern] = Field(default_factory=dict)
    walk_through_ms: int | None = Field(default=None, ge=0, le=60_000)
    control_socket: Path | None = None

    def direction(self, direction: Direction) -> DirectionPins:
        """The pins of one direction."""
        return self.entry if direction == "entry" else self.exit

    def lamps_of(self, direction: Direction) -> LampPins:
        """The lamps that show ``direction``'s state (its own, or the shared ones)."""
        lamps = self.direction(direction).lamps or self.shared_lamps
        if lamps is None:  # the validator below rules this out
            raise ValueError(f"no lamps for {direction}")
        return lamps

    def beep_patterns(self) -> dict[str, BeepPattern]:
        """The named defaults, overridden and extended by ``beeps``."""
        return {**DEFAULT_BEEPS, **self.beeps}

    def pins(self) -> dict[str, int]:
        """Every part's pin by a dotted name such as ``entry.flap_relay``."""
        parts: dict[str, int] = {"buzzer": self.buzzer}
        for direction in DIRECTIONS:
            pins = self.direction(direction)
            parts[f"{direction}.flap_relay"] = pins.flap_relay
            parts[f"{direction}.passage_sensor"] = pins.passage_sensor
        for owner, lamps in self.lamp_owners():
            parts[f"{owner}.green"], parts[f"{owner}.red"] = lamps.green, lamps.red
        return parts

    def lamp_owners(self) -> list[tuple[str, LampPins]]:
        """Each lamp pair with its owner: ``entry``, ``exit`` or ``shared``."""
        owners = [(d, lamps) for d in DIRECTIONS if (lamps := self.direction(d).lamps)]
        return owners + ([("shared", self.shared_lamps)] if self.shared_lamps else [])

    @model_validator(mode="after")
    def _wiring_is_possible(self) -> Self:
        lamps_missing = [d for d in DIRECTIONS if self.direction(d).lamps is None]
        if lamps_missing and self.shared_lamps is None:
            raise ValueError(f"{' and '.join(lamps_missing)} has no lamps: give shared_lamps")
        if not lamps_missing and self.shared_lamps is not None:
            raise ValueError("shared_lamps is unused: both directions have their own lamps")
        self._pins_are_distinct()
        self._keys_fit_the_backend()
        return self

    def _pins_are_distinct(self) -> None:
        by_pin: dict[int, list[str]] = {}
        for part, pin in self.pins().items():
            by_pin.setdefault(pin, []).append(part)
        shared = {pin: parts for pin, parts in by_pin.items() if len(parts) > 1}
        if shared:
            clash = "; ".join(f"GPIO{pin}: {', '.join(parts)}" for pin, parts in shared.items())
            raise ValueError(f"one pin cannot serve two parts ({clash})")

    def _keys_fit_the_backend(self) -> None:
        if self.backend == "gpio" and self.pin_factory is None:
            raise ValueError('backend "gpio" needs pin_factory ("lgpio" or "rpigpio")')
        if self.backend == "sim" and self.pin_factory is not None:
            raise ValueError('pin_factory belongs to backend "gpio" only')
        for key in ("walk_through_ms", "control_socket"):
            if self.backend == "gpio" and getattr(self, key) is not None:
                raise ValueError(f'{key} belongs to backend "sim" only')

    @property
    def simulated_walk_ms(self) -> int:
        """How long after a flap opens the simulated passenger has passed."""
        return DEFAULT_WALK_THROUGH_MS if self.walk_through_ms is None else self.walk_through_ms
