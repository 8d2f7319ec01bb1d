"""Reading the holder record from a card: our card's layout and the APDU exchange.

The card carries a StationKit application selected by its AID, and in it the
holder EF with short identifier 1. ``read_holder`` selects the application,
reads the EF with READ BINARY (the first chunk by short EF identifier, which
makes the EF current; the rest by offset), follows 61xx with GET RESPONSE
and 6Cxx with the corrected Le, and decodes the record. It moves no bytes
itself: it is given a ``transmit`` function (the PC/SC link, or the
emulator's card object in tests), so this is the whole card protocol and
nothing else.
"""

from __future__ import annotations

from collections.abc import Callable

from drivers.card_reader.apdu import (
    MAX_SHORT_LE,
    SW1_MORE_DATA,
    SW1_WRONG_LE,
    SW_CONDITIONS_NOT_SATISFIED,
    SW_END_OF_FILE,
    SW_NOT_FOUND,
    SW_OFFSET_OUTSIDE_FILE,
    SW_OK,
    SW_SECURITY_NOT_SATISFIED,
    Command,
    Response,
    expected_length,
    get_response,
    parse_response,
    read_binary,
    read_binary_sfi,
    select_aid,
)
from drivers.card_reader.errors import CardAccessDenied, NotOurCard, OddAnswer, OddAnswerReason
from drivers.card_reader.record import MAX_RECORD_LENGTH, HolderRecord, decode_record, record_length

Transmit = Callable[[bytes], bytes]

# ISO/IEC 7816-5: an AID whose first nibble is F is proprietary and needs no
# registration, so it cannot collide with a registered application (EMV,
# transit) on a passenger's other cards. RID F0 'S' 'T' 'K' 01, PIX 'I' 'D'.
STATIONKIT_AID = bytes.fromhex("F053544B014944")
HOLDER_EF_SFI = 0x01
MAX_GET_RESPONSES = 32  # per command: 32 x 256 bytes is far past any record of ours


def read_holder(transmit: Transmit, chunk: int = MAX_SHORT_LE) -> HolderRecord:
    """Select our application and read the holder record, ``chunk`` bytes per READ BINARY."""
    select_application(transmit)
    return decode_record(read_record_bytes(transmit, chunk))


def select_application(transmit: Transmit) -> None:
    """SELECT the StationKit application; a card without it is not ours."""
    response = exchange(transmit, select_aid(STATIONKIT_AID))
    if response.sw != SW_OK:
        _refuse(response, "SELECT of the StationKit application")


def read_record_bytes(transmit: Transmit, chunk: int = MAX_SHORT_LE) -> bytes:
    """The holder EF's record, read chunk by chunk until its own length is reached."""
    content = b""
    command = read_binary_sfi(HOLDER_EF_SFI, 0, chunk)
    while True:
        response = exchange(transmit, command)
        _check_read(response, offset=len(content))
        content += response.data
        total = record_length(content)
        if total is not None and len(content) >= total:
            return content[:total]
        if response.sw == SW_END_OF_FILE or not response.data:
            raise OddAnswer(
                OddAnswerReason.RECORD_TRUNCATED,
                f"the holder file ends after {len(content)} bytes; "
                f"the record says {total if total is not None else 'more'}",
            )
        wanted = (total if total is not None else MAX_RECORD_LENGTH) - len(content)
        command = read_binary(len(content), min(chunk, wanted))


def exchange(transmit: Transmit, command: Command) -> Response:
    """Send ``command``; follow 6Cxx once and 61xx chains to the final answer."""
    response = parse_response(transmit(command.to_bytes()))
    if response.sw1 == SW1_WRONG_LE:
        response = parse_response(
            transmit(command.with_le(expected_length(response.sw2)).to_bytes())
        )
        if response.sw1 == SW1_WRONG_LE:
            raise OddAnswer(
                OddAnswerReason.WRONG_LENGTH_AGAIN,
                f"6C{response.sw2:02X} again after re-sending with the Le the card asked for",
            )
    return _follow_chain(transmit, response)


def _follow_chain(transmit: Transmit, response: Response) -> Response:
    data = response.data
    for _ in range(MAX_GET_RESPONSES):
        if response.sw1 != SW1_MORE_DATA:
            return Response(data, response.sw1, response.sw2)
        response = parse_response(transmit(get_response(expected_length(response.sw2)).to_bytes()))
        data += response.data
    raise OddAnswer(
        OddAnswerReason.CHAIN_TOO_LONG,
        f"61xx still after {MAX_GET_RESPONSES} GET RESPONSE commands",
    )


def _check_read(response: Response, offset: int) -> None:
    if response.sw in (SW_OK, SW_END_OF_FILE):
        return
    if response.sw == SW_OFFSET_OUTSIDE_FILE and offset > 0:
        raise OddAnswer(
            OddAnswerReason.RECORD_TRUNCATED,
            f"the holder file ends before offset {offset}, inside the record",
        )
    _refuse(response, f"READ BINARY of the holder file at offset {offset}")


def _refuse(response: Response, step: str) -> None:
    """Raise what a status word other than success means at ``step``."""
    if response.sw == SW_NOT_FOUND:
        raise NotOurCard(f"{step}: 6A82, no such application or file: not a StationKit card")
    if response.sw in (SW_SECURITY_NOT_SATISFIED, SW_CONDITIONS_NOT_SATISFIED):
        raise CardAccessDenied(f"{step}: {response.sw:04X}, the card refuses access")
    raise OddAnswer(OddAnswerReason.UNEXPECTED_STATUS, f"{step}: answered {response.sw:04X}")
