"""The emulated cards: what each kind of card answers to each APDU, with no I/O.

``OurCard`` carries the StationKit application and its holder EF and answers
SELECT, READ BINARY (by short EF identifier or by offset on the current EF)
and GET RESPONSE as ISO 7816-4 says. How it delivers data (``Delivery``) and
what it does when asked to read (``read_fault``) make the odd cards a test
needs; ``ODD_MODES`` names them. ``ForeignCard`` has no application of ours.
A card's ``respond`` returns a ``Reply``: bytes to send, silence, or leaving
the field; the vpcd link acts on it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from drivers.card_reader.apdu import (
    INS_GET_RESPONSE,
    INS_READ_BINARY,
    INS_SELECT,
    MAX_SHORT_LE,
    SELECT_BY_DF_NAME,
    SFI_FLAG,
    SW1_MORE_DATA,
    SW1_WRONG_LE,
    SW_CLA_NOT_SUPPORTED,
    SW_CONDITIONS_NOT_SATISFIED,
    SW_END_OF_FILE,
    SW_INS_NOT_SUPPORTED,
    SW_NO_CURRENT_EF,
    SW_NOT_FOUND,
    SW_OFFSET_OUTSIDE_FILE,
    SW_OK,
    SW_SECURITY_NOT_SATISFIED,
    SW_WRONG_LENGTH,
    SW_WRONG_P1P2,
    Command,
    Response,
    parse_command,
)
from drivers.card_reader.errors import OddAnswer
from drivers.card_reader.record import (
    TAG_ID_NUMBER,
    TAG_NAME,
    TAG_VERSION,
    HolderRecord,
    encode_record,
    encode_template,
)
from drivers.card_reader.session import HOLDER_EF_SFI, STATIONKIT_AID

# A contactless card's ATR as a PC/SC reader builds it (3B 8n 80 01 ... TCK).
OUR_ATR = bytes.fromhex("3B80800101")
FOREIGN_ATR = bytes.fromhex("3B8F8001804F0CA000000306030001000000006A")  # a MIFARE Classic 1K
CHAIN_PIECE = 16  # bytes per GET RESPONSE when a card delivers in a 61xx chain
SW_UNKNOWN_ERROR = 0x6F00


@dataclass(frozen=True)
class Answer:
    """Send these bytes (response data and status word) back."""

    payload: bytes


@dataclass(frozen=True)
class Silence:
    """Answer nothing for ``seconds``, then leave the field."""

    seconds: float


@dataclass(frozen=True)
class Leave:
    """Leave the field at once, without answering."""


Reply = Answer | Silence | Leave


class Delivery(StrEnum):
    """How a card hands over the data of a READ BINARY."""

    DIRECT = "direct"  # the data with 9000 (or 6282 at the file's end)
    CHAINED = "chained"  # 61xx, then GET RESPONSE in 16-byte pieces
    WRONG_LE = "wrong_le"  # 6Cxx unless Le is exactly what is left, then the data
    ENDLESS_CHAIN = "endless_chain"  # 61xx for ever
    WRONG_LE_LOOP = "wrong_le_loop"  # 6Cxx for ever, naming a different Le each time


def status(sw: int) -> Answer:
    """A bare status word."""
    return Answer(sw.to_bytes(2, "big"))


class ForeignCard:
    """A card without the StationKit application (a bank or transit card)."""

    kind = "foreign"
    atr = FOREIGN_ATR

    def respond(self, raw: bytes) -> Reply:
        """6A82 to any SELECT, 6D00 to anything else."""
        if len(raw) >= 2 and raw[1] == INS_SELECT:
            return status(SW_NOT_FOUND)
        return status(SW_INS_NOT_SUPPORTED)


class OurCard:
    """A StationKit card: the application, its holder EF, and a way of answering."""

    atr = OUR_ATR

    def __init__(
        self,
        holder_file: bytes,
        kind: str = "ours",
        delivery: Delivery = Delivery.DIRECT,
        read_fault: Reply | None = None,
    ) -> None:
        self.kind = kind
        self._file = holder_file
        self._delivery = delivery
        self._read_fault = read_fault
        self._selected = False
        self._current_ef = False
        self._pending: tuple[bytes, int] | None = None  # data and final SW awaiting GET RESPONSE

    def respond(self, raw: bytes) -> Reply:
        """The card's reply to one command APDU."""
        try:
            command = parse_command(raw)
        except OddAnswer:
            return status(SW_WRONG_LENGTH)
        if command.cla != 0x00:
            return status(SW_CLA_NOT_SUPPORTED)
        handler = self._handlers().get(command.ins)
        return status(SW_INS_NOT_SUPPORTED) if handler is None else handler(command)

    def _handlers(self) -> dict[int, Callable[[Command], Reply]]:
        return {
            INS_SELECT: self._select,
            INS_READ_BINARY: self._read_binary,
            INS_GET_RESPONSE: self._get_response,
        }

    def _select(self, command: Command) -> Reply:
        if command.p1 != SELECT_BY_DF_NAME:
            return status(SW_WRONG_P1P2)
        self._selected = command.data == STATIONKIT_AID
        self._current_ef = False
        return status(SW_OK if self._selected else SW_NOT_FOUND)

    def _read_binary(self, command: Command) -> Reply:
        if not self._selected:
            return status(SW_CONDITIONS_NOT_SATISFIED)
        offset = self._read_offset(command)
        if not isinstance(offset, int):
            return offset
        if self._read_fault is not None:
            return self._read_fault
        if offset > len(self._file):
            return status(SW_OFFSET_OUTSIDE_FILE)
        wanted = command.le or MAX_SHORT_LE
        data = self._file[offset : offset + wanted]
        return self._deliver(data, SW_END_OF_FILE if len(data) < wanted else SW_OK, wanted, offset)

    def _read_offset(self, command: Command) -> int | Answer:
        """Where a READ BINARY starts, or the status that refuses it."""
        if not command.p1 & SFI_FLAG:
            return (command.p1 << 8) | command.p2 if self._current_ef else status(SW_NO_CURRENT_EF)
        if command.p1 & 0x60:
            return status(SW_WRONG_P1P2)
        if command.p1 & 0x1F != HOLDER_EF_SFI:
            return status(SW_NOT_FOUND)
        self._current_ef = True
        return command.p2

    def _deliver(self, data: bytes, final_sw: int, wanted: int, offset: int) -> Reply:
        if self._delivery is Delivery.WRONG_LE:
            exact = min(len(self._file) - offset, MAX_SHORT_LE)
            if wanted != exact:
                return Answer(bytes((SW1_WRONG_LE, exact % MAX_SHORT_LE)))
        if self._delivery is Delivery.WRONG_LE_LOOP:
            return Answer(bytes((SW1_WRONG_LE, wanted % 255 + 1)))
        if self._delivery is Delivery.ENDLESS_CHAIN:
            self._pending = (bytes(CHAIN_PIECE * 2), SW_OK)
            return Answer(bytes((SW1_MORE_DATA, CHAIN_PIECE)))
        if self._delivery is Delivery.CHAINED and data:
            self._pending = (data, final_sw)
            return Answer(bytes((SW1_MORE_DATA, min(len(data), CHAIN_PIECE))))
        return Answer(Response(data, final_sw >> 8, final_sw & 0xFF).to_bytes())

    def _get_response(self, command: Command) -> Reply:
        if self._pending is None:
            return status(SW_CONDITIONS_NOT_SATISFIED)
        data, final_sw = self._pending
        wanted = command.le or MAX_SHORT_LE
        piece, rest = data[:wanted], data[wanted:]
        if self._delivery is Delivery.ENDLESS_CHAIN:
            rest = data  # the chain never ends
        self._pending = (rest, final_sw) if rest else None
        sw = (SW1_MORE_DATA << 8) | min(len(rest), CHAIN_PIECE) if rest else final_sw
        return Answer(Response(piece, sw >> 8, sw & 0xFF).to_bytes())


def our_card(holder: HolderRecord) -> OurCard:
    """A well-made StationKit card for ``holder``."""
    return OurCard(encode_record(holder))


def _raw_fields(id_number: bytes, name: bytes) -> list[tuple[int, bytes]]:
    return [(TAG_VERSION, b"\x01"), (TAG_ID_NUMBER, id_number), (TAG_NAME, name)]


def _bad_tlv(holder: HolderRecord) -> bytes:
    fields = _raw_fields(holder.id_number.encode(), holder.name.encode())
    return encode_template([*fields, (0xDE, b"?")])  # a private tag we never defined


def _bad_utf8(holder: HolderRecord) -> bytes:
    return encode_template(_raw_fields(holder.id_number.encode(), b"\xe5\xbc\xa0\xff\xfe"))


def _bad_id(holder: HolderRecord) -> bytes:
    return encode_template(_raw_fields(b"11010x-1990", holder.name.encode()))


OddCardFactory = Callable[[HolderRecord, float], OurCard]


def _answering(
    kind: str, delivery: Delivery = Delivery.DIRECT, read_fault: Reply | None = None
) -> OddCardFactory:
    """A well-made record on a card that answers in its own way."""
    return lambda holder, _silence: OurCard(encode_record(holder), kind, delivery, read_fault)


ODD_MODES: dict[str, OddCardFactory] = {
    "truncated": lambda holder, _s: OurCard(encode_record(holder)[:-4], "truncated"),
    "bad_tlv": lambda holder, _s: OurCard(_bad_tlv(holder), "bad_tlv"),
    "bad_utf8": lambda holder, _s: OurCard(_bad_utf8(holder), "bad_utf8"),
    "bad_id": lambda holder, _s: OurCard(_bad_id(holder), "bad_id"),
    "chained": _answering("chained", Delivery.CHAINED),
    "wrong_le": _answering("wrong_le", Delivery.WRONG_LE),
    "endless_chain": _answering("endless_chain", Delivery.ENDLESS_CHAIN),
    "wrong_le_loop": _answering("wrong_le_loop", Delivery.WRONG_LE_LOOP),
    "wrong_status": _answering("wrong_status", read_fault=status(SW_UNKNOWN_ERROR)),
    "locked": _answering("locked", read_fault=status(SW_SECURITY_NOT_SATISFIED)),
    "short_answer": _answering("short_answer", read_fault=Answer(b"\x90")),
    "leaves_early": _answering("leaves_early", read_fault=Leave()),
    "silence": lambda holder, seconds: OurCard(
        encode_record(holder), "silence", read_fault=Silence(seconds)
    ),
}
