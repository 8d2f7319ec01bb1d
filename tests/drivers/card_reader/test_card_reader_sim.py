"""End to end through real pcscd and the virtual reader: odd cards, cancelled waits, no pcscd."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

from drivers.card_reader import (
    CardFault,
    CardFaultReason,
    CardReader,
    CardReaderConfig,
    CardTap,
    open_card_reader,
)
from drivers.card_reader.errors import OddAnswerReason
from drivers.sim.control import Message, SimulatorClient, SimulatorProcess

from .conftest import VpcdSlot
from .scenario import run

ID_NUMBER = "11010519491231002X"
TAP_TIMEOUT_S = 10.0

# What each odd card must give: a tap (the driver copes), or a fault and its cause.
ODD_OUTCOMES: dict[str, tuple[CardFaultReason | None, str]] = {
    "chained": (None, ""),
    "wrong_le": (None, ""),
    "truncated": (CardFaultReason.ODD_ANSWER, OddAnswerReason.RECORD_TRUNCATED),
    "bad_tlv": (CardFaultReason.ODD_ANSWER, OddAnswerReason.RECORD_UNKNOWN_TAG),
    "bad_utf8": (CardFaultReason.ODD_ANSWER, OddAnswerReason.RECORD_BAD_TEXT),
    "bad_id": (CardFaultReason.ODD_ANSWER, OddAnswerReason.RECORD_BAD_ID_NUMBER),
    "endless_chain": (CardFaultReason.ODD_ANSWER, OddAnswerReason.CHAIN_TOO_LONG),
    "wrong_le_loop": (CardFaultReason.ODD_ANSWER, OddAnswerReason.WRONG_LENGTH_AGAIN),
    "wrong_status": (CardFaultReason.ODD_ANSWER, OddAnswerReason.UNEXPECTED_STATUS),
    "short_answer": (CardFaultReason.ODD_ANSWER, OddAnswerReason.SHORT_RESPONSE),
    "locked": (CardFaultReason.UNREADABLE, "6982"),
    "silence": (CardFaultReason.UNREADABLE, "no whole answer"),
    "leaves_early": (CardFaultReason.REMOVED_TOO_EARLY, "left mid-read"),
}


async def tap_of(reader: CardReader) -> CardTap | CardFault:
    return await asyncio.wait_for(reader.next_tap(), TAP_TIMEOUT_S)


def insert(client: SimulatorClient, **holder: str) -> None:
    client.send("insert", id_number=ID_NUMBER, name="李四", **holder)
    client.expect("inserted")


def clear_field(client: SimulatorClient) -> None:
    """Take the card out, unless it left by itself; either way claim its ``removed``."""
    client.send("status")
    if client.expect("status")["in_field"]:
        client.send("remove")
    client.expect("removed")


def test_each_odd_card_gives_its_outcome_and_the_reader_goes_on(
    sim_config: CardReaderConfig,
) -> None:
    config = sim_config.model_copy(update={"read_timeout_s": 1.0})

    async def scenario() -> dict[str, CardTap | CardFault]:
        outcomes: dict[str, CardTap | CardFault] = {}
        async with await open_card_reader(config) as reader:
            assert config.control_socket is not None
            with SimulatorClient(config.control_socket) as client:
                for mode in ODD_OUTCOMES:
                    client.send("insert_odd", mode=mode, silence_s=2.0)
                    client.expect("inserted")
                    outcomes[mode] = await tap_of(reader)
                    clear_field(client)
                insert(client)
                outcomes["good card after all"] = await tap_of(reader)
                clear_field(client)
                assert ID_NUMBER not in json.dumps(client.events())
        return outcomes

    outcomes = run(scenario())
    assert isinstance(outcomes.pop("good card after all"), CardTap)
    wrong = {mode: outcome for mode, outcome in outcomes.items() if not _as_expected(mode, outcome)}
    assert not wrong, wrong


def _as_expected(mode: str, outcome: CardTap | CardFault) -> bool:
    reason, cause = ODD_OUTCOMES[mode]
    if reason is None:
        return isinstance(outcome, CardTap) and outcome.id_number == "000000000000000000"
    return isinstance(outcome, CardFault) and outcome.reason is reason and cause in outcome.detail


def test_the_emulator_reports_apdus_and_masks_the_id(sim_config: CardReaderConfig) -> None:
    async def scenario() -> list[Message]:
        async with await open_card_reader(sim_config) as reader:
            assert sim_config.control_socket is not None
            with SimulatorClient(sim_config.control_socket) as client:
                insert(client, serial="SN-9")
                await tap_of(reader)
                clear_field(client)
                return client.events()

    events = run(scenario())
    assert [e["sw"] for e in events if e["event"] == "apdu"] == ["9000", "6282"]
    assert [e["id"] for e in events if e["event"] == "inserted"] == ["110*************2X"]
    assert ID_NUMBER not in json.dumps(events)


def test_a_cancelled_wait_loses_no_tap(sim_config: CardReaderConfig) -> None:
    async def scenario() -> CardTap | CardFault:
        async with await open_card_reader(sim_config) as reader:
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(reader.next_tap(), 0.2)
            assert sim_config.control_socket is not None
            with SimulatorClient(sim_config.control_socket) as client:
                insert(client, serial="after-cancel")
                outcome = await tap_of(reader)
                clear_field(client)
                return outcome

    outcome = run(scenario())
    assert isinstance(outcome, CardTap) and outcome.serial == "after-cancel"


def test_a_second_emulator_on_the_same_reader_stops_at_once(
    vpcd_slot: VpcdSlot, tmp_path: Path
) -> None:
    port = ["--port", str(vpcd_slot.port)]
    with SimulatorProcess("drivers.card_reader.emulator", *port) as first:
        second = SimulatorProcess("drivers.card_reader.emulator", *port)
        with pytest.raises(Exception, match="ready"):
            second.start(timeout=10)
        second.stop()
        assert "holds the virtual reader" in second.expect("error")["message"]
        first.send("status")
        assert first.expect("status")["in_field"] is False


def test_an_insert_with_a_bad_id_number_is_refused(sim_config: CardReaderConfig) -> None:
    async def scenario() -> Message:
        async with await open_card_reader(sim_config):
            assert sim_config.control_socket is not None
            with SimulatorClient(sim_config.control_socket) as client:
                client.send("insert", id_number="not an id", name="x")
                return client.expect("error")

    assert "record_bad_id_number" in run(scenario())["message"]


NO_PCSCD_SCRIPT = """
import asyncio, json
from drivers.card_reader import CardReaderConfig, open_card_reader
from drivers.errors import DriverError
try:
    asyncio.run(open_card_reader(CardReaderConfig(backend="pcsc", reader="any reader")))
except DriverError as exc:
    print(json.dumps({"type": type(exc).__name__, "code": exc.code, "message": exc.message}))
"""


def test_without_pcscd_opening_says_so_clearly(tmp_path: Path) -> None:
    # pyscard's client finds pcscd by this socket; pointing it at nothing is
    # what a machine without pcscd looks like, without stopping anyone's daemon.
    env = {"PCSCLITE_CSOCK_NAME": str(tmp_path / "no-pcscd.comm"), "PYTHONPATH": "."}
    done = subprocess.run(
        [sys.executable, "-c", NO_PCSCD_SCRIPT], env=env, capture_output=True, timeout=60
    )
    error = json.loads(done.stdout)
    assert (error["type"], error["code"]) == ("PcscServiceDown", "device_unavailable")
    assert "pcscd is not running" in error["message"] and "0x8010001D" in error["message"]


def test_a_reader_that_is_not_there_fails_opening_naming_the_readers(
    pcscd_running: list[str],
) -> None:
    config = CardReaderConfig(backend="pcsc", reader="No Such Reader", open_timeout_s=0.3)
    with pytest.raises(Exception, match=r"no PC/SC reader matches 'No Such Reader'.*Virtual PCD"):
        run(open_card_reader(config))


def test_a_name_matching_two_readers_is_refused(pcscd_running: list[str]) -> None:
    if len(pcscd_running) < 2:
        pytest.skip("this machine's vpcd has one virtual reader")
    config = CardReaderConfig(backend="pcsc", reader="Virtual PCD")
    with pytest.raises(Exception, match="matches 2 readers"):
        run(open_card_reader(config))
