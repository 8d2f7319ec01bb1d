"""Passages on the simulated gate: the passenger walks, dawdles, tailgates; the mechanism counts.

The simulator's control socket is steered as another process would steer it
(``SimulatorClient``), and the relay history is read both from its events
and from the mock pins' own ``states``.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from gate_rigs import RELAY_PINS, SENSOR_PINS, eventually, sim_config

from drivers.gate_mechanism import GateMechanism, Passage, open_gate
from drivers.sim.control import SimulatorClient, SimulatorProcess

pytestmark = pytest.mark.anyio


@pytest.fixture
def socket_dir() -> Iterator[Path]:
    """A short private directory for Unix sockets (their paths are limited to 107 bytes)."""
    with tempfile.TemporaryDirectory(prefix="skg-") as path:
        yield Path(path)


@pytest.fixture
def gate_and_sim(socket_dir: Path) -> Iterator[tuple[GateMechanism, SimulatorClient]]:
    control = socket_dir / "gate.sock"
    gate = open_gate(sim_config(control))
    client = subscribed(SimulatorClient(control))
    yield gate, client
    client.close()
    gate.close()


def subscribed(client: SimulatorClient) -> SimulatorClient:
    """The client once the simulator has taken its connection (it hears every event after)."""
    client.send("status")
    client.expect("status")
    return client


def steer(client: SimulatorClient, command: str, answer: str, **fields: Any) -> dict[str, Any]:
    client.send(command, **fields)
    return client.expect(answer)


async def test_a_passenger_walks_through_an_opened_flap(
    gate_and_sim: tuple[GateMechanism, SimulatorClient],
) -> None:
    gate, _ = gate_and_sim
    seen: list[Passage] = []
    gate.subscribe(seen.append)
    gate.open("entry")
    assert await gate.wait_passage("entry", timeout_s=5)
    gate.lock("entry")
    await eventually(lambda: len(seen) == 1)
    assert seen[0].direction == "entry" and seen[0].flap_was_open
    assert seen[0].at.tzinfo is not None
    assert gate.health().passages == {"entry": 1, "exit": 0}


async def test_nobody_passes_a_no_show_opening_and_the_wait_says_so(
    gate_and_sim: tuple[GateMechanism, SimulatorClient],
) -> None:
    gate, sim = gate_and_sim
    steer(sim, "no_show", "no_show_set", count=1)
    gate.open("exit")
    assert not await gate.wait_passage("exit", timeout_s=0.3)  # the unit annuls it
    gate.lock("exit")
    assert sim.expect("no_show")["direction"] == "exit"
    gate.open("exit")  # the next one walks again
    assert await gate.wait_passage("exit", timeout_s=5)
    assert gate.health().passages == {"entry": 0, "exit": 1}


async def test_a_walker_faster_than_the_wait_still_counts(socket_dir: Path) -> None:
    control = socket_dir / "gate.sock"
    gate = open_gate(sim_config(control, walk_through_ms=0))
    try:
        with subscribed(SimulatorClient(control)) as sim:
            gate.open("entry")
            sim.expect("passenger_passed")  # done before anyone waits
            assert await gate.wait_passage("entry", timeout_s=0.5)
            assert not await gate.wait_passage("entry", timeout_s=0.05)  # one person, once
    finally:
        gate.close()


async def test_a_tailgater_is_seen_but_does_not_count_for_the_next_opening(
    gate_and_sim: tuple[GateMechanism, SimulatorClient],
) -> None:
    gate, sim = gate_and_sim
    seen: list[Passage] = []
    gate.subscribe(seen.append)
    steer(sim, "walk", "passenger_passed", direction="entry")
    await eventually(lambda: len(seen) == 1)
    assert not seen[0].flap_was_open
    steer(sim, "no_show", "no_show_set", count=1)
    gate.open("entry")
    assert not await gate.wait_passage("entry", timeout_s=0.2)


async def test_emergency_passages_are_counted_with_nobody_waiting(
    gate_and_sim: tuple[GateMechanism, SimulatorClient],
) -> None:
    gate, sim = gate_and_sim
    counts = {"entry": 0, "exit": 0}
    subscription = gate.subscribe(
        lambda passage: counts.__setitem__(passage.direction, counts[passage.direction] + 1)
    )
    steer(sim, "no_show", "no_show_set", count=2)  # opening both flaps sends nobody
    gate.emergency_open()
    for direction in ["entry", "entry", "entry", "exit"]:
        steer(sim, "walk", "passenger_passed", direction=direction)
    await eventually(lambda: counts == {"entry": 3, "exit": 1})
    subscription.cancel()
    steer(sim, "walk", "passenger_passed", direction="exit")
    await eventually(lambda: gate.health().passages["exit"] == 2)
    assert counts == {"entry": 3, "exit": 1}  # cancelled: no more calls
    gate.end_emergency()


@pytest.mark.parametrize(
    ("pull", "active_high"),
    [("up", False), ("up", True), ("down", True), ("down", False), ("none", True)],
)
async def test_every_sensor_wiring_sees_a_passage(
    socket_dir: Path, pull: str, active_high: bool
) -> None:
    config = sim_config(socket_dir / "g.sock", sensor_pull=pull, sensor_active_high=active_high)
    gate = open_gate(config)
    try:
        assert gate.health().sensors_occupied == {"entry": False, "exit": False}
        gate.open("exit")
        assert await gate.wait_passage("exit", timeout_s=5)
    finally:
        gate.close()


async def test_a_wait_ends_false_when_the_gate_closes(
    gate_and_sim: tuple[GateMechanism, SimulatorClient],
) -> None:
    gate, sim = gate_and_sim
    steer(sim, "no_show", "no_show_set", count=1)
    gate.open("entry")
    waiting = asyncio.create_task(gate.wait_passage("entry", timeout_s=30))
    await asyncio.sleep(0)  # let it start waiting
    gate.close()
    assert await asyncio.wait_for(waiting, 5) is False


async def test_relay_and_sensor_events_tell_the_whole_passage_in_order(
    gate_and_sim: tuple[GateMechanism, SimulatorClient],
) -> None:
    gate, sim = gate_and_sim
    entry_relay = gate.pin_factory.pin(RELAY_PINS["entry"])
    sensor = gate.pin_factory.pin(SENSOR_PINS["entry"])
    entry_relay.clear_states()
    gate.open("entry")
    assert await gate.wait_passage("entry", timeout_s=5)
    gate.lock("entry")
    opened = sim.expect("relay", where=lambda e: e["direction"] == "entry" and e["energised"])
    stepped_in = sim.expect("sensor", where=lambda e: e["occupied"])
    stepped_out = sim.expect("sensor", where=lambda e: not e["occupied"])
    locked = sim.expect("relay", where=lambda e: e["direction"] == "entry")
    assert not locked["energised"] and locked["level"] == 1  # active-low: high is locked
    times = [e["at"] for e in (opened, stepped_in, stepped_out, locked)]
    assert times == sorted(times)
    assert [s.state for s in entry_relay.states] == [True, False, True]  # in-process history
    assert [s.state for s in sensor.states][-2:] == [False, True]  # active-low beam: in, out


def test_another_process_reads_the_relay_history_of_a_unit_it_did_not_start(
    socket_dir: Path,
) -> None:
    control = socket_dir / "unit-gate.sock"
    with SimulatorProcess("tests.drivers.gate_mechanism.gate_unit", str(control)) as unit:
        with subscribed(SimulatorClient(control)) as sim:
            before = time.monotonic()
            unit.send("pass", direction="exit")
            assert unit.expect("served")["passed"] is True
            locked = sim.expect("relay", where=lambda e: not e["energised"])
            after = time.monotonic()
        relays = [(e["direction"], e["energised"]) for e in sim.events("relay")]
        sensors = [e["occupied"] for e in sim.events("sensor")]
    assert relays == [("exit", True), ("exit", False)]
    assert sensors == [True, False]
    opened_at = sim.events("relay")[0]["at"]
    assert before <= opened_at <= locked["at"] <= after  # one monotonic clock for both
