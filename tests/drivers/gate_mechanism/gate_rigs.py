"""A gate's test wiring: configs, the relay levels to expect, a polite wait, odd mock pins."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gpiozero.pins.mock import MockPin  # type: ignore[import-untyped]

from drivers.gate_mechanism import Direction, GateMechanism, GateMechanismConfig

WAIT_S = 5.0
# A wiring used throughout: BCM numbers, shared lamps.
PINS: dict[str, Any] = {
    "entry": {"flap_relay": 17, "passage_sensor": 27},
    "exit": {"flap_relay": 22, "passage_sensor": 23},
    "shared_lamps": {"green": 5, "red": 6},
    "buzzer": 13,
}
RELAY_PINS: dict[Direction, int] = {"entry": 17, "exit": 22}
SENSOR_PINS: dict[Direction, int] = {"entry": 27, "exit": 23}


def sim_config(control_socket: Path | None = None, **overrides: Any) -> GateMechanismConfig:
    """A sim gate with the wiring above; active-low relays unless overridden."""
    fields: dict[str, Any] = {
        "backend": "sim",
        **PINS,
        "relay_active_high": False,
        "walk_through_ms": 40,
        "control_socket": control_socket,
    }
    return GateMechanismConfig(**{**fields, **overrides})


def relay_level(gate: GateMechanism, direction: Direction) -> bool:
    """The level on that relay's mock pin now."""
    return bool(gate.pin_factory.pin(RELAY_PINS[direction]).state)


def is_energised(gate: GateMechanism, direction: Direction, active_high: bool) -> bool:
    return relay_level(gate, direction) == active_high


async def eventually(condition: Callable[[], bool], timeout: float = WAIT_S) -> None:
    """Wait until ``condition()`` holds (an AssertionError if it does not in time)."""
    try:
        async with asyncio.timeout(timeout):
            while not condition():
                await asyncio.sleep(0.005)
    except TimeoutError:
        raise AssertionError(f"not so after {timeout} s") from None


class ExplodingClosePin(MockPin):  # type: ignore[misc]
    """A mock pin whose first close() fails, as a wedged pin library's might."""

    has_failed = False

    def close(self) -> None:
        if not self.has_failed:  # once: gpiozero retries close() when it collects the device
            self.has_failed = True
            raise OSError("pin close failed")
        super().close()


class FailingWritePin(MockPin):  # type: ignore[misc]
    """A mock output whose writes fail once ``fails`` is set, as a broken driver chip's would."""

    fails = False

    def _set_state(self, value: bool) -> None:
        if self.fails:
            raise OSError("pin write failed")
        super()._set_state(value)
