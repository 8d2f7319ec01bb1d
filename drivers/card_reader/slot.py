"""The byte-moving interface under ``CardReader``: a reader slot, and a card presentation.

A ``CardSlot`` finds its reader, waits for a card to arrive or leave, and
moves APDUs to and from the card in the field. Every method blocks and is
called from one worker thread, except ``interrupt``, which cuts a wait short
from any other. ``pcsc.PcscSlot`` is the implementation (for the real reader
and for the virtual one the sim backend uses alike); errors are those of
``drivers.card_reader.errors``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Presentation:
    """One card in the field, from its arrival until it leaves."""

    events: int  # the reader's card-event count when the card was seen
    atr: bytes
    is_mute: bool  # present, but it did not answer the reset


class CardSlot(Protocol):
    """One reader slot: blocking calls from one worker thread."""

    @property
    def reader_name(self) -> str | None:
        """The reader's full name, once attached."""
        ...

    def attach(self) -> str:
        """Find the reader; its name. Raises a ``DriverError`` if it is not there."""
        ...

    def wait_for_card(self, timeout_s: float) -> Presentation | None:
        """The next card presentation not yet returned, or ``None`` after ``timeout_s``."""
        ...

    def wait_for_removal(self, timeout_s: float) -> bool:
        """Whether the card leaves the field within ``timeout_s``."""
        ...

    def connect(self) -> None:
        """Power the card in the field up for APDUs."""
        ...

    def transmit(self, apdu: bytes) -> bytes:
        """One command APDU out; the response APDU back."""
        ...

    def disconnect(self) -> None:
        """Let go of the card; never fails."""
        ...

    def interrupt(self) -> None:
        """Cut a wait short; the only call allowed from another thread."""
        ...

    def detach(self) -> None:
        """Let go of the card and the reader."""
        ...
