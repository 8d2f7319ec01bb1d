"""Relay safety: locked is de-energised, from the first instant to after shutdown, come what may."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from gate_rigs import (
    RELAY_PINS,
    ExplodingClosePin,
    FailingWritePin,
    is_energised,
    sim_config,
)
from gpiozero.pins.mock import MockFactory  # type: ignore[import-untyped]

from drivers.errors import DeviceConfigError, DeviceUnavailable
from drivers.gate_mechanism import DirectionPins, GateBoard, GateMechanism, open_gate

ACTIVE_LEVELS = [pytest.param(True, id="active-high"), pytest.param(False, id="active-low")]


def driven_levels(pin: Any) -> list[bool]:
    """The levels a mock pin took after its first (input, undriven) state."""
    return [state.state for state in pin.states[1:]]


@pytest.mark.parametrize("active_high", ACTIVE_LEVELS)
def test_every_relay_starts_de_energised_and_never_blips(active_high: bool) -> None:
    gate = open_gate(sim_config(relay_active_high=active_high))
    try:
        for direction, number in RELAY_PINS.items():
            pin = gate.pin_factory.pin(number)
            assert not is_energised(gate, direction, active_high)
            assert active_high not in driven_levels(pin)  # never at the energised level
        assert not any(gate.health().flaps_open.values())
    finally:
        gate.close()


@pytest.mark.parametrize("active_high", ACTIVE_LEVELS)
def test_open_energises_and_lock_de_energises_only_that_flap(active_high: bool) -> None:
    gate = open_gate(sim_config(relay_active_high=active_high, walk_through_ms=60_000))
    try:
        gate.open("entry")
        assert is_energised(gate, "entry", active_high)
        assert not is_energised(gate, "exit", active_high)
        gate.lock("entry")
        assert not is_energised(gate, "entry", active_high)
        entry = gate.pin_factory.pin(RELAY_PINS["entry"])
        assert driven_levels(entry)[-2:] == [active_high, not active_high]
    finally:
        gate.close()


@pytest.mark.parametrize("active_high", ACTIVE_LEVELS)
def test_close_leaves_every_relay_de_energised(active_high: bool) -> None:
    gate = open_gate(sim_config(relay_active_high=active_high, walk_through_ms=60_000))
    pins = {d: gate.pin_factory.pin(n) for d, n in RELAY_PINS.items()}
    gate.emergency_open()
    gate.show("entry", "green")
    gate.close()
    for pin in pins.values():
        assert pin.state == (not active_high)
    assert gate.health().is_closed and not gate.health().is_emergency
    with pytest.raises(DeviceUnavailable, match="closed"):
        gate.open("entry")
    gate.close()  # a second close is harmless


def board_on(factory: MockFactory) -> GateMechanism:
    return GateMechanism(GateBoard(sim_config(), factory), backend="sim")


@pytest.mark.parametrize("failing_part", [RELAY_PINS["entry"], 13], ids=["entry-relay", "buzzer"])
def test_close_de_energises_every_relay_even_when_one_part_fails_to_close(
    failing_part: int,
) -> None:
    factory = MockFactory()
    factory.pin(failing_part, pin_class=ExplodingClosePin)
    gate = board_on(factory)
    pins = {d: factory.pin(n) for d, n in RELAY_PINS.items()}
    gate.emergency_open()
    gate.beep("alarm")
    gate.close()  # logs the failure, does not raise
    assert all(pin.state for pin in pins.values())  # active-low: high is de-energised
    last_error = gate.health().last_error
    assert last_error is not None and "pin close failed" in last_error


def test_a_relay_that_cannot_be_written_does_not_keep_the_others_energised() -> None:
    factory = MockFactory()
    stuck = factory.pin(RELAY_PINS["entry"], pin_class=FailingWritePin)
    gate = board_on(factory)
    exit_pin = factory.pin(RELAY_PINS["exit"])
    gate.emergency_open()
    stuck.fails = True
    gate.close()
    assert exit_pin.state  # de-energised (active-low)
    last_error = gate.health().last_error
    assert last_error is not None and "entry.flap_relay off" in last_error


def test_a_failed_open_is_a_driver_error_and_the_other_flap_still_moves() -> None:
    factory = MockFactory()
    factory.pin(RELAY_PINS["entry"], pin_class=FailingWritePin).fails = True
    with pytest.raises(DeviceUnavailable, match=r"entry\.flap_relay on GPIO17"):
        board_on(factory)  # even the initial de-energise write failed: refused at start
    factory = MockFactory()
    stuck = factory.pin(RELAY_PINS["entry"], pin_class=FailingWritePin)
    gate = board_on(factory)
    stuck.fails = True
    with pytest.raises(DeviceUnavailable, match="entry flap relay"):
        gate.emergency_open()
    assert not factory.pin(RELAY_PINS["exit"]).state  # exit opened all the same
    assert gate.health().flaps_open == {"entry": False, "exit": True}
    gate.close()


def test_emergency_open_holds_every_flap_open_until_commanded_back() -> None:
    gate = open_gate(sim_config(walk_through_ms=60_000))
    try:
        gate.emergency_open()
        assert gate.is_emergency and gate.health().is_emergency
        assert all(is_energised(gate, d, False) for d in RELAY_PINS)
        gate.lock()  # ignored: nobody locks a fire exit by accident
        gate.lock("exit")
        gate.open("entry")
        assert all(is_energised(gate, d, False) for d in RELAY_PINS)
        gate.end_emergency()
        assert not gate.is_emergency
        assert not any(is_energised(gate, d, False) for d in RELAY_PINS)
        assert not any(gate.health().flaps_open.values())
    finally:
        gate.close()


def test_the_simulated_gate_removes_its_control_socket_on_close(tmp_path: Path) -> None:
    socket_path = tmp_path / "g.sock"
    gate = open_gate(sim_config(socket_path))
    assert socket_path.exists()
    gate.close()
    assert not socket_path.exists()


def test_a_pin_the_board_cannot_use_is_refused_at_start() -> None:
    config = sim_config().model_copy(
        update={"entry": DirectionPins(flap_relay=17, passage_sensor=2)}
    )  # GPIO2 has a fixed pull-up: it cannot be pulled down
    with pytest.raises(DeviceConfigError, match="GPIO2"):
        open_gate(config.model_copy(update={"sensor_pull": "down"}))
