"""The card session against the emulator's card objects (the real ones, without the wire)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.card_reader.emulator.card import (
    ODD_MODES,
    Answer,
    ForeignCard,
    OurCard,
    Reply,
    our_card,
    status,
)
from drivers.card_reader.errors import (
    CardAccessDenied,
    NotOurCard,
    OddAnswer,
    OddAnswerReason,
)
from drivers.card_reader.record import HolderRecord, encode_record, encode_template
from drivers.card_reader.session import MAX_GET_RESPONSES, read_holder
from drivers.errors import DriverError

HOLDER = HolderRecord("11010519491231002X", "张三丰", "SN-0001", date(2031, 12, 31))


class CardStopped(Exception):
    """The card went silent or left: the wire would have broken here."""


@dataclass
class Wire:
    """A transmit function over a card object that remembers the commands."""

    card: OurCard | ForeignCard
    commands: list[str] = field(default_factory=list)

    def __call__(self, apdu: bytes) -> bytes:
        self.commands.append(apdu.hex().upper())
        reply: Reply = self.card.respond(apdu)
        if not isinstance(reply, Answer):
            raise CardStopped(reply)
        return reply.payload


def test_a_card_of_ours_is_read_with_two_apdus() -> None:
    wire = Wire(our_card(HOLDER))
    assert read_holder(wire) == HOLDER
    assert wire.commands == ["00A4040C07F053544B014944", "00B0810000"]


def test_small_chunks_read_on_by_offset() -> None:
    wire = Wire(our_card(HOLDER))
    assert read_holder(wire, chunk=16) == HOLDER
    record_length = len(encode_record(HOLDER))
    assert wire.commands[1] == "00B0810010"
    assert wire.commands[2:] == [
        f"00B0{offset:04X}{min(16, record_length - offset):02X}"
        for offset in range(16, record_length, 16)
    ]


def test_a_record_longer_than_a_chunk_is_read_in_two() -> None:
    holder = HolderRecord("1" * 32, "名" * 42, "S" * 32, date(2030, 1, 1))
    wire = Wire(OurCard(encode_record(holder) + bytes(200)))  # the EF is larger than the record
    assert read_holder(wire, chunk=128) == holder
    assert len(wire.commands) == 3


def test_a_61xx_chain_is_followed_with_get_response() -> None:
    wire = Wire(ODD_MODES["chained"](HOLDER, 0))
    assert read_holder(wire) == HOLDER
    assert wire.commands[2:4] == ["00C0000010", "00C0000010"]


def test_6cxx_is_answered_by_the_same_command_with_the_right_le() -> None:
    wire = Wire(ODD_MODES["wrong_le"](HOLDER, 0))
    assert read_holder(wire) == HOLDER
    length = len(encode_record(HOLDER))
    assert wire.commands[1:] == ["00B0810000", f"00B08100{length:02X}"]


def test_a_foreign_card_is_not_ours() -> None:
    with pytest.raises(NotOurCard, match="6A82"):
        read_holder(Wire(ForeignCard()))


def test_our_application_without_the_holder_file_is_not_ours() -> None:
    with pytest.raises(NotOurCard, match=r"READ BINARY.*6A82"):
        read_holder(Wire(OurCard(b"", read_fault=status(0x6A82))))


ODD_REASONS = {
    "truncated": OddAnswerReason.RECORD_TRUNCATED,
    "bad_tlv": OddAnswerReason.RECORD_UNKNOWN_TAG,
    "bad_utf8": OddAnswerReason.RECORD_BAD_TEXT,
    "bad_id": OddAnswerReason.RECORD_BAD_ID_NUMBER,
    "endless_chain": OddAnswerReason.CHAIN_TOO_LONG,
    "wrong_le_loop": OddAnswerReason.WRONG_LENGTH_AGAIN,
    "wrong_status": OddAnswerReason.UNEXPECTED_STATUS,
    "short_answer": OddAnswerReason.SHORT_RESPONSE,
}


@pytest.mark.parametrize("mode", sorted(ODD_REASONS))
def test_each_odd_card_raises_its_reason(mode: str) -> None:
    with pytest.raises(OddAnswer) as caught:
        read_holder(Wire(ODD_MODES[mode](HOLDER, 0)))
    assert caught.value.reason is ODD_REASONS[mode]


def test_a_locked_card_refuses_access() -> None:
    with pytest.raises(CardAccessDenied, match="6982"):
        read_holder(Wire(ODD_MODES["locked"](HOLDER, 0)))


@pytest.mark.parametrize("mode", ["silence", "leaves_early"])
def test_a_card_that_stops_answering_stops_the_read(mode: str) -> None:
    with pytest.raises(CardStopped):
        read_holder(Wire(ODD_MODES[mode](HOLDER, 0)))


def test_a_chain_is_cut_after_its_limit() -> None:
    wire = Wire(ODD_MODES["endless_chain"](HOLDER, 0))
    with pytest.raises(OddAnswer):
        read_holder(wire)
    assert wire.commands.count("00C0000010") == MAX_GET_RESPONSES


def test_a_file_shorter_than_its_record_at_a_later_offset_is_truncated() -> None:
    record = encode_template([(0xC0, b"\x01"), (0xC1, b"1" * 30), (0xC2, b"x" * 30)])
    with pytest.raises(OddAnswer) as caught:
        read_holder(Wire(OurCard(record[:40])), chunk=16)
    assert caught.value.reason is OddAnswerReason.RECORD_TRUNCATED


responses = st.one_of(
    st.binary(max_size=40),
    st.tuples(
        st.binary(max_size=40),
        st.sampled_from([0x90, 0x61, 0x6C, 0x62, 0x6A, 0x69, 0x6B, 0x6F]),
        st.integers(0, 255),
    ).map(lambda answer: answer[0] + bytes(answer[1:])),
)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_any_answers_end_in_a_record_or_a_driver_error(data: st.DataObject) -> None:
    def transmit(_apdu: bytes) -> bytes:
        return data.draw(responses)

    with contextlib.suppress(DriverError):
        read_holder(transmit, chunk=data.draw(st.integers(16, 256)))
