"""The CardReader contract, run against every backend that can run here.

``sim``: real pcscd, vsmartcard's virtual reader and our card emulator,
steered over its control socket. ``pcsc``: a real reader on a bench, when
``STATIONKIT_CARD_READER`` names it (part of its PC/SC name); a person then
presents and withdraws cards when the test asks (run with ``-s``), and
``STATIONKIT_TEST_CARD_ID`` gives the ID number on the bench's StationKit
card. Both backends go through the same PC/SC code.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Protocol

import pytest

from drivers.card_reader import (
    CardFault,
    CardFaultReason,
    CardReader,
    CardReaderConfig,
    CardTap,
    HolderRecord,
    open_card_reader,
)
from drivers.errors import DeviceUnavailable
from drivers.sim.control import SimulatorClient

from .scenario import run

BENCH_READER = os.environ.get("STATIONKIT_CARD_READER")
BENCH_CARD_ID = os.environ.get("STATIONKIT_TEST_CARD_ID")
HOLDER = HolderRecord("11010519491231002X", "张三", "SN-0001", date(2031, 12, 31))
FIXED_NOW = datetime(2026, 12, 2, 8, 30, tzinfo=UTC)


class Presenter(Protocol):
    """Whoever puts cards on the reader: the emulator, or a person at the bench."""

    def present(self, holder: HolderRecord) -> None: ...

    def present_foreign(self) -> None: ...

    def withdraw(self) -> None: ...

    def expected_id(self, holder: HolderRecord) -> str | None: ...


class EmulatorPresenter:
    """Cards from the emulator, over its control socket."""

    def __init__(self, client: SimulatorClient) -> None:
        self.client = client

    def present(self, holder: HolderRecord) -> None:
        self.client.send(
            "insert",
            id_number=holder.id_number,
            name=holder.name,
            serial=holder.serial,
            expiry=None if holder.expiry is None else holder.expiry.isoformat(),
        )
        self.client.expect("inserted")

    def present_foreign(self) -> None:
        self.client.send("insert_foreign")
        self.client.expect("inserted")

    def withdraw(self) -> None:
        self.client.send("remove")
        self.client.expect("removed")

    def expected_id(self, holder: HolderRecord) -> str | None:
        return holder.id_number


class PersonPresenter:
    """A person at the bench, told what to do on the terminal."""

    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self.capsys = capsys

    def say(self, words: str) -> None:
        with self.capsys.disabled():
            print(f"\n>>> {words}", file=sys.stderr, flush=True)

    def present(self, holder: HolderRecord) -> None:
        self.say("present the StationKit test card, and hold it there")

    def present_foreign(self) -> None:
        self.say("present a card that is NOT a StationKit card (a bank or transit card)")

    def withdraw(self) -> None:
        self.say("take the card away")

    def expected_id(self, holder: HolderRecord) -> str | None:
        return BENCH_CARD_ID


@dataclass
class Backend:
    """One backend under test: its config, and who presents the cards."""

    config: CardReaderConfig
    presenter: AbstractContextManager[Presenter]
    tap_timeout_s: float


@contextmanager
def emulator_presenter(config: CardReaderConfig) -> Iterator[Presenter]:
    assert config.control_socket is not None
    with SimulatorClient(config.control_socket) as client:
        yield EmulatorPresenter(client)


@contextmanager
def person_presenter(capsys: pytest.CaptureFixture[str]) -> Iterator[Presenter]:
    yield PersonPresenter(capsys)


@pytest.fixture(params=["sim", "pcsc"])
def backend(request: pytest.FixtureRequest, capsys: pytest.CaptureFixture[str]) -> Backend:
    if request.param == "pcsc":
        if not BENCH_READER:
            pytest.skip("no real reader: set STATIONKIT_CARD_READER to part of its PC/SC name")
        config = CardReaderConfig(backend="pcsc", reader=BENCH_READER, read_timeout_s=2.0)
        return Backend(config, person_presenter(capsys), tap_timeout_s=60.0)
    config = request.getfixturevalue("sim_config")
    return Backend(config, emulator_presenter(config), tap_timeout_s=10.0)


async def next_outcome(reader: CardReader, backend: Backend) -> CardTap | CardFault:
    return await asyncio.wait_for(reader.next_tap(), backend.tap_timeout_s)


def test_a_presented_card_gives_a_tap_with_its_holder(backend: Backend) -> None:
    async def scenario() -> None:
        async with await open_card_reader(backend.config, clock=lambda: FIXED_NOW) as reader:
            with backend.presenter as presenter:
                presenter.present(HOLDER)
                tap = await next_outcome(reader, backend)
                presenter.withdraw()
        assert isinstance(tap, CardTap), tap
        assert tap.at == FIXED_NOW
        assert tap.id_number not in repr(tap) and tap.name not in repr(tap)
        if (expected := presenter.expected_id(HOLDER)) is not None:
            assert tap.id_number == expected
        if isinstance(presenter, EmulatorPresenter):
            assert (tap.name, tap.serial, tap.expiry) == ("张三", "SN-0001", date(2031, 12, 31))

    run(scenario())


def test_a_held_card_is_read_once_and_again_when_presented_again(backend: Backend) -> None:
    async def scenario() -> None:
        async with await open_card_reader(backend.config) as reader:
            with backend.presenter as presenter:
                presenter.present(HOLDER)
                first = await next_outcome(reader, backend)
                second = asyncio.ensure_future(reader.next_tap())
                await asyncio.sleep(1.5)  # more than three presence polls with the card held
                assert not second.done(), "a held card was read twice"
                presenter.withdraw()
                presenter.present(HOLDER)
                assert isinstance(await asyncio.wait_for(second, backend.tap_timeout_s), CardTap)
                presenter.withdraw()
        assert isinstance(first, CardTap)

    run(scenario())


def test_a_foreign_card_is_not_ours(backend: Backend) -> None:
    async def scenario() -> None:
        async with await open_card_reader(backend.config) as reader:
            with backend.presenter as presenter:
                presenter.present_foreign()
                fault = await next_outcome(reader, backend)
                presenter.withdraw()
        assert isinstance(fault, CardFault), fault
        assert fault.reason is CardFaultReason.NOT_OUR_CARD

    run(scenario())


def test_health_names_the_reader_and_close_ends_it(backend: Backend) -> None:
    async def scenario() -> None:
        reader = await open_card_reader(backend.config)
        health = reader.health()
        waiting = asyncio.ensure_future(reader.next_tap())
        await asyncio.sleep(0)
        await reader.close()
        with pytest.raises(DeviceUnavailable, match="closed"):
            await waiting
        with pytest.raises(DeviceUnavailable, match="closed"):
            await reader.next_tap()
        await reader.close()  # a second close does nothing
        assert health.reader_present and health.last_error is None and not health.is_closed
        assert health.reader_name is not None
        assert backend.config.reader.casefold() in health.reader_name.casefold()
        assert reader.health().is_closed and not reader.health().reader_present

    run(scenario())
