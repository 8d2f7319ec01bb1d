"""Concert E+ records and the report field: layouts, pyTeliumManager's encoding, card masking."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from telium import TeliumAsk, TeliumResponse  # type: ignore[import-untyped]
from telium.constant import (  # type: ignore[import-untyped]
    TERMINAL_ANSWER_SET_FULLSIZED,
    TERMINAL_ANSWER_SET_SMALLSIZED,
    TERMINAL_FORCE_AUTHORIZATION_DISABLE,
    TERMINAL_MODE_PAYMENT_DEBIT,
    TERMINAL_REQUEST_ANSWER_WAIT_FOR_TRANSACTION,
    TERMINAL_TYPE_PAYMENT_CARD,
)

from drivers.pos.framing import encode_frame
from drivers.pos.records import (
    BLANK_PRIVATE,
    LONG_ANSWER_LENGTH,
    REQUEST_LENGTH,
    SHORT_ANSWER_LENGTH,
    AnswerRecord,
    RecordError,
    Request,
    decode_answer,
    decode_request,
    encode_answer,
    encode_request,
)
from drivers.pos.report import build_report, card_from_report, mask_card, parse_report
from protocol.fields import MAX_VISIBLE_CARD_DIGITS, masked_card

FULL_PAN = "6228480402564890018"


def telium_ask(amount: float, answer_flag: str = TERMINAL_ANSWER_SET_FULLSIZED) -> TeliumAsk:
    return TeliumAsk(
        "1",
        answer_flag,
        TERMINAL_MODE_PAYMENT_DEBIT,
        TERMINAL_TYPE_PAYMENT_CARD,
        "156",
        TERMINAL_REQUEST_ANSWER_WAIT_FOR_TRANSACTION,
        TERMINAL_FORCE_AUTHORIZATION_DISABLE,
        amount,
    )


def test_our_request_is_byte_for_byte_pytelium_managers() -> None:
    ours = Request(
        pos_number=1, amount=1250, transaction_type="0", currency=156, private=BLANK_PRIVATE
    )
    assert encode_frame(encode_request(ours)) == telium_ask(12.5).encode().encode("ascii")
    assert len(encode_request(ours)) == REQUEST_LENGTH


def test_pytelium_managers_request_decodes_field_by_field() -> None:
    frame = telium_ask(99.99, TERMINAL_ANSWER_SET_SMALLSIZED).encode().encode("ascii")
    request = decode_request(frame[1:-2])
    assert (request.pos_number, request.amount, request.currency) == (1, 9999, 156)
    assert (request.transaction_type, request.answer_flag, request.payment_mode) == ("0", "0", "1")
    assert (request.delay, request.authorisation, request.private) == (
        "A010",
        "B010",
        BLANK_PRIVATE,
    )


@pytest.mark.parametrize("report", [None, f"{FULL_PAN}  " + "0" * 34])
def test_pytelium_managers_answer_decodes_and_ours_decodes_there(report: str | None) -> None:
    theirs = TeliumResponse("01", 0, 12.5, "1", report, "156", "0000000042").encode()
    answer = decode_answer(theirs.encode("ascii")[1:-2])
    assert (answer.status, answer.amount, answer.currency, answer.private) == (
        "0",
        1250,
        156,
        "0000000042",
    )
    assert answer.is_long is (report is not None)
    record = AnswerRecord(1, "0", 1250, "1", 156, "0000000042", report)
    back = TeliumResponse.decode(encode_frame(encode_answer(record)))
    assert (back.transaction_result, back.amount, back.private) == (0, 12.5, "0000000042")


def test_answer_lengths_are_the_long_and_short_forms() -> None:
    record = AnswerRecord(1, "7", 5, "1", 156, "1234567890", " " * 55)
    assert len(encode_answer(record)) == LONG_ANSWER_LENGTH
    assert (
        len(encode_answer(AnswerRecord(1, "7", 5, "1", 156, "1234567890"))) == SHORT_ANSWER_LENGTH
    )


@pytest.mark.parametrize(
    "payload",
    [b"", b"0" * 33, b"AB" + b"0" * 32, b"01" + b"x" * 8 + b"0" * 24, b"\x00" * 34],
)
def test_a_frame_that_is_no_request_is_a_record_error(payload: bytes) -> None:
    with pytest.raises(RecordError):
        decode_request(payload)


@given(st.binary(min_size=0, max_size=100) | st.sampled_from([b"0" * 80, b"0" * 25]))
def test_any_payload_decodes_to_an_answer_or_a_record_error(payload: bytes) -> None:
    try:
        answer = decode_answer(payload)
    except RecordError:
        return
    digits = sum(ch.isdigit() for ch in answer.report.card_masked or "")
    assert digits <= MAX_VISIBLE_CARD_DIGITS


def test_a_full_card_number_is_masked_as_the_answer_is_decoded() -> None:
    report = f"{FULL_PAN:<55}"
    answer = decode_answer(encode_answer(AnswerRecord(1, "0", 100, "1", 156, "1234567890", report)))
    assert answer.report.card_masked == "622848*********0018"
    assert FULL_PAN not in repr(answer)
    assert FULL_PAN not in repr(AnswerRecord(1, "0", 100, "1", 156, "1234567890", report))


def test_a_number_running_into_zero_padding_shows_its_first_six_only() -> None:
    # a real terminal's report as published by pyTeliumManager: the number, then zeros
    assert card_from_report("4711690463168807" + "0" * 39) == "471169******"


@pytest.mark.parametrize(
    ("token", "shown"),
    [
        ("4711690463168807=2512", "471169******8807"),
        ("4711XXXXXXXX8807 rest", "4711********8807"),
        ("622848**0402564890018", "622848******"),  # a 21-character "card": end unknown
        ("12345678 ", "****5678"),
        ("0" * 55, None),
        (" " * 55, None),
        ("ABC", None),
    ],
)
def test_what_a_report_shows_of_its_card(token: str, shown: str | None) -> None:
    assert card_from_report(token) == shown


@given(st.text(alphabet="0123456789*X =", max_size=55))
def test_no_report_ever_shows_more_than_six_and_four(report: str) -> None:
    card = card_from_report(report)
    if card is not None:
        assert masked_card(card) == card
        assert sum(ch.isdigit() for ch in card) <= MAX_VISIBLE_CARD_DIGITS


@given(st.from_regex(r"[0-9]{13,19}", fullmatch=True))
def test_a_clear_number_keeps_its_first_six_and_last_four(number: str) -> None:
    masked = mask_card(number)
    assert masked[:6] == number[:6] and masked[-4:] == number[-4:]
    assert set(masked[6:-4]) == {"*"} and len(masked) == len(number)


def test_stationkits_report_layout_round_trips() -> None:
    report = build_report(FULL_PAN, "A1B2C3", "REF000000042", "ICBC-SH")
    assert parse_report(report).card_masked == "622848*********0018"
    fields = parse_report(report)
    assert (fields.authorisation_code, fields.terminal_reference, fields.acquirer) == (
        "A1B2C3",
        "REF000000042",
        "ICBC-SH",
    )


def test_a_report_off_the_layout_yields_the_card_only() -> None:
    report = build_report("622848******0018", "A1B2C3", "REF000000042", "ICBC")
    shifted = " " + report[:-1]
    assert parse_report(shifted).authorisation_code is None
    assert parse_report(report[:20] + "a1b2c3" + report[26:]).acquirer is None


@pytest.mark.parametrize(
    "parts",
    [
        ("622848******0018", "A1B2C", "REF000000042", "X"),
        ("6228", "A1B2C3", "R", "X"),
        ("622848******0018", "A1B2C3", "REF000000042", "A" * 16),
    ],
)
def test_report_parts_that_do_not_fit_are_refused(parts: tuple[str, str, str, str]) -> None:
    with pytest.raises(ValueError):
        build_report(*parts)
