"""The gate's contactless card reader: one outcome per card presented, for the asyncio loop.

``CardReader`` watches its slot from a background task: each card that
arrives is read once (not again until it leaves and comes back) and becomes
a ``CardTap`` (the holder record) or a ``CardFault`` (not our card,
unreadable, removed too early, odd answer), which ``next_tap`` hands out in
order. Every blocking PC/SC call runs on one worker thread. A reader that
disappears (pcscd restarted, USB unplugged) shows in ``health`` and is
looked for again every ``reconnect_interval_s``; nothing a card or the
reader does stops the task. The slot under it is any ``CardSlot``; the
builder gives it the PC/SC one.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, TypeVar

from drivers.card_reader.config import CardReaderConfig
from drivers.card_reader.errors import (
    CardAccessDenied,
    CardExchangeBroken,
    CardRemoved,
    NotOurCard,
    OddAnswer,
    OddAnswerReason,
    PcscServiceDown,
)
from drivers.card_reader.record import HolderRecord, mask_id_number
from drivers.card_reader.session import Transmit, read_holder
from drivers.card_reader.slot import CardSlot, Presentation
from drivers.errors import DeviceUnavailable, DriverError, DriverErrorCode, LinkLost

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
T = TypeVar("T")
WAIT_SLICE_S = 1.0  # a wait for a card returns this often, so closing never waits long
CLOSE_GRACE_S = 3.0  # how long closing waits for a worker stuck on a silent card


def system_clock() -> datetime:
    """Now, in UTC."""
    return datetime.now(UTC)


class CardFaultReason(StrEnum):
    """Why a presented card gave no holder record; never renamed once shipped."""

    NOT_OUR_CARD = "not_our_card"
    UNREADABLE = "unreadable"
    REMOVED_TOO_EARLY = "removed_too_early"
    ODD_ANSWER = "odd_answer"


@dataclass(frozen=True)
class CardTap:
    """A StationKit card read: its holder. ID number and name stay out of ``repr``."""

    id_number: str = field(repr=False)
    name: str = field(repr=False)
    serial: str | None
    at: datetime
    expiry: date | None = None

    @property
    def masked_id(self) -> str:
        """The ID number as logs may show it."""
        return mask_id_number(self.id_number)


@dataclass(frozen=True)
class CardFault:
    """A presented card that gave no holder record, and why."""

    reason: CardFaultReason
    detail: str
    at: datetime


@dataclass(frozen=True)
class ReaderHealth:
    """What a maintenance screen shows of the reader."""

    reader_present: bool
    reader_name: str | None
    last_error: str | None
    last_error_code: DriverErrorCode | None
    last_error_at: datetime | None
    is_closed: bool


Outcome = CardTap | CardFault


class CardReader:
    """Taps from the gate's card reader, one per card presented."""

    def __init__(
        self,
        slot: CardSlot,
        config: CardReaderConfig,
        clock: Clock = system_clock,
        on_close: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._slot = slot
        self._config = config
        self._clock = clock
        self._on_close = on_close
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="card-reader")
        self._outcomes: asyncio.Queue[Outcome | None] = asyncio.Queue(maxsize=1)
        self._task: asyncio.Task[None] | None = None
        self._is_present = False
        self._is_closed = False
        self._last_error: tuple[str, DriverErrorCode, datetime] | None = None

    async def start(self) -> None:
        """Find the reader (waiting up to ``open_timeout_s``) and start watching it."""
        deadline = asyncio.get_running_loop().time() + self._config.open_timeout_s
        while True:
            try:
                await self._in_worker(self._slot.attach)
                break
            except (DeviceUnavailable, LinkLost) as exc:
                is_late = asyncio.get_running_loop().time() >= deadline
                if is_late or isinstance(exc, PcscServiceDown):  # no service: say so at once
                    raise
                await asyncio.sleep(min(0.1, self._config.open_timeout_s))
        self._is_present = True
        self._task = asyncio.create_task(self._serve(), name="card-reader")

    async def next_tap(self) -> CardTap | CardFault:
        """The outcome of the next card presented (in order; waits for one)."""
        if self._is_closed:
            raise DeviceUnavailable("the card reader is closed")
        outcome = await self._outcomes.get()
        if outcome is None:
            self._outcomes.put_nowait(None)  # wake the next waiter too
            raise DeviceUnavailable("the card reader is closed")
        return outcome

    def health(self) -> ReaderHealth:
        """Whether the reader is there, and the last reader error seen."""
        message, code, at = self._last_error or (None, None, None)
        return ReaderHealth(
            reader_present=self._is_present and not self._is_closed,
            reader_name=self._slot.reader_name,
            last_error=message,
            last_error_code=code,
            last_error_at=at,
            is_closed=self._is_closed,
        )

    async def close(self) -> None:
        """Stop watching and let go of the reader; each step runs even if one fails."""
        if self._is_closed:
            return
        self._is_closed = True
        await self._stop_task()
        with contextlib.suppress(asyncio.QueueFull):
            self._outcomes.put_nowait(None)
        await self._release_slot()
        self._worker.shutdown(wait=False)
        if self._on_close is not None:
            try:
                await self._on_close()
            except Exception:
                log.exception("card reader: closing its backend failed")

    async def __aenter__(self) -> CardReader:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def _serve(self) -> None:
        while True:
            try:
                presentation = await self._next_presentation()
                outcome = await self._read(presentation)
                _log_outcome(outcome)
                await self._outcomes.put(outcome)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a flaw of ours must not leave the gate without a reader
                log.exception("card reader: unexpected failure; going on")
                self._note_error(DriverError(f"unexpected: {exc!r}"))
                await asyncio.sleep(self._config.reconnect_interval_s)

    async def _next_presentation(self) -> Presentation:
        while True:
            try:
                presentation = await self._in_worker(self._slot.wait_for_card, WAIT_SLICE_S)
            except (DeviceUnavailable, LinkLost) as exc:
                await self._find_reader_again(exc)
                continue
            if presentation is not None:
                return presentation

    async def _find_reader_again(self, lost: DriverError) -> None:
        self._is_present = False
        self._note_error(lost)
        log.warning("card reader: lost (%s); looking for it again", lost)
        while True:
            await asyncio.sleep(self._config.reconnect_interval_s)
            try:
                name = await self._in_worker(self._slot.attach)
            except DriverError as exc:
                self._note_error(exc)
                continue
            self._is_present = True
            log.info("card reader: %s is back", name)
            return

    async def _read(self, presentation: Presentation) -> Outcome:
        if presentation.is_mute:
            return self._fault(CardFaultReason.UNREADABLE, "the card does not answer the reset")
        job = self._submit(self._read_card)
        try:
            record = await asyncio.wait_for(asyncio.shield(job), self._config.read_timeout_s)
        except TimeoutError:
            limit = self._config.read_timeout_s
            return self._fault(CardFaultReason.UNREADABLE, f"no whole answer within {limit} s")
        except DriverError as exc:
            return await self._fault_for(exc)
        except Exception as exc:  # a flaw of ours: the passenger still gets an answer
            log.exception("card reader: reading a card failed unexpectedly")
            return self._fault(CardFaultReason.UNREADABLE, f"unexpected: {exc!r}")
        return CardTap(record.id_number, record.name, record.serial, self._clock(), record.expiry)

    def _read_card(self) -> HolderRecord:
        """The card's whole read, on the worker thread."""
        self._slot.connect()
        try:
            transmit: Transmit = self._slot.transmit
            return read_holder(transmit, self._config.read_chunk)
        finally:
            self._slot.disconnect()

    async def _fault_for(self, error: DriverError) -> CardFault:
        """The fault a failed read means; a broken exchange may mean the card left."""
        if isinstance(error, CardRemoved):
            return self._fault(CardFaultReason.REMOVED_TOO_EARLY, error.message)
        if _is_broken_exchange(error) and await self._card_left():
            return self._fault(CardFaultReason.REMOVED_TOO_EARLY, f"left mid-read: {error.message}")
        if isinstance(error, NotOurCard):
            return self._fault(CardFaultReason.NOT_OUR_CARD, error.message)
        if isinstance(error, OddAnswer):
            return self._fault(CardFaultReason.ODD_ANSWER, error.message)
        if not isinstance(error, CardAccessDenied | CardExchangeBroken):
            self._note_error(error)  # the reader failed under the card
        return self._fault(CardFaultReason.UNREADABLE, error.message)

    async def _card_left(self) -> bool:
        try:
            return await self._in_worker(self._slot.wait_for_removal, self._config.removal_check_s)
        except DriverError:
            return False  # the reader went: the next wait finds that out and says so

    def _fault(self, reason: CardFaultReason, detail: str) -> CardFault:
        return CardFault(reason, detail, self._clock())

    def _note_error(self, error: DriverError) -> None:
        self._last_error = (error.message, error.code, self._clock())

    def _submit(self, function: Callable[[], T]) -> asyncio.Future[T]:
        job = asyncio.get_running_loop().run_in_executor(self._worker, function)
        job.add_done_callback(_collect)  # a job we stopped waiting for must not warn later
        return job

    async def _in_worker(self, function: Callable[..., T], *args: object) -> T:
        return await self._submit(functools.partial(function, *args))

    async def _stop_task(self) -> None:
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def _release_slot(self) -> None:
        try:
            await asyncio.to_thread(self._slot.interrupt)  # a quick call to pcscd, still I/O
            await asyncio.wait_for(self._in_worker(self._slot.detach), CLOSE_GRACE_S)
        except Exception:
            log.exception("card reader: letting go of the reader failed")


def _is_broken_exchange(error: DriverError) -> bool:
    short = isinstance(error, OddAnswer) and error.reason is OddAnswerReason.SHORT_RESPONSE
    return short or isinstance(error, CardExchangeBroken)


def _collect(job: asyncio.Future[Any]) -> None:
    if not job.cancelled():
        job.exception()


def _log_outcome(outcome: Outcome) -> None:
    if isinstance(outcome, CardTap):
        log.info("card reader: tap by %s", outcome.masked_id)
    else:
        log.info("card reader: fault %s (%s)", outcome.reason, outcome.detail)
