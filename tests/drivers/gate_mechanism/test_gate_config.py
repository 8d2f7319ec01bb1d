"""GateMechanismConfig refuses impossible wiring; lamps and beeps follow what the config says."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from gate_rigs import PINS, eventually, sim_config
from pydantic import ValidationError

from drivers.gate_mechanism import GateMechanismConfig, open_gate
from drivers.sim.control import SimulatorClient, SimulatorError

OWN_LAMPS = {
    "entry": {"flap_relay": 17, "passage_sensor": 27, "lamps": {"green": 5, "red": 6}},
    "exit": {"flap_relay": 22, "passage_sensor": 23, "lamps": {"green": 20, "red": 21}},
}


def gate_fields(**changes: Any) -> dict[str, Any]:
    fields = {"backend": "sim", **PINS, "relay_active_high": False, **changes}
    return {key: value for key, value in fields.items() if value is not None}


@pytest.mark.parametrize(
    ("changes", "complaint"),
    [
        ({"shared_lamps": None}, "entry and exit has no lamps: give shared_lamps"),
        ({**OWN_LAMPS}, "shared_lamps is unused"),
        ({"buzzer": 17}, r"GPIO17: entry\.flap_relay, buzzer|GPIO17: buzzer, entry\.flap_relay"),
        ({"buzzer": 28}, "less than or equal to 27"),
        ({"backend": "gpio"}, "needs pin_factory"),
        ({"pin_factory": "lgpio"}, 'pin_factory belongs to backend "gpio"'),
        ({"backend": "gpio", "pin_factory": "lgpio", "walk_through_ms": 5}, "walk_through_ms"),
        ({"backend": "gpio", "pin_factory": "lgpio", "control_socket": "/x"}, "control_socket"),
        ({"relay_active_high": None}, "relay_active_high"),
        ({"sensor_pull": "sideways"}, "sensor_pull"),
        ({"beeps": {"ok": {"on_ms": 1}}}, "on_ms"),
        ({"flap_delay_ms": 5}, "flap_delay_ms"),
    ],
)
def test_impossible_wiring_is_refused_naming_the_key(
    changes: dict[str, Any], complaint: str
) -> None:
    with pytest.raises(ValidationError, match=complaint):
        GateMechanismConfig(**gate_fields(**changes))


def test_own_lamps_per_direction_need_no_shared_lamps() -> None:
    config = GateMechanismConfig(**gate_fields(shared_lamps=None, **OWN_LAMPS))
    assert config.lamps_of("exit").green == 20
    assert config.pins()["exit.red"] == 21


def test_each_direction_lights_its_own_lamps() -> None:
    gate = open_gate(GateMechanismConfig(**gate_fields(shared_lamps=None, **OWN_LAMPS)))
    lamps = {n: gate.pin_factory.pin(n) for n in (5, 6, 20, 21)}
    try:
        gate.show("entry", "green")
        gate.show("exit", "red")
        assert {n: pin.state for n, pin in lamps.items()} == {5: 1, 6: 0, 20: 0, 21: 1}
        gate.show("entry", "red")
        gate.show("exit", "off")
        assert {n: pin.state for n, pin in lamps.items()} == {5: 0, 6: 1, 20: 0, 21: 0}
    finally:
        gate.close()


def test_shared_lamps_show_whichever_direction_spoke_last() -> None:
    gate = open_gate(sim_config(lamp_active_high=False))
    green, red = (gate.pin_factory.pin(n) for n in (5, 6))
    try:
        assert (green.state, red.state) == (1, 1)  # active-low lamps start dark
        gate.show("entry", "green")
        assert (green.state, red.state) == (0, 1)
        gate.show("exit", "red")
        assert (green.state, red.state) == (1, 0)
    finally:
        gate.close()


@pytest.mark.anyio
async def test_a_beep_pattern_from_the_profile_sounds_as_configured() -> None:
    beeps = {"welcome": {"on_ms": 20, "off_ms": 20, "count": 3}}
    gate = open_gate(sim_config(beeps=beeps))
    buzzer = gate.pin_factory.pin(13)
    try:
        gate.beep("welcome")
        await eventually(lambda: len(buzzer.states) == 7)  # idle, then on/off three times
        assert [s.state for s in buzzer.states] == [False, True, False, True, False, True, False]
    finally:
        gate.close()


def test_closing_a_simulated_gate_hangs_up_its_control_clients(tmp_path: Path) -> None:
    socket_path = tmp_path / "g.sock"
    gate = open_gate(sim_config(socket_path))
    with SimulatorClient(socket_path) as client:
        client.send("status")
        client.expect("status")
        gate.close()
        with pytest.raises(SimulatorError):
            client.expect("status", timeout=5)  # gives up at once: the line is gone
    assert not socket_path.exists()
