"""Measure the sim card reader: time from ``insert`` to ``CardTap``, and one card's read alone.

Run from the repository root: ``python -m tests.drivers.card_reader.tap_latency
[--taps 11]``. It takes the first virtual reader (waiting for the tests' lock
on it), starts pcscd if need be, and prints the medians. Not a test: timing
is never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import random
import statistics
import tempfile
import time
from pathlib import Path

from drivers.card_reader import (
    CardReader,
    CardReaderConfig,
    CardTap,
    ensure_pcscd,
    open_card_reader,
)
from drivers.card_reader.emulator.card import Answer, OurCard, our_card
from drivers.card_reader.pcsc import PcscSlot
from drivers.card_reader.record import HolderRecord
from drivers.card_reader.session import read_holder
from drivers.sim.control import SimulatorClient

READER, PORT = "Virtual PCD 00 00", 35963
HOLDER = HolderRecord("11010519491231002X", "张三")
IDLE_S = 1.0  # the reader has seen the last card leave long before the next comes
POLL_S = 0.4  # vpcd's presence poll: taps come at random phases of it


async def measure(taps: int, reads: int, socket_path: Path) -> None:
    """Print the medians: insert to tap, and the read of a card held in the field."""
    config = CardReaderConfig(
        backend="sim", reader=READER, vpcd_port=PORT, control_socket=socket_path
    )
    async with await open_card_reader(config) as reader:
        with SimulatorClient(socket_path) as client:
            print(summary("insert -> CardTap", await insert_to_tap(reader, client, taps)))
            client.send("insert", id_number=HOLDER.id_number, name=HOLDER.name)
            await reader.next_tap()
            held = await asyncio.to_thread(read_held_card, reads)
            print(summary("connect + SELECT + READ BINARY + disconnect", held))
            client.send("remove")
    print(summary("the session alone, in process", in_process_read(reads)))


async def insert_to_tap(reader: CardReader, client: SimulatorClient, taps: int) -> list[float]:
    """Seconds from sending ``insert`` to ``next_tap`` returning, per tap."""
    times: list[float] = []
    for _ in range(taps):
        await asyncio.sleep(IDLE_S + random.uniform(0, POLL_S))
        start = time.perf_counter()
        client.send("insert", id_number=HOLDER.id_number, name=HOLDER.name)
        tap = await asyncio.wait_for(reader.next_tap(), 10)
        times.append(time.perf_counter() - start)
        assert isinstance(tap, CardTap), tap
        client.send("remove")
        client.expect("removed")
    return times


def read_held_card(reads: int) -> list[float]:
    """Seconds per whole read of the card in the field, on a second PC/SC context."""
    slot = PcscSlot(READER)
    slot.attach()
    try:
        return [_one_read(slot) for _ in range(reads)]
    finally:
        slot.detach()


def _one_read(slot: PcscSlot) -> float:
    start = time.perf_counter()
    slot.connect()
    assert read_holder(slot.transmit) == HOLDER
    slot.disconnect()
    return time.perf_counter() - start


def in_process_read(reads: int) -> list[float]:
    """The card protocol alone: the session against the card object, no wire."""
    times = []
    for _ in range(reads):
        card = our_card(HOLDER)

        def transmit(apdu: bytes, card: OurCard = card) -> bytes:
            reply = card.respond(apdu)
            assert isinstance(reply, Answer)
            return reply.payload

        start = time.perf_counter()
        read_holder(transmit)
        times.append(time.perf_counter() - start)
    return times


def summary(name: str, seconds: list[float]) -> str:
    ms = sorted(s * 1000 for s in seconds)
    return (
        f"{name}: median {statistics.median(ms):.2f} ms, "
        f"min {ms[0]:.2f}, max {ms[-1]:.2f} (n={len(ms)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--taps", type=int, default=11)
    parser.add_argument("--reads", type=int, default=200)
    args = parser.parse_args()
    lock_path = Path(tempfile.gettempdir()) / f"stationkit-vpcd-{PORT}-tests.lock"
    with open(lock_path, "ab") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # no card test uses this reader meanwhile
        ensure_pcscd(READER)
        socket_path = Path(tempfile.mkdtemp()) / "card.sock"
        asyncio.run(measure(args.taps, args.reads, socket_path))


if __name__ == "__main__":
    main()
