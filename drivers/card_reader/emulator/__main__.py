"""The card emulator process: cards in and out of pcscd's virtual reader, steered by commands.

Run as ``python -m drivers.card_reader.emulator [--control-socket PATH]
[--port 35963]``. Commands (JSON lines on stdin or the control socket):
``insert`` {id_number, name, serial?, expiry?} puts a StationKit card in the
field; ``insert_foreign`` a card without our application; ``insert_odd``
{mode, silence_s?, and optionally the holder fields} a card that answers
badly (the modes of ``ODD_MODES``); ``remove`` takes the card out; ``status``
reports. Events: ``ready`` {port, pid}, ``inserted`` {card, id}, ``removed``
{card, cause}, ``apdu`` {command, reply, sw} for every APDU answered, and
``status``. ID numbers appear only masked. One emulator per virtual reader:
a second one on the same port stops at once with an ``error`` event.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import IO

from drivers.card_reader.emulator.card import (
    ODD_MODES,
    Answer,
    ForeignCard,
    Leave,
    Reply,
    our_card,
)
from drivers.card_reader.emulator.vpcd import Card, CardInField
from drivers.card_reader.record import HolderRecord, mask_id_number
from drivers.sim.control import Control, Handler, Message

DEFAULT_PORT = 35963  # vpcd's first virtual reader, "Virtual PCD 00 00"
DEFAULT_SILENCE_S = 3.0
EMPTY_FIELD_S = 0.5  # one vpcd presence poll (400 ms) and a margin
ODD_CARD_HOLDER = HolderRecord(id_number="000000000000000000", name="TEST")


class Emulator:
    """The command handlers over at most one card in the field."""

    def __init__(self, control: Control, port: int) -> None:
        self._control = control
        self._port = port
        self._field: CardInField | None = None
        self._empty_since = time.monotonic()  # a card of another emulator may just have left

    def handlers(self) -> dict[str, Handler]:
        """The control channel's command table."""
        return {
            "insert": self.insert,
            "insert_foreign": self.insert_foreign,
            "insert_odd": self.insert_odd,
            "remove": self.remove,
            "status": self.status,
        }

    def insert(self, message: Message) -> None:
        """A StationKit card for the holder in ``message`` enters the field."""
        holder = _holder(message)
        self._enter(our_card(holder), mask_id_number(holder.id_number))

    def insert_foreign(self, _message: Message) -> None:
        """A card without our application enters the field."""
        self._enter(ForeignCard(), None)

    def insert_odd(self, message: Message) -> None:
        """A card that answers badly, as ``mode`` says, enters the field."""
        mode = message.get("mode")
        if mode not in ODD_MODES:
            raise ValueError(f"unknown odd mode {mode!r}; known: {', '.join(sorted(ODD_MODES))}")
        holder = _holder(message) if "id_number" in message else ODD_CARD_HOLDER
        silence = float(message.get("silence_s", DEFAULT_SILENCE_S))
        self._enter(ODD_MODES[mode](holder, silence), mask_id_number(holder.id_number))

    def remove(self, _message: Message) -> None:
        """The card leaves the field."""
        if self._field is None or not self._field.is_in_field:
            raise RuntimeError("no card is in the field")
        self._field.remove()

    def status(self, _message: Message) -> None:
        """Report whether a card is in the field, and which."""
        in_field = self._field is not None and self._field.is_in_field
        card = self._field.card.kind if in_field and self._field is not None else None
        self._control.emit("status", in_field=in_field, card=card, port=self._port)

    def _enter(self, card: Card, masked_id: str | None) -> None:
        if self._field is not None and self._field.is_in_field:
            raise RuntimeError("a card is already in the field: remove it first")
        self._let_reader_see_empty_field()
        try:
            self._field = CardInField(card, self._port, self._apdu_seen, self._left(card))
        except OSError as exc:
            raise RuntimeError(
                f"cannot reach the virtual reader on 127.0.0.1:{self._port} ({exc}); "
                "is pcscd running with vsmartcard-vpcd?"
            ) from exc
        self._control.emit("inserted", card=card.kind, id=masked_id)

    def _let_reader_see_empty_field(self) -> None:
        """Keep the field empty for one vpcd poll after a card left.

        Otherwise vpcd may take the next card for the last one still there:
        pcscd then reports no new presentation.
        """
        if self._field is not None and self._field.left_at is not None:
            self._empty_since = self._field.left_at
        time.sleep(max(0.0, self._empty_since + EMPTY_FIELD_S - time.monotonic()))

    def _apdu_seen(self, command: bytes, reply: Reply) -> None:
        if isinstance(reply, Answer):
            sw = reply.payload[-2:].hex().upper() if len(reply.payload) >= 2 else None
            self._control.emit("apdu", command=command.hex().upper(), reply="answer", sw=sw)
        else:
            kind = "leave" if isinstance(reply, Leave) else "silence"
            self._control.emit("apdu", command=command.hex().upper(), reply=kind, sw=None)

    def _left(self, card: Card) -> Callable[[str], None]:
        return lambda cause: self._control.emit("removed", card=card.kind, cause=cause)


def _holder(message: Message) -> HolderRecord:
    if "id_number" not in message or "name" not in message:
        raise ValueError("a card of ours needs id_number and name")
    expiry = message.get("expiry")
    return HolderRecord(
        id_number=str(message["id_number"]),
        name=str(message["name"]),
        serial=None if message.get("serial") is None else str(message["serial"]),
        expiry=None if expiry is None else date.fromisoformat(str(expiry)),
    )


def slot_lock_path(port: int) -> Path:
    """The lock an emulator holds on its virtual reader for as long as it runs."""
    return Path(tempfile.gettempdir()) / f"stationkit-vpcd-{port}.lock"


def claim_slot(port: int) -> IO[bytes] | None:
    """Lock the virtual reader on ``port`` for this process; ``None`` if another holds it."""
    handle = open(slot_lock_path(port), "ab")  # noqa: SIM115 - held for the process's life
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    return handle


def main(argv: list[str] | None = None) -> int:
    """Run the emulator until stdin closes."""
    parser = argparse.ArgumentParser(prog="python -m drivers.card_reader.emulator")
    parser.add_argument("--control-socket", type=Path, default=None)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="vpcd's port")
    args = parser.parse_args(argv)
    control = Control(socket_path=args.control_socket)
    slot = claim_slot(args.port)
    if slot is None:
        control.emit(
            "error",
            message=f"another card emulator holds the virtual reader on port {args.port}",
        )
        return 2
    control.emit("ready", port=args.port, pid=os.getpid())
    control.serve(Emulator(control, args.port).handlers())
    return 0


if __name__ == "__main__":
    sys.exit(main())
