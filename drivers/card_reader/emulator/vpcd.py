"""The vpcd wire: framing (no I/O), and one card's TCP connection to pcscd's virtual reader.

pcscd's vpcd driver listens on a TCP port per virtual reader; a card is
whoever connects. Each message is a 2-byte big-endian length and a payload:
a one-byte payload is a control message (0 power off, 1 power on, 2 reset,
4 get ATR, answered with the ATR), anything longer is a command APDU,
answered with response data and SW1 SW2. ``VpcdFramer`` splits the byte
stream into messages; ``CardInField`` holds the connection while the card is
in the field and answers from a card object. vpcd polls presence about every
400 ms by asking for the ATR, so it notices a card arrive or leave within
that; a card that leaves and another that comes within one poll can look like
one card to it (the emulator keeps the field empty for a poll in between).

Without TCP_NODELAY and TCP_QUICKACK each exchange waits on delayed ACKs,
about 44 ms an APDU; with them about 0.2 ms.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable
from typing import Protocol

from drivers.card_reader.emulator.card import Answer, Leave, Reply, Silence

CONTROL_POWER_OFF = 0
CONTROL_POWER_ON = 1
CONTROL_RESET = 2
CONTROL_GET_ATR = 4
MAX_PAYLOAD = 0xFFFF
CONNECT_TIMEOUT_S = 2.0


class VpcdFramer:
    """Feed it bytes as they come; it returns the whole messages they complete."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        """The messages completed by ``data`` (an incomplete tail waits for more)."""
        self._buffer += data
        messages: list[bytes] = []
        while len(self._buffer) >= 2:
            size = int.from_bytes(self._buffer[:2], "big")
            if len(self._buffer) < 2 + size:
                break
            messages.append(bytes(self._buffer[2 : 2 + size]))
            del self._buffer[: 2 + size]
        return messages


def frame(payload: bytes) -> bytes:
    """One message on the wire."""
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"a vpcd message carries at most {MAX_PAYLOAD} bytes")
    return len(payload).to_bytes(2, "big") + payload


class Card(Protocol):
    """What the field needs of a card."""

    kind: str
    atr: bytes

    def respond(self, raw: bytes) -> Reply:
        """The reply to one command APDU."""
        ...


ApduSeen = Callable[[bytes, Reply], None]
LeftField = Callable[[str], None]


class CardInField:
    """A card in the virtual reader's field: one connection, served by a thread.

    ``on_apdu`` hears each command and the reply; ``on_left`` hears once why
    the card left: ``removed`` (asked to), ``silence``, ``left_early`` (the
    card's own doing) or ``reader_closed`` (pcscd went away).
    """

    def __init__(self, card: Card, port: int, on_apdu: ApduSeen, on_left: LeftField) -> None:
        self.card = card
        self._on_apdu = on_apdu
        self._on_left = on_left
        self._leaving = threading.Event()
        self.left_at: float | None = None  # time.monotonic() when the card left
        self._sock = socket.create_connection(("127.0.0.1", port), timeout=CONNECT_TIMEOUT_S)
        self._sock.settimeout(None)
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._thread = threading.Thread(target=self._serve, name="vpcd-card", daemon=True)
        self._thread.start()

    def remove(self) -> None:
        """Take the card out of the field and wait until it is out."""
        self._leaving.set()
        self._hang_up()
        self._thread.join(CONNECT_TIMEOUT_S)

    @property
    def is_in_field(self) -> bool:
        """Whether the connection still stands."""
        return self._thread.is_alive()

    def _serve(self) -> None:
        cause = self._answer_until_leaving()
        self._hang_up()
        self.left_at = time.monotonic()
        self._on_left("removed" if self._leaving.is_set() else cause)

    def _answer_until_leaving(self) -> str:
        """Answer messages until the card leaves; why it left."""
        framer = VpcdFramer()
        with contextlib.suppress(OSError):
            while data := self._receive():
                for message in framer.feed(data):
                    cause = self._handle(message)
                    if cause is not None:
                        return cause
        return "reader_closed"

    def _receive(self) -> bytes:
        data = self._sock.recv(4096)
        quickack = getattr(socket, "TCP_QUICKACK", None)
        if quickack is not None and data:  # Linux clears it after each ACK: set it again
            self._sock.setsockopt(socket.IPPROTO_TCP, quickack, 1)
        return data

    def _handle(self, message: bytes) -> str | None:
        """Answer one message; why the card leaves the field, or ``None`` if it stays."""
        if len(message) <= 1:
            if message == bytes((CONTROL_GET_ATR,)):
                self._sock.sendall(frame(self.card.atr))
            return None  # power off, on and reset need no answer
        reply = self.card.respond(message)
        self._on_apdu(message, reply)
        if isinstance(reply, Answer):
            self._sock.sendall(frame(reply.payload))
            return None
        if isinstance(reply, Silence):
            self._leaving.wait(reply.seconds)
            return "silence"
        assert isinstance(reply, Leave)
        return "left_early"

    def _hang_up(self) -> None:
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            self._sock.close()
