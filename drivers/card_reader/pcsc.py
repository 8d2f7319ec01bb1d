"""The PC/SC link under the card reader: pyscard's SCard calls, blocking, on one context.

``PcscSlot`` finds the reader by part of its name, waits for a card to
arrive (or leave) with ``SCardGetStatusChange``, and exchanges APDUs with
``SCardTransmit``. Every call blocks, so the domain class runs them on one
worker thread; only ``interrupt`` (``SCardCancel``) is meant for another
thread. A presentation is told apart from the last one by pcsc-lite's event
counter (the high 16 bits of the reader state) or by having seen the slot
empty in between, so a card held on the reader is reported once. PC/SC
result codes become the card reader's errors: the service gone is
``PcscServiceDown``, the reader gone ``ReaderLost``, the card gone
``CardRemoved``, any other failed exchange ``CardExchangeBroken``.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import smartcard.scard as scard  # type: ignore[import-untyped]

from drivers.card_reader.errors import (
    CardExchangeBroken,
    CardRemoved,
    PcscServiceDown,
    ReaderLost,
)
from drivers.card_reader.slot import Presentation
from drivers.errors import DeviceConfigError, DriverError

_SERVICE_GONE = {
    scard.SCARD_E_NO_SERVICE,
    scard.SCARD_E_SERVICE_STOPPED,
    scard.SCARD_F_COMM_ERROR,
    scard.SCARD_E_INVALID_HANDLE,
}
_READER_GONE = {
    scard.SCARD_E_UNKNOWN_READER,
    scard.SCARD_E_READER_UNAVAILABLE,
    scard.SCARD_E_NO_READERS_AVAILABLE,
}
_CARD_GONE = {scard.SCARD_W_REMOVED_CARD, scard.SCARD_E_NO_SMARTCARD, scard.SCARD_W_RESET_CARD}
_NOT_WAITED = {scard.SCARD_E_TIMEOUT, scard.SCARD_E_CANCELLED}
_STATE_GONE = scard.SCARD_STATE_UNKNOWN | scard.SCARD_STATE_UNAVAILABLE
_ANY_PROTOCOL = scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1
_EVENT_COUNTER_SHIFT = 16  # pcsc-lite counts card events in the state's high word
PCSCD_HELP = (
    'start pcscd (on Debian: systemctl start pcscd.socket), or use backend = "sim", '
    "whose builder starts it"
)


@dataclass(frozen=True)
class _SlotState:
    flags: int
    atr: bytes

    @property
    def events(self) -> int:
        return self.flags >> _EVENT_COUNTER_SHIFT

    def has(self, flag: int) -> bool:
        return bool(self.flags & flag)


def result_code(hresult: int) -> int:
    """A PC/SC result as the unsigned 32-bit number the constants use."""
    return hresult & 0xFFFFFFFF


def describe(hresult: int) -> str:
    """PC/SC's words for a result, with its number."""
    return f"{scard.SCardGetErrorMessage(hresult)} 0x{result_code(hresult):08X}"


class PcscSlot:
    """A ``CardSlot`` over pyscard. Blocking: call from one worker thread."""

    def __init__(self, reader_match: str) -> None:
        self._match = reader_match
        self._context: int | None = None
        self._reader: str | None = None
        self._card: int | None = None
        self._protocol = 0
        self._known = scard.SCARD_STATE_UNAWARE
        self._last: Presentation | None = None
        self._empty_since_last = True

    @property
    def reader_name(self) -> str | None:
        """The PC/SC name of the reader in use, once attached."""
        return self._reader

    def attach(self) -> str:
        """Open a context if needed and pick the one reader whose name matches."""
        context = self._ensure_context()
        names = self._list_readers(context)
        matches = [name for name in names if self._match.casefold() in name.casefold()]
        if len(matches) > 1:
            raise DeviceConfigError(
                f"reader {self._match!r} matches {len(matches)} readers ({'; '.join(matches)}): "
                "give more of the name"
            )
        if not matches:
            seen = "; ".join(names) or "none"
            raise ReaderLost(f"no PC/SC reader matches {self._match!r} (readers: {seen})")
        self._reader, self._known, self._last = matches[0], scard.SCARD_STATE_UNAWARE, None
        self._empty_since_last = True
        return matches[0]

    def wait_for_card(self, timeout_s: float) -> Presentation | None:
        """The next card presentation not yet returned; ``None`` after ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        while (state := self._change(deadline)) is not None:
            if state.has(scard.SCARD_STATE_EMPTY):
                self._empty_since_last = True
            elif state.has(scard.SCARD_STATE_PRESENT) and self._is_new(state):
                self._last = Presentation(
                    state.events, state.atr, state.has(scard.SCARD_STATE_MUTE)
                )
                self._empty_since_last = False
                return self._last
        return None

    def wait_for_removal(self, timeout_s: float) -> bool:
        """Whether the card leaves the field within ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        while (state := self._change(deadline)) is not None:
            if state.has(scard.SCARD_STATE_EMPTY):
                self._empty_since_last = True
                return True
        return False

    def connect(self) -> None:
        """Power the card up for APDUs (shared: other PC/SC clients may look on)."""
        context, reader = self._attached()
        hresult, card, protocol = self._call(
            scard.SCardConnect, context, reader, scard.SCARD_SHARE_SHARED, _ANY_PROTOCOL
        )
        self._check_card(hresult, "connecting to the card")
        self._card, self._protocol = card, protocol

    def transmit(self, apdu: bytes) -> bytes:
        """Send one command APDU; the response APDU (data and status word)."""
        if self._card is None:
            raise CardExchangeBroken("no card is connected")
        hresult, response = self._call(scard.SCardTransmit, self._card, self._protocol, list(apdu))
        self._check_card(hresult, "exchanging an APDU")
        return bytes(response)

    def disconnect(self) -> None:
        """Let go of the card, leaving it as it is; never fails."""
        card, self._card = self._card, None
        if card is not None:
            with contextlib.suppress(DriverError):  # the card or the service is gone already
                self._call(scard.SCardDisconnect, card, scard.SCARD_LEAVE_CARD)

    def interrupt(self) -> None:
        """Cut a wait short (safe from any thread)."""
        context = self._context
        if context is not None:
            scard.SCardCancel(context)

    def detach(self) -> None:
        """Let go of the card and the PC/SC context."""
        self.disconnect()
        context, self._context, self._reader = self._context, None, None
        if context is not None:
            with contextlib.suppress(DriverError):  # the service is gone, and the context too
                self._call(scard.SCardReleaseContext, context)

    def _ensure_context(self) -> int:
        if self._context is None:
            hresult, context = self._call(scard.SCardEstablishContext, scard.SCARD_SCOPE_USER)
            if result_code(hresult) != scard.SCARD_S_SUCCESS:
                raise PcscServiceDown(
                    f"the PC/SC service does not answer: pcscd is not running "
                    f"(SCardEstablishContext: {describe(hresult)}); {PCSCD_HELP}"
                )
            self._context = context
        return self._context

    def _list_readers(self, context: int) -> list[str]:
        hresult, names = self._call(scard.SCardListReaders, context, [])
        if result_code(hresult) == scard.SCARD_E_NO_READERS_AVAILABLE:
            return []
        self._check_service(hresult, "listing readers")
        return [str(name) for name in names]

    def _change(self, deadline: float) -> _SlotState | None:
        """The slot's next state change before ``deadline``; ``None`` if none came."""
        context, reader = self._attached()
        timeout_ms = max(0, int((deadline - time.monotonic()) * 1000))
        hresult, states = self._call(
            scard.SCardGetStatusChange, context, timeout_ms, [(reader, self._known)]
        )
        if result_code(hresult) in _NOT_WAITED:
            return None
        self._check_service(hresult, "waiting for a card")
        _, flags, atr = states[0]
        self._known = flags & ~scard.SCARD_STATE_CHANGED
        state = _SlotState(flags, bytes(atr))
        if state.has(_STATE_GONE):
            raise ReaderLost(f"reader {self._reader!r} is gone (state 0x{flags:X})")
        return state

    def _attached(self) -> tuple[int, str]:
        if self._context is None or self._reader is None:
            raise ReaderLost(f"no reader matching {self._match!r} is attached")
        return self._context, self._reader

    def _is_new(self, state: _SlotState) -> bool:
        last = self._last
        return last is None or self._empty_since_last or state.events != last.events

    def _check_service(self, hresult: int, doing: str) -> None:
        code = result_code(hresult)
        if code == scard.SCARD_S_SUCCESS:
            return
        if code in _SERVICE_GONE:
            self._drop_context()  # dead with the service: attach makes a new one
            raise PcscServiceDown(f"the PC/SC service went away while {doing} ({describe(code)})")
        if code in _READER_GONE:
            raise ReaderLost(f"reader {self._reader!r} is gone while {doing} ({describe(code)})")
        self._drop_context()  # seen when pcscd dies mid-wait (0x8010006A): start afresh
        raise ReaderLost(f"PC/SC failed while {doing} ({describe(code)})")

    def _drop_context(self) -> None:
        context, self._context = self._context, None
        if context is not None:
            with contextlib.suppress(Exception):  # pyscard may raise on a dead context
                scard.SCardReleaseContext(context)

    def _check_card(self, hresult: int, doing: str) -> None:
        code = result_code(hresult)
        if code == scard.SCARD_S_SUCCESS:
            return
        if code in _SERVICE_GONE or code in _READER_GONE:
            self._check_service(code, doing)
        if code in _CARD_GONE:
            raise CardRemoved(f"the card left the field while {doing} ({describe(code)})")
        raise CardExchangeBroken(f"PC/SC failed while {doing} ({describe(code)})")

    def _call(self, function: Callable[..., Any], *args: Any) -> Any:
        """One pyscard call; its own failures become driver errors."""
        try:
            return function(*args)
        except (SystemError, TypeError, ValueError, OverflowError) as exc:
            # pyscard's C layer raises these on a stale handle (seen: SystemError
            # from SCardTransmit after pcscd restarted) instead of returning a code.
            self._drop_context()
            raise PcscServiceDown(f"pyscard failed in {function.__name__}: {exc}") from exc
