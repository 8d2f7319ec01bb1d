"""The simulator control channel, with a real process on each end."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from drivers.sim.control import Control, SimulatorClient, SimulatorError, SimulatorProcess


def test_commands_reach_the_simulator_and_events_come_back() -> None:
    with SimulatorProcess("tests.drivers.sim.echo_simulator") as sim:
        sim.send("echo", text="G1234")
        assert sim.expect("echoed")["text"] == "G1234"


def test_a_bad_command_is_an_error_event_and_the_simulator_goes_on() -> None:
    with SimulatorProcess("tests.drivers.sim.echo_simulator") as sim:
        sim.send("nonsense")
        assert "unknown command 'nonsense'" in sim.expect("error")["message"]
        sim.send("fail")
        assert sim.expect("error")["message"] == "asked to fail"
        sim.send("echo", text="still here")
        assert sim.expect("echoed")["text"] == "still here"


def test_garbage_lines_are_reported_not_obeyed() -> None:
    events = io.BytesIO()
    control = Control(io.BytesIO(b'not json\n[1]\n\n{"command": "go"}\n'), events)
    assert list(control.commands()) == [{"command": "go"}]
    assert events.getvalue().count(b'"event":"error"') == 2


def test_expect_gives_up_with_a_clear_error() -> None:
    with (
        SimulatorProcess("tests.drivers.sim.echo_simulator") as sim,
        pytest.raises(SimulatorError, match="no 'echoed' event"),
    ):
        sim.expect("echoed", timeout=0.2)


def test_each_event_is_claimed_once() -> None:
    with SimulatorProcess("tests.drivers.sim.echo_simulator") as sim:
        sim.send("echo", text="a")
        sim.send("echo", text="b")
        assert [sim.expect("echoed")["text"], sim.expect("echoed")["text"]] == ["a", "b"]
        assert len(sim.events("echoed")) == 2


def test_a_second_steerer_uses_the_control_socket(tmp_path: Path) -> None:
    path = tmp_path / "echo.sock"
    with (
        SimulatorProcess("tests.drivers.sim.echo_simulator", str(path)) as sim,
        SimulatorClient(path) as client,
    ):
        client.send("echo", text="from the socket")
        assert client.expect("echoed")["text"] == "from the socket"
        assert sim.expect("echoed")["text"] == "from the socket"  # every listener hears it
        client.send("nonsense")
        assert "unknown command" in client.expect("error")["message"]
