"""ISO 7816-4 APDUs as values: command builders, and parsers with no I/O.

A ``Command`` is built by name (``select_aid``, ``read_binary_sfi``,
``read_binary``, ``get_response``) and turned into bytes for the wire; a
response's bytes become a ``Response`` (data plus status word). Only short
APDUs are used: Lc and Le fit one byte, and Le 256 travels as ``00``. The
emulator parses commands with ``parse_command``. Every malformed input raises
``OddAnswer`` with a stable reason, nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from drivers.card_reader.errors import OddAnswer, OddAnswerReason

MAX_SHORT_LE = 256  # Ne of a short APDU whose Le byte is 00

# The status words the driver acts on (ISO 7816-4, section 5.6).
SW_OK = 0x9000
SW_END_OF_FILE = 0x6282  # warning: fewer bytes than Le, the file ended
SW_WRONG_LENGTH = 0x6700
SW_SECURITY_NOT_SATISFIED = 0x6982
SW_CONDITIONS_NOT_SATISFIED = 0x6985
SW_NO_CURRENT_EF = 0x6986
SW_NOT_FOUND = 0x6A82  # no such application or file
SW_WRONG_P1P2 = 0x6A86
SW_OFFSET_OUTSIDE_FILE = 0x6B00
SW_INS_NOT_SUPPORTED = 0x6D00
SW_CLA_NOT_SUPPORTED = 0x6E00
SW1_MORE_DATA = 0x61  # 61xx: xx more bytes wait for GET RESPONSE
SW1_WRONG_LE = 0x6C  # 6Cxx: send the command again with Le = xx

INS_SELECT = 0xA4
INS_READ_BINARY = 0xB0
INS_GET_RESPONSE = 0xC0
SELECT_BY_DF_NAME = 0x04
SELECT_NO_RESPONSE_DATA = 0x0C  # P2: first occurrence, return no FCI
SFI_FLAG = 0x80  # P1 bit 8 of READ BINARY: bits 5-1 carry a short EF identifier
MAX_OFFSET = 0x7FFF  # the 15-bit offset of READ BINARY on the current EF


@dataclass(frozen=True)
class Command:
    """One command APDU; ``le`` is Ne (1..256) or ``None`` when no data is expected."""

    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes = b""
    le: int | None = None

    def to_bytes(self) -> bytes:
        """The short APDU on the wire: header, then Lc and data, then Le."""
        header = bytes((self.cla, self.ins, self.p1, self.p2))
        body = bytes((len(self.data),)) + self.data if self.data else b""
        trailer = b"" if self.le is None else bytes((self.le % MAX_SHORT_LE,))
        return header + body + trailer

    def with_le(self, le: int) -> Command:
        """The same command asking for ``le`` bytes (the answer to a 6Cxx)."""
        return replace(self, le=le)

    def __post_init__(self) -> None:
        if any(not 0 <= b <= 0xFF for b in (self.cla, self.ins, self.p1, self.p2)):
            raise ValueError("CLA, INS, P1 and P2 are single bytes")
        if len(self.data) > 0xFF:
            raise ValueError("a short APDU carries at most 255 data bytes")
        if self.le is not None and not 1 <= self.le <= MAX_SHORT_LE:
            raise ValueError("Le of a short APDU is 1..256")


@dataclass(frozen=True)
class Response:
    """A response APDU: the data and the status word SW1 SW2."""

    data: bytes
    sw1: int
    sw2: int

    @property
    def sw(self) -> int:
        """SW1 and SW2 as one number, such as ``0x9000``."""
        return (self.sw1 << 8) | self.sw2

    def to_bytes(self) -> bytes:
        """The response on the wire (the emulator sends these)."""
        return self.data + bytes((self.sw1, self.sw2))


def select_aid(aid: bytes) -> Command:
    """SELECT an application by its AID (DF name), asking for no FCI back."""
    if not 5 <= len(aid) <= 16:
        raise ValueError("an AID is 5 to 16 bytes")
    return Command(0x00, INS_SELECT, SELECT_BY_DF_NAME, SELECT_NO_RESPONSE_DATA, aid)


def read_binary_sfi(sfi: int, offset: int, le: int) -> Command:
    """READ BINARY of the EF with short identifier ``sfi`` (it becomes the current EF)."""
    if not 1 <= sfi <= 30 or not 0 <= offset <= 0xFF:
        raise ValueError("a short EF identifier is 1..30 and its offset 0..255")
    return Command(0x00, INS_READ_BINARY, SFI_FLAG | sfi, offset, le=le)


def read_binary(offset: int, le: int) -> Command:
    """READ BINARY of the current EF from a 15-bit ``offset``."""
    if not 0 <= offset <= MAX_OFFSET:
        raise ValueError("a READ BINARY offset is 0..32767")
    return Command(0x00, INS_READ_BINARY, offset >> 8, offset & 0xFF, le=le)


def get_response(le: int) -> Command:
    """GET RESPONSE: fetch ``le`` bytes the card announced with 61xx."""
    return Command(0x00, INS_GET_RESPONSE, 0x00, 0x00, le=le)


def expected_length(sw2: int) -> int:
    """The byte count that SW2 of a 61xx or 6Cxx announces (00 means 256)."""
    return sw2 or MAX_SHORT_LE


def parse_response(raw: bytes) -> Response:
    """Split a response APDU into data and status word."""
    if len(raw) < 2:
        raise OddAnswer(
            OddAnswerReason.SHORT_RESPONSE,
            f"a response holds at least the status word; got {len(raw)} byte(s)",
        )
    return Response(bytes(raw[:-2]), raw[-2], raw[-1])


def parse_command(raw: bytes) -> Command:
    """Parse a short command APDU (cases 1 to 4 of ISO 7816-3)."""
    if len(raw) < 4:
        raise _malformed(f"a command has a 4-byte header; got {len(raw)} byte(s)")
    cla, ins, p1, p2 = raw[:4]
    body = raw[4:]
    if not body:
        return Command(cla, ins, p1, p2)
    if len(body) == 1:
        return Command(cla, ins, p1, p2, le=body[0] or MAX_SHORT_LE)
    data, le = _body(body)
    return Command(cla, ins, p1, p2, data, le)


def _body(body: bytes) -> tuple[bytes, int | None]:
    """Data and Le of a command body that starts with Lc."""
    lc = body[0]
    if lc == 0:
        raise _malformed("Lc 00 announces an extended APDU, which this card does not take")
    rest = body[1 + lc :]
    if len(body) - 1 < lc or len(rest) > 1:
        raise _malformed(f"Lc says {lc} data bytes; the command carries {len(body) - 1}")
    le = (rest[0] or MAX_SHORT_LE) if rest else None
    return bytes(body[1 : 1 + lc]), le


def _malformed(message: str) -> OddAnswer:
    return OddAnswer(OddAnswerReason.MALFORMED_COMMAND, message)
