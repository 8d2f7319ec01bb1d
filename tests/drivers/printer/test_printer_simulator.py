"""The printer simulator process: what it keeps, what it answers, how it is steered."""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from drivers.sim.control import SimulatorClient, SimulatorProcess

MODULE = "drivers.printer.simulator"
TICKET = b"\x1b@\x1ba\x01Hello\n\x1dv0\x00\x01\x00\x02\x00\xff\x81\x1bd\x02\x1dV\x00"


@pytest.fixture
def simulator(tmp_path: Path) -> Iterator[SimulatorProcess]:
    socket_path = tmp_path / "printer.sock"
    arguments = ["--output", str(tmp_path / "out"), "--control-socket", str(socket_path)]
    arguments += ["--paper-width", "384"]
    with SimulatorProcess(MODULE, *arguments) as process:
        yield process


def connect(simulator: SimulatorProcess) -> socket.socket:
    ready = simulator.events("ready")[0]
    return socket.create_connection((ready["host"], ready["port"]), timeout=5)


def test_ready_names_the_port_and_the_output_folder(
    simulator: SimulatorProcess, tmp_path: Path
) -> None:
    ready = simulator.events("ready")[0]
    assert ready["host"] == "127.0.0.1"
    assert ready["port"] > 0
    assert ready["output_dir"] == str(tmp_path / "out")


def test_every_byte_is_kept_and_each_cut_is_a_png(simulator: SimulatorProcess) -> None:
    with connect(simulator) as printer:
        printer.sendall(TICKET[:7])
        printer.sendall(TICKET[7:] + b"\x10\x04\x04")
        assert printer.recv(1) == b"\x12"  # paper fine
    printed = simulator.expect("ticket_printed")
    assert printed["unknown_commands"] == 0
    with Image.open(printed["path"]) as png:
        assert png.width == 384
    simulator.expect("disconnected")
    kept = Path(simulator.events("ready")[0]["output_dir"]) / "connection-0001.bin"
    assert kept.read_bytes() == TICKET + b"\x10\x04\x04"


def test_status_answers_follow_the_scripted_state(simulator: SimulatorProcess) -> None:
    script = [
        ({"command": "paper", "state": "near_end"}, b"\x12\x12\x12\x1e"),
        ({"command": "paper", "state": "out"}, b"\x1a\x32\x12\x7e"),
        ({"command": "paper", "state": "ok"}, b"\x12\x12\x12\x12"),
        ({"command": "cover", "open": True}, b"\x1a\x16\x12\x12"),
        ({"command": "cover", "open": False}, b"\x12\x12\x12\x12"),
        ({"command": "error", "kind": "unrecoverable"}, b"\x1a\x52\x32\x12"),
        ({"command": "error", "kind": "none"}, b"\x12\x12\x12\x12"),
        ({"command": "garbage", "on": True}, b"\xff\xff\xff\xff"),
    ]
    with connect(simulator) as printer:
        for command, expected in script:
            simulator.send(**command)  # type: ignore[arg-type]
            simulator.expect("status")
            printer.sendall(b"\x10\x04\x01\x10\x04\x02\x10\x04\x03\x10\x04\x04")
            assert receive(printer, 4) == expected, command


def test_a_silent_printer_answers_nothing(simulator: SimulatorProcess) -> None:
    simulator.send("silence", on=True)
    assert simulator.expect("status")["silent"] is True
    with connect(simulator) as printer:
        printer.settimeout(0.3)
        printer.sendall(b"\x10\x04\x01")
        with pytest.raises(TimeoutError):
            printer.recv(1)


def test_bad_commands_are_error_events_and_the_simulator_goes_on(
    simulator: SimulatorProcess, tmp_path: Path
) -> None:
    bad: list[tuple[str, dict[str, object]]] = [
        ("paper", {"state": "wet"}),
        ("paper", {"state": "ok", "after_bytes": 10}),
        ("cover", {}),
        ("error", {"kind": "fire"}),
        ("jam", {}),
    ]
    with SimulatorClient(tmp_path / "printer.sock") as client:
        for command, fields in bad:
            client.send(command, **fields)
            client.expect("error")
        client.send("status")
        status = client.expect("status")
    assert status["paper"] == "ok"
    assert status["cover_open"] is False


def test_garbage_on_the_wire_is_counted_and_the_next_ticket_still_prints(
    simulator: SimulatorProcess,
) -> None:
    junk = bytes(range(256)) * 8 + b"\x1dv0\x00\xff\xff\xff\xff\x1b\x1b"  # absurd raster
    with connect(simulator) as printer:
        printer.sendall(junk + b"\x1dV\x00" + TICKET)
    first, second = simulator.expect("ticket_printed"), simulator.expect("ticket_printed")
    assert first["unknown_commands"] > 0
    assert second["unknown_commands"] == 0
    simulator.send("status")
    assert simulator.expect("status")["pages_printed"] == 2


def test_paper_running_out_mid_page_loses_that_page(simulator: SimulatorProcess) -> None:
    simulator.send("paper", state="out", after_bytes=10)
    simulator.expect("status")
    with connect(simulator) as printer:
        printer.sendall(TICKET + b"\x10\x04\x04")
        assert printer.recv(1) == b"\x7e"
    simulator.send("status")
    status = simulator.expect("status")
    assert (status["pages_printed"], status["pages_lost"], status["paper"]) == (0, 1, "out")
    assert status["commands_dropped"] > 0


def test_without_an_output_folder_it_makes_a_temporary_one() -> None:
    with SimulatorProcess(MODULE) as process:
        output = Path(process.events("ready")[0]["output_dir"])
        assert output.is_dir()
        assert os.access(output, os.W_OK)
    shutil.rmtree(output)


def receive(connection: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = connection.recv(size - len(data))
        if not chunk:
            break
        data += chunk
    return data
