"""The vpcd framing (fed split, joined and garbled bytes) and the emulated cards' ISO answers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.card_reader.emulator.card import Answer, ForeignCard, OurCard, our_card
from drivers.card_reader.emulator.vpcd import VpcdFramer, frame
from drivers.card_reader.record import HolderRecord

SELECT_OURS = bytes.fromhex("00A4040C07F053544B014944")


def test_a_message_split_anywhere_comes_out_whole() -> None:
    framer = VpcdFramer()
    wire = frame(b"\x04") + frame(SELECT_OURS)
    assert framer.feed(wire[:1]) == []
    assert framer.feed(wire[1:4]) == [b"\x04"]
    assert framer.feed(wire[4:]) == [SELECT_OURS]


def test_an_empty_message_is_a_message() -> None:
    assert VpcdFramer().feed(b"\x00\x00\x00\x01\x01") == [b"", b"\x01"]


def test_a_message_beyond_the_length_field_is_refused() -> None:
    with pytest.raises(ValueError):
        frame(bytes(0x10000))


@given(st.lists(st.binary(max_size=300), max_size=8), st.data())
def test_messages_survive_any_chunking(messages: list[bytes], data: st.DataObject) -> None:
    wire = b"".join(frame(message) for message in messages)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(wire)), max_size=10)))
    framer = VpcdFramer()
    received: list[bytes] = []
    for start, end in zip([0, *cuts], [*cuts, len(wire)], strict=True):
        received += framer.feed(wire[start:end])
    assert received == messages


@given(st.lists(st.binary(max_size=64), max_size=20))
def test_garbage_never_breaks_the_framer(chunks: list[bytes]) -> None:
    framer = VpcdFramer()
    for chunk in chunks:
        for message in framer.feed(chunk):
            assert len(message) <= 0xFFFF


@pytest.mark.parametrize(
    ("command", "status"),
    [
        ("00B0810000", "6985"),  # READ BINARY before the application is selected
        ("00C0000010", "6985"),  # GET RESPONSE with nothing waiting
        ("80A4040C07F053544B014944", "6E00"),  # a CLA we do not speak
        ("00CA000000", "6D00"),  # GET DATA: not ours
        ("00A4", "6700"),  # malformed
        ("00A4020C020101", "6A86"),  # SELECT by file identifier: not supported
    ],
)
def test_our_card_answers_odd_commands_as_iso_7816_says(command: str, status: str) -> None:
    card = our_card(HolderRecord("12345X", "Li"))
    assert card.respond(bytes.fromhex(command)) == Answer(bytes.fromhex(status))


def test_our_card_reads_by_offset_only_once_the_ef_is_current() -> None:
    card = OurCard(b"\xe1\x00")
    assert card.respond(SELECT_OURS) == Answer(b"\x90\x00")
    assert card.respond(bytes.fromhex("00B0000001")) == Answer(b"\x69\x86")
    assert card.respond(bytes.fromhex("00B0810001")) == Answer(b"\xe1\x90\x00")
    assert card.respond(bytes.fromhex("00B0000101")) == Answer(b"\x00\x90\x00")
    assert card.respond(bytes.fromhex("00B0000301")) == Answer(b"\x6b\x00")
    assert card.respond(bytes.fromhex("00B0000004")) == Answer(b"\xe1\x00\x62\x82")


def test_a_foreign_card_has_no_application_of_ours() -> None:
    assert ForeignCard().respond(SELECT_OURS) == Answer(b"\x6a\x82")
    assert ForeignCard().respond(bytes.fromhex("00B0810000")) == Answer(b"\x6d\x00")


@given(st.binary(max_size=300))
def test_our_card_answers_any_bytes_with_a_status_word(raw: bytes) -> None:
    card = our_card(HolderRecord("12345X", "Li"))
    card.respond(SELECT_OURS)
    reply = card.respond(raw)
    assert isinstance(reply, Answer) and len(reply.payload) >= 2
