"""Building a ``GateMechanism`` from its config: the gpio backend and the sim backend.

Both run the same ``GateBoard`` and ``GateMechanism``; only the gpiozero pin
factory differs, and it is always created here and handed to every device
(gpiozero's global default factory is never used). ``gpio`` makes the
lgpio or RPi.GPIO factory the config names; off a Raspberry Pi that fails
with ``DeviceUnavailable`` saying so, never with the pin library's own
``ImportError`` or ``RuntimeError``. ``sim`` makes the ``GateSimulator``'s
observed ``MockFactory``, starts its passenger and control socket, and has
the mechanism close them when it closes.
"""

from __future__ import annotations

import contextlib
from typing import Any

from drivers.errors import DeviceUnavailable, DriverError
from drivers.gate_mechanism.board import GateBoard
from drivers.gate_mechanism.config import GateMechanismConfig
from drivers.gate_mechanism.mechanism import Clock, GateMechanism, utc_now
from drivers.gate_mechanism.simulator import GateSimulator


def open_gate(config: GateMechanismConfig, clock: Clock = utc_now) -> GateMechanism:
    """A gate mechanism with every flap locked (``DriverError`` if it cannot be built)."""
    if config.backend == "sim":
        return _open_simulated(config, clock)
    factory = gpio_pin_factory(config.pin_factory or "lgpio")
    try:
        board = GateBoard(config, factory)
    except DriverError:
        with contextlib.suppress(Exception):
            factory.close()
        raise
    return GateMechanism(board, backend="gpio", clock=clock, on_close=factory.close)


def _open_simulated(config: GateMechanismConfig, clock: Clock) -> GateMechanism:
    simulator = GateSimulator(config)
    try:
        board = GateBoard(config, simulator.factory)
    except DriverError:
        simulator.close()
        raise
    mechanism = GateMechanism(board, backend="sim", clock=clock, on_close=simulator.close)
    simulator.start()
    return mechanism


def gpio_pin_factory(kind: str) -> Any:
    """gpiozero's lgpio or RPi.GPIO pin factory (``DeviceUnavailable`` off a Pi)."""
    try:
        if kind == "rpigpio":
            # Imported here, never at module level: RPi.GPIO raises RuntimeError off a Pi.
            from gpiozero.pins.rpigpio import RPiGPIOFactory  # type: ignore[import-untyped]

            return RPiGPIOFactory()
        from gpiozero.pins.lgpio import LGPIOFactory  # type: ignore[import-untyped]

        return LGPIOFactory()
    except Exception as exc:  # ImportError, RuntimeError, lgpio.error, BadPinFactory...
        raise DeviceUnavailable(
            f"gate: the {kind} GPIO pin factory cannot start on this machine "
            f'({type(exc).__name__}: {exc}); a machine without GPIO needs backend = "sim"'
        ) from exc
