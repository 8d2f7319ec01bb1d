"""GateMechanism's contract, run on every backend: the sim here, gpio on a bench Pi.

The gpio run needs a gate wired to the Pi with the pins of ``gate_rigs.PINS``
and ``STATIONKIT_GATE_BENCH`` set to ``lgpio`` or ``rpigpio``; passages need
someone at the beam, so the passage tests (test_gate_passages) are sim only.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from gate_rigs import PINS, sim_config

from drivers.errors import DeviceConfigError, DeviceUnavailable, DriverErrorCode
from drivers.gate_mechanism import GateMechanism, GateMechanismConfig, open_gate

BENCH = os.environ.get("STATIONKIT_GATE_BENCH", "")


def gpio_config(factory: str) -> GateMechanismConfig:
    return GateMechanismConfig(backend="gpio", pin_factory=factory, **PINS, relay_active_high=False)


@pytest.fixture(params=["sim", "gpio"])
def gate(request: pytest.FixtureRequest) -> Iterator[GateMechanism]:
    if request.param == "gpio":
        if BENCH not in ("lgpio", "rpigpio"):
            pytest.skip("no gate wired to this machine's GPIO (set STATIONKIT_GATE_BENCH)")
        mechanism = open_gate(gpio_config(BENCH))
    else:
        mechanism = open_gate(sim_config(walk_through_ms=60_000))  # nobody walks in time
    yield mechanism
    mechanism.close()


def test_a_new_gate_is_locked(gate: GateMechanism) -> None:
    health = gate.health()
    assert health.flaps_open == {"entry": False, "exit": False}
    assert not health.is_emergency and not health.is_closed
    assert health.last_error is None


def test_flaps_open_and_lock_one_by_one_or_together(gate: GateMechanism) -> None:
    gate.open("exit")
    assert gate.health().flaps_open == {"entry": False, "exit": True}
    gate.open("entry")
    gate.lock("exit")
    assert gate.health().flaps_open == {"entry": True, "exit": False}
    gate.lock()
    assert gate.health().flaps_open == {"entry": False, "exit": False}


def test_emergency_open_and_back(gate: GateMechanism) -> None:
    gate.emergency_open()
    gate.lock()
    assert gate.health().flaps_open == {"entry": True, "exit": True}
    gate.end_emergency()
    assert gate.health().flaps_open == {"entry": False, "exit": False}


def test_lamps_and_known_beeps_work_and_an_unknown_beep_is_refused(gate: GateMechanism) -> None:
    for lamp in ("green", "red", "off"):
        gate.show("entry", lamp)
    gate.beep("ok")
    gate.beep("refuse")
    with pytest.raises(DeviceConfigError, match="no beep pattern 'fanfare'"):
        gate.beep("fanfare")


def test_a_closed_gate_refuses_commands_with_a_driver_error(gate: GateMechanism) -> None:
    gate.close()
    commands: list[Callable[[], None]] = [
        lambda: gate.open("entry"),
        gate.emergency_open,
        lambda: gate.show("exit", "red"),
    ]
    for command in commands:
        with pytest.raises(DeviceUnavailable) as raised:
            command()
        assert raised.value.code is DriverErrorCode.UNAVAILABLE
    assert gate.health().is_closed


@pytest.mark.skipif(Path("/dev/gpiochip0").exists(), reason="this machine has GPIO")
@pytest.mark.parametrize("factory", ["lgpio", "rpigpio"])
def test_the_gpio_backend_off_a_pi_fails_with_a_clear_driver_error(factory: str) -> None:
    with pytest.raises(DeviceUnavailable, match=f"the {factory} GPIO pin factory") as raised:
        open_gate(gpio_config(factory))
    assert 'backend = "sim"' in raised.value.message
    assert raised.value.code is DriverErrorCode.UNAVAILABLE
