"""The gate's parts as gpiozero devices on one pin factory: the layer under ``GateMechanism``.

``GateBoard`` builds, from the config and a pin factory it is given (lgpio
or RPi.GPIO on the board, a ``MockFactory`` in simulation; never gpiozero's
global default), an ``OutputDevice`` per flap relay, an ``LED`` per lamp, a
``Buzzer`` and a ``DigitalInputDevice`` per passage sensor. Every output
starts off, and off is the safe state: a de-energised relay locks its flap.
It only moves levels; what they mean for passengers is the mechanism's job.
gpiozero errors (and the pin libraries' own) come out as ``DriverError``.
``close()`` turns every relay off first, then every other output, then
closes each device, each step in its own ``try``, and returns what failed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Literal, TypeVar

import gpiozero  # type: ignore[import-untyped]
import gpiozero.exc  # type: ignore[import-untyped]

from drivers.errors import DeviceConfigError, DeviceUnavailable
from drivers.gate_mechanism.config import (
    DIRECTIONS,
    BeepPattern,
    Direction,
    GateMechanismConfig,
)

log = logging.getLogger(__name__)

Lamp = Literal["green", "red", "off"]
SensorCallback = Callable[[bool], None]  # called with "occupied" (beam broken, arm turned)
T = TypeVar("T")


class GateBoard:
    """The flap relays, lamps, buzzer and passage sensors of one gate."""

    def __init__(self, config: GateMechanismConfig, pin_factory: Any) -> None:
        self.config = config
        self.pin_factory = pin_factory
        self._devices: list[tuple[str, Any]] = []  # (part, device) in build order
        try:
            self._relays = {d: self._relay(d) for d in DIRECTIONS}
            self._lamps = self._lamp_pairs()
            self._buzzer = self._build(
                "buzzer",
                gpiozero.Buzzer,
                config.buzzer,
                active_high=config.buzzer_active_high,
                initial_value=False,
            )
            self._sensors = {d: self._sensor(d) for d in DIRECTIONS}
        except Exception as exc:
            self.close()
            raise _driver_error("building the gate's parts", exc) from exc
        self._sensor_inverted = _sensor_inverted(config)

    # Outputs.

    def set_flap(self, direction: Direction, energised: bool) -> None:
        """Energise (open) or de-energise (lock) one flap's relay."""
        relay = self._relays[direction]
        _guarded(f"{direction} flap relay", relay.on if energised else relay.off)

    def set_lamps(self, direction: Direction, lamp: Lamp) -> None:
        """Light ``direction``'s green or red lamp (the other goes off), or neither."""
        green, red = self._lamps[direction]
        _guarded(f"{direction} red lamp", red.on if lamp == "red" else red.off)
        _guarded(f"{direction} green lamp", green.on if lamp == "green" else green.off)

    def beep(self, pattern: BeepPattern) -> None:
        """Sound the buzzer in the background (a new beep cuts the last one short)."""
        on_s, off_s = pattern.on_ms / 1000, pattern.off_ms / 1000
        _guarded("buzzer", lambda: self._buzzer.beep(on_s, off_s, pattern.count, background=True))

    # Inputs.

    def watch_sensor(self, direction: Direction, callback: SensorCallback) -> None:
        """Call ``callback(occupied)`` (from gpiozero's thread) on each sensor change."""
        sensor, inverted = self._sensors[direction], self._sensor_inverted
        sensor.when_activated = lambda: callback(not inverted)
        sensor.when_deactivated = lambda: callback(inverted)

    def is_flap_energised(self, direction: Direction) -> bool:
        return bool(_guarded(f"{direction} flap relay", lambda: self._relays[direction].is_active))

    def is_sensor_occupied(self, direction: Direction) -> bool:
        active = _guarded(f"{direction} sensor", lambda: self._sensors[direction].is_active)
        return bool(active) != self._sensor_inverted

    # Shutdown.

    def close(self) -> list[str]:
        """Everything off and closed, whatever fails on the way; the failures, by part."""
        failures: list[str] = []
        relays = [(part, d) for part, d in self._devices if part.endswith("flap_relay")]
        others = [(part, d) for part, d in self._devices if not part.endswith("flap_relay")]
        for part, device in relays + others:
            if isinstance(device, gpiozero.OutputDevice):
                _attempt(failures, f"{part} off", device.off)
        for part, device in relays + others:
            _attempt(failures, f"{part} close", device.close)
        self._devices.clear()
        return failures

    # Building.

    def _build(self, part: str, kind: Callable[..., T], pin: int, **options: Any) -> T:
        try:
            device = kind(pin, pin_factory=self.pin_factory, **options)
        except Exception as exc:
            raise _driver_error(f"{part} on GPIO{pin}", exc) from exc
        self._devices.append((part, device))
        return device

    def _relay(self, direction: Direction) -> Any:
        pin = self.config.direction(direction).flap_relay
        return self._build(
            f"{direction}.flap_relay",
            gpiozero.OutputDevice,
            pin,
            active_high=self.config.relay_active_high,
            initial_value=False,
        )

    def _lamp_pairs(self) -> dict[Direction, tuple[Any, Any]]:
        options = {"active_high": self.config.lamp_active_high, "initial_value": False}
        pairs = {
            owner: (
                self._build(f"{owner}.green", gpiozero.LED, lamps.green, **options),
                self._build(f"{owner}.red", gpiozero.LED, lamps.red, **options),
            )
            for owner, lamps in self.config.lamp_owners()
        }
        return {d: pairs[d] if d in pairs else pairs["shared"] for d in DIRECTIONS}

    def _sensor(self, direction: Direction) -> Any:
        config = self.config
        pull_up = {"up": True, "down": False, "none": None}[config.sensor_pull]
        bounce = config.sensor_bounce_ms / 1000 if config.sensor_bounce_ms else None
        return self._build(
            f"{direction}.passage_sensor",
            gpiozero.DigitalInputDevice,
            config.direction(direction).passage_sensor,
            pull_up=pull_up,
            active_state=config.sensor_active_high if pull_up is None else None,
            bounce_time=bounce,
        )


def _sensor_inverted(config: GateMechanismConfig) -> bool:
    """Whether gpiozero's "active" means the passage is clear rather than occupied.

    With a pull resistor gpiozero fixes the active level (low with a pull-up,
    high with a pull-down); a sensor wired the other way round is inverted here.
    """
    if config.sensor_pull == "none":
        return False
    return (config.sensor_pull == "up") == config.sensor_active_high


def _guarded(part: str, action: Callable[[], T]) -> T:
    try:
        return action()
    except Exception as exc:
        raise _driver_error(part, exc) from exc


def _attempt(failures: list[str], what: str, action: Callable[[], object]) -> None:
    try:
        action()
    except Exception as exc:  # shutdown goes on: every other part still goes safe
        log.exception("gate: %s failed", what)
        failures.append(f"{what}: {exc!r}")


def _driver_error(what: str, exc: Exception) -> DeviceUnavailable | DeviceConfigError:
    if isinstance(exc, DeviceUnavailable | DeviceConfigError):
        return exc
    if isinstance(exc, gpiozero.exc.PinError | gpiozero.exc.GPIOPinInUse):
        return DeviceConfigError(f"gate: {what}: {type(exc).__name__}: {exc}")
    return DeviceUnavailable(f"gate: {what}: {type(exc).__name__}: {exc}")
