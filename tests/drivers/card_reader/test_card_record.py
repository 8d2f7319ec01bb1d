"""The holder record's codec: round trips, exact bytes, and a strict decode of anything."""

from __future__ import annotations

import contextlib
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.card_reader.errors import OddAnswer, OddAnswerReason
from drivers.card_reader.record import (
    MAX_NAME_BYTES,
    HolderRecord,
    decode_record,
    encode_record,
    encode_template,
    encode_tlv,
    mask_id_number,
    record_length,
)

ZHANG = HolderRecord("11010519491231002X", "张三", "SN-0001", date(2030, 1, 31))


def test_a_record_has_the_documented_bytes() -> None:
    assert encode_record(HolderRecord("12345X", "Li")) == bytes.fromhex(
        "E1 0F C0 01 01 C1 06 313233343558 C2 02 4C69"
    )


def test_a_full_record_round_trips() -> None:
    assert decode_record(encode_record(ZHANG)) == ZHANG


def test_lengths_from_128_take_the_81_form() -> None:
    long_name = "名" * 42  # 126 UTF-8 bytes: the template passes 127
    encoded = encode_record(HolderRecord("1" * 32, long_name))
    assert encoded[:2] == b"\xe1\x81"
    assert decode_record(encoded).name == long_name


def test_the_id_number_and_name_stay_out_of_repr() -> None:
    shown = repr(ZHANG)
    assert "11010519491231002X" not in shown and "张三" not in shown
    assert ZHANG.masked_id == "110*************2X"


@pytest.mark.parametrize(
    ("id_number", "masked"),
    [("11010519491231002X", "110*************2X"), ("E1234567", "E12***67"), ("123456", "******")],
)
def test_masking_keeps_three_first_and_two_last(id_number: str, masked: str) -> None:
    assert mask_id_number(id_number) == masked


def test_the_header_tells_the_whole_length_once_complete() -> None:
    encoded = encode_record(ZHANG)
    assert record_length(b"") is None
    assert record_length(encoded[:1]) is None
    assert record_length(encoded[:2]) == len(encoded)
    assert record_length(b"\xe1\x81") is None
    assert record_length(b"\xe1\x81\x90") == 0x93


def _fields(*fields: tuple[int, bytes]) -> bytes:
    return encode_template(list(fields))


VERSION = (0xC0, b"\x01")
ID = (0xC1, b"110105194912310021")
NAME = (0xC2, "王五".encode())

BAD_RECORDS = {
    "not our template": (b"\x70\x03\xc0\x01\x01", OddAnswerReason.RECORD_BAD_TEMPLATE),
    "indefinite length": (b"\xe1\x80\xc0\x01\x01", OddAnswerReason.RECORD_BAD_LENGTH),
    "long length not minimal": (b"\xe1\x81\x03\xc0\x01\x01", OddAnswerReason.RECORD_BAD_LENGTH),
    "three length bytes": (b"\xe1\x83\x00\x00\x03", OddAnswerReason.RECORD_BAD_LENGTH),
    "too long": (b"\xe1\x82\x02\x00" + bytes(512), OddAnswerReason.RECORD_TOO_LONG),
    "cut short": (_fields(VERSION, ID, NAME)[:-1], OddAnswerReason.RECORD_TRUNCATED),
    "bytes after": (_fields(VERSION, ID, NAME) + b"\x00", OddAnswerReason.RECORD_BAD_LENGTH),
    "field overruns": (b"\xe1\x05\xc0\x01\x01\xc1\x09", OddAnswerReason.RECORD_TRUNCATED),
    "field length cut": (b"\xe1\x04\xc0\x01\x01\xc1", OddAnswerReason.RECORD_TRUNCATED),
    "no version": (_fields(ID, NAME), OddAnswerReason.RECORD_UNSUPPORTED_VERSION),
    "version 2": (_fields((0xC0, b"\x02"), ID, NAME), OddAnswerReason.RECORD_UNSUPPORTED_VERSION),
    "version not first": (_fields(ID, VERSION, NAME), OddAnswerReason.RECORD_UNSUPPORTED_VERSION),
    "unknown tag": (_fields(VERSION, ID, NAME, (0xC9, b"")), OddAnswerReason.RECORD_UNKNOWN_TAG),
    "duplicate": (_fields(VERSION, ID, ID, NAME), OddAnswerReason.RECORD_DUPLICATE_TAG),
    "no name": (_fields(VERSION, ID), OddAnswerReason.RECORD_MISSING_FIELD),
    "no id": (_fields(VERSION, NAME), OddAnswerReason.RECORD_MISSING_FIELD),
    "lowercase x": (_fields(VERSION, (0xC1, b"11010519491231002x"), NAME), "id"),
    "empty id": (_fields(VERSION, (0xC1, b""), NAME), "id"),
    "id of 33": (_fields(VERSION, (0xC1, b"1" * 33), NAME), "id"),
    "id not ascii": (_fields(VERSION, (0xC1, "１２３".encode()), NAME), "id"),
    "name not utf-8": (_fields(VERSION, ID, (0xC2, b"\xe5\xbc")), "text"),
    "name with newline": (_fields(VERSION, ID, (0xC2, b"Li\nWang")), "text"),
    "blank name": (_fields(VERSION, ID, (0xC2, b"  ")), "text"),
    "name too long": (_fields(VERSION, ID, (0xC2, b"a" * (MAX_NAME_BYTES + 1))), "text"),
    "serial with space": (_fields(VERSION, ID, NAME, (0xC3, b"SN 1")), "text"),
    "expiry not a date": (_fields(VERSION, ID, NAME, (0xC4, b"20300230")), "expiry"),
    "expiry too short": (_fields(VERSION, ID, NAME, (0xC4, b"203001")), "expiry"),
    "expiry not digits": (_fields(VERSION, ID, NAME, (0xC4, "2030013²".encode())), "expiry"),
}
SHORTHAND = {
    "id": OddAnswerReason.RECORD_BAD_ID_NUMBER,
    "text": OddAnswerReason.RECORD_BAD_TEXT,
    "expiry": OddAnswerReason.RECORD_BAD_EXPIRY,
}


@pytest.mark.parametrize("case", sorted(BAD_RECORDS))
def test_a_bad_record_is_refused_with_its_reason(case: str) -> None:
    data, reason = BAD_RECORDS[case]
    with pytest.raises(OddAnswer) as caught:
        decode_record(data)
    assert caught.value.reason == SHORTHAND.get(str(reason), reason)


def test_encode_refuses_what_decode_would_refuse() -> None:
    with pytest.raises(OddAnswer):
        encode_record(HolderRecord("abc", "Li"))


id_numbers = st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=32)
names = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs")),  # Cc: the C0 and C1 controls
    min_size=1,
    max_size=MAX_NAME_BYTES // 4,  # a character is at most 4 UTF-8 bytes
).filter(lambda name: name.strip() != "")
printable_ascii = st.characters(min_codepoint=0x21, max_codepoint=0x7E)
serials = st.none() | st.text(alphabet=printable_ascii, min_size=1, max_size=32)
expiries = st.none() | st.dates()
holders = st.builds(HolderRecord, id_numbers, names, serials, expiries)


@given(holders)
def test_every_valid_record_round_trips(holder: HolderRecord) -> None:
    assert decode_record(encode_record(holder)) == holder


@given(st.binary(max_size=600))
def test_any_bytes_decode_or_raise_odd_answer(data: bytes) -> None:
    with contextlib.suppress(OddAnswer):
        decode_record(data)


@given(holders, st.data())
def test_a_mangled_record_decodes_or_raises_odd_answer(
    holder: HolderRecord, data: st.DataObject
) -> None:
    encoded = bytearray(encode_record(holder))
    position = data.draw(st.integers(0, len(encoded) - 1))
    encoded[position] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(encoded)))
    with contextlib.suppress(OddAnswer):
        decode_record(bytes(encoded[:cut]))


@given(st.binary(max_size=8))
def test_any_prefix_gives_a_length_none_or_odd_answer(prefix: bytes) -> None:
    try:
        total = record_length(prefix)
    except OddAnswer:
        return
    assert total is None or total >= 2


def test_a_tlv_of_300_bytes_takes_the_82_form() -> None:
    assert encode_tlv(0xC2, bytes(300))[:4] == b"\xc2\x82\x01\x2c"
