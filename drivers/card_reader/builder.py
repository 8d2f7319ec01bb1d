"""Building a ``CardReader`` from its profile section: the backend picks what runs under it.

Both backends read cards through the same PC/SC code. ``pcsc`` expects the
system's pcscd and a real reader: if pcscd does not answer, or no reader
matches within ``open_timeout_s``, building fails with a ``DriverError``
that says so. ``sim`` first makes sure pcscd runs with vsmartcard's virtual
reader (``ensure_pcscd``), then starts the card emulator on the configured
vpcd port (steered over ``control_socket``), and closes it with the reader.
"""

from __future__ import annotations

import asyncio
import functools

from drivers.card_reader.config import CardReaderConfig
from drivers.card_reader.pcsc import PcscSlot
from drivers.card_reader.pcscd import ensure_pcscd
from drivers.card_reader.reader import CardReader, Clock, system_clock
from drivers.errors import DeviceUnavailable
from drivers.sim.control import SimulatorError, SimulatorProcess

EMULATOR_MODULE = "drivers.card_reader.emulator"
EMULATOR_START_TIMEOUT_S = 15.0


async def open_card_reader(config: CardReaderConfig, clock: Clock = system_clock) -> CardReader:
    """A started ``CardReader`` for ``config``; close it with ``await reader.close()``."""
    emulator = await _start_sim(config) if config.backend == "sim" else None
    on_close = None if emulator is None else functools.partial(_stop, emulator)
    reader = CardReader(PcscSlot(config.reader), config, clock, on_close)
    try:
        await reader.start()
    except BaseException:
        await reader.close()
        raise
    return reader


async def _start_sim(config: CardReaderConfig) -> SimulatorProcess:
    await asyncio.to_thread(
        ensure_pcscd, config.reader, max(config.open_timeout_s, EMULATOR_START_TIMEOUT_S)
    )
    arguments = ["--port", str(config.vpcd_port)]
    if config.control_socket is not None:
        arguments += ["--control-socket", str(config.control_socket)]
    emulator = SimulatorProcess(EMULATOR_MODULE, *arguments)
    try:
        await asyncio.to_thread(emulator.start, EMULATOR_START_TIMEOUT_S)
    except SimulatorError as exc:
        await _stop(emulator)
        errors = "; ".join(str(event.get("message")) for event in emulator.events("error"))
        raise DeviceUnavailable(f"the card emulator did not start: {errors or exc}") from exc
    return emulator


async def _stop(emulator: SimulatorProcess) -> None:
    await asyncio.to_thread(emulator.stop)
