"""The ticket gate's contactless card reader: who tapped, read from a StationKit card.

``open_card_reader(config)`` builds a ``CardReader`` for the profile's
section (``CardReaderConfig``); ``await reader.next_tap()`` gives a
``CardTap`` (the holder's ID number, name, card serial, expiry, and when) or a
``CardFault`` for each card presented; ``reader.health()`` says whether the
reader is there. The card's layout and status words are in
``docs/hardware/card-reader.md``: ``session`` speaks it, ``apdu`` and
``record`` encode it, ``slot`` is the byte-moving interface and ``pcsc`` its
PC/SC implementation, ``pcscd`` starts the daemon for the sim backend, and
``emulator`` is the sim backend's card.
"""

from drivers.card_reader.builder import open_card_reader
from drivers.card_reader.config import CardReaderConfig
from drivers.card_reader.pcscd import ensure_pcscd
from drivers.card_reader.reader import (
    CardFault,
    CardFaultReason,
    CardReader,
    CardTap,
    ReaderHealth,
)
from drivers.card_reader.record import HolderRecord, mask_id_number

__all__ = [
    "CardFault",
    "CardFaultReason",
    "CardReader",
    "CardReaderConfig",
    "CardTap",
    "HolderRecord",
    "ReaderHealth",
    "ensure_pcscd",
    "mask_id_number",
    "open_card_reader",
]
