"""A stand-in unit process with a simulated gate: each ``pass`` command lets one person through.

Run as ``python -m tests.drivers.gate_mechanism.gate_unit SOCKET``; the gate's
simulator serves SOCKET inside this process, as it would inside a real unit.
Commands on stdin (JSON lines): ``{"command": "pass", "direction": "entry"}``
opens that flap, waits for the passage, locks it and answers ``served``.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import orjson

from drivers.gate_mechanism import GateMechanismConfig, open_gate


def say(event: str, **fields: object) -> None:
    sys.stdout.buffer.write(orjson.dumps({"event": event, **fields}) + b"\n")
    sys.stdout.buffer.flush()


async def serve(socket_path: Path) -> None:
    gate = open_gate(
        GateMechanismConfig(
            backend="sim",
            entry={"flap_relay": 17, "passage_sensor": 27},
            exit={"flap_relay": 22, "passage_sensor": 23},
            shared_lamps={"green": 5, "red": 6},
            buzzer=13,
            relay_active_high=False,
            walk_through_ms=40,
            control_socket=socket_path,
        )
    )
    say("ready")
    while line := await asyncio.to_thread(sys.stdin.buffer.readline):
        direction = orjson.loads(line)["direction"]
        gate.open(direction)
        passed = await gate.wait_passage(direction, timeout_s=5)
        gate.lock(direction)
        say("served", direction=direction, passed=passed)
    gate.close()


if __name__ == "__main__":
    asyncio.run(serve(Path(sys.argv[1])))
