"""APDU builders give the exact bytes; the parsers take any bytes and raise only OddAnswer."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.card_reader.apdu import (
    Command,
    Response,
    expected_length,
    get_response,
    parse_command,
    parse_response,
    read_binary,
    read_binary_sfi,
    select_aid,
)
from drivers.card_reader.errors import OddAnswer, OddAnswerReason
from drivers.card_reader.session import STATIONKIT_AID
from drivers.errors import DriverErrorCode, ProtocolError


def test_select_of_our_application_asks_for_no_fci() -> None:
    assert select_aid(STATIONKIT_AID).to_bytes() == bytes.fromhex("00A4040C07F053544B014944")


def test_read_binary_by_short_ef_identifier_puts_it_in_p1() -> None:
    assert read_binary_sfi(1, 0, 256).to_bytes() == bytes.fromhex("00B0810000")
    assert read_binary_sfi(30, 255, 16).to_bytes() == bytes.fromhex("00B09EFF10")


def test_read_binary_by_offset_uses_fifteen_bits() -> None:
    assert read_binary(0x0123, 0x40).to_bytes() == bytes.fromhex("00B0012340")
    with pytest.raises(ValueError):
        read_binary(0x8000, 1)


def test_get_response_and_a_corrected_le() -> None:
    assert get_response(0x10).to_bytes() == bytes.fromhex("00C0000010")
    assert read_binary(0, 256).with_le(0x1F).to_bytes() == bytes.fromhex("00B000001F")


def test_sw2_zero_announces_256_bytes() -> None:
    assert expected_length(0x00) == 256
    assert expected_length(0x2A) == 42


def test_a_response_splits_into_data_and_status_word() -> None:
    response = parse_response(bytes.fromhex("C00101 9000"))
    assert response == Response(bytes.fromhex("C00101"), 0x90, 0x00)
    assert response.sw == 0x9000
    assert parse_response(b"\x6a\x82").data == b""


@pytest.mark.parametrize("raw", [b"", b"\x90"])
def test_a_response_without_its_status_word_is_an_odd_answer(raw: bytes) -> None:
    with pytest.raises(OddAnswer) as caught:
        parse_response(raw)
    assert caught.value.reason is OddAnswerReason.SHORT_RESPONSE
    assert caught.value.code is DriverErrorCode.PROTOCOL
    assert isinstance(caught.value, ProtocolError)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("00A40400", Command(0x00, 0xA4, 0x04, 0x00)),
        ("00B0810000", Command(0x00, 0xB0, 0x81, 0x00, le=256)),
        ("00A4040C020102", Command(0x00, 0xA4, 0x04, 0x0C, b"\x01\x02")),
        ("00A404000201020A", Command(0x00, 0xA4, 0x04, 0x00, b"\x01\x02", le=10)),
    ],
)
def test_commands_of_each_iso_case_parse(raw: str, expected: Command) -> None:
    assert parse_command(bytes.fromhex(raw)) == expected


@pytest.mark.parametrize(
    "raw", ["00A404", "00A404000500", "00A40400030102", "00A4040002010203AA", "00A40400000101"]
)
def test_malformed_commands_are_odd(raw: str) -> None:
    with pytest.raises(OddAnswer) as caught:
        parse_command(bytes.fromhex(raw))
    assert caught.value.reason is OddAnswerReason.MALFORMED_COMMAND


@given(st.binary(max_size=300))
def test_any_bytes_parse_as_a_response_or_raise_odd_answer(raw: bytes) -> None:
    try:
        response = parse_response(raw)
    except OddAnswer as exc:
        assert exc.reason is OddAnswerReason.SHORT_RESPONSE
        return
    assert response.to_bytes() == raw


@given(st.binary(max_size=300))
def test_any_bytes_parse_as_a_command_or_raise_odd_answer(raw: bytes) -> None:
    try:
        command = parse_command(raw)
    except OddAnswer:
        return
    assert command.to_bytes() == raw


commands = st.builds(
    Command,
    cla=st.integers(0, 255),
    ins=st.integers(0, 255),
    p1=st.integers(0, 255),
    p2=st.integers(0, 255),
    data=st.binary(max_size=255),
    le=st.none() | st.integers(1, 256),
)


@given(commands)
def test_a_command_survives_the_wire(command: Command) -> None:
    assert parse_command(command.to_bytes()) == command
