"""Ticket token codec: round trips, size, every refusal code, and fuzzing.

Real Ed25519 keys throughout; the fuzz tests hold the codec to its promise
that any input either decodes or raises TokenError, never anything else.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import base45
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.errors import ErrorCode, StationKitError
from protocol.ids import SEAT_CLASS_ORDER, SeatClass
from protocol.keys import KeyRing, SigningKey
from protocol.token import (
    BODY_BYTES,
    MAX_SERVICE_DATE,
    TOKEN_BYTES,
    TOKEN_CHARS,
    TicketClaims,
    TokenError,
    decode_token,
    encode_token,
    normalise_name,
    passenger_hash,
    peek_key_id,
    read_unverified,
)

QR_ALPHANUMERIC = set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")
ID_NUMBER = "11010519491231002X"
KEY = SigningKey.generate(7)
OTHER_KEY = SigningKey.generate(8)
RING = KeyRing([KEY.public_key()])
FUZZ = settings(max_examples=300, deadline=None)

# Offsets into the signed body, for tests that hand-craft records.
VERSION_AT, KEY_ID_AT, PREFIX_AT, FROM_AT = 0, 1, 10, 15
CLASS_AT, COACH_AT, NOT_BEFORE_AT = 19, 20, 39


def claims(**changes: Any) -> TicketClaims:
    """A seated G1 ticket Beijing to Shanghai, with ``changes`` applied."""
    fields: dict[str, Any] = {
        "ticket_id": "0123456789abcdef",
        "train": "G1",
        "service_date": dt.date(2025, 5, 1),
        "from_station": "BJP",
        "to_station": "SHH",
        "seat_class": SeatClass.SECOND,
        "coach": 5,
        "seat": 12,
        "name": "张三",
        "id_number": ID_NUMBER,
        "not_before": dt.datetime(2025, 5, 1, 5, 0, tzinfo=dt.UTC),
        "not_after": dt.datetime(2025, 5, 1, 6, 57, tzinfo=dt.UTC),
    }
    fields.update(changes)
    return TicketClaims.for_passenger(**fields)


def largest_claims() -> TicketClaims:
    """Every field at its widest value."""
    start = dt.datetime(2179, 6, 1, tzinfo=dt.UTC)
    return claims(
        ticket_id="ffffffffffffffff",
        train="Z65535",
        service_date=MAX_SERVICE_DATE,
        from_station="ZZZ",
        to_station="ZZZ",
        seat_class=SEAT_CLASS_ORDER[-1],
        coach=255,
        seat=65535,
        name="欧阳" * 100,
        id_number="X" * 100,
        not_before=start,
        not_after=start + dt.timedelta(minutes=65535),
    )


def resign(raw: bytes, patch: dict[int, int]) -> str:
    """The token ``raw`` with body bytes patched ({offset: value}) and signed again by KEY."""
    body = bytearray(raw[:BODY_BYTES])
    for offset, value in patch.items():
        body[offset] = value
    return b45text(bytes(body) + KEY.sign(bytes(body)))


def b45text(raw: bytes) -> str:
    """``raw`` as base45 text."""
    text: str = base45.b45encode(raw).decode()
    return text


def raw_token(token: str) -> bytes:
    """The binary record behind a token."""
    decoded: bytes = base45.b45decode(token)
    return decoded


def refusal(text: Any, keys: KeyRing = RING) -> ErrorCode:
    """The code decode_token refuses ``text`` with; fails the test if it decodes."""
    with pytest.raises(TokenError) as caught:
        decode_token(text, keys)
    return caught.value.code


# --- round trips and size -----------------------------------------------------------------


def test_seated_ticket_round_trips_and_carries_the_signing_key_id() -> None:
    original = claims()
    decoded = decode_token(encode_token(original, KEY), RING)
    assert decoded == dataclasses.replace(original, key_id=KEY.key_id)
    assert decoded.key_id == 7
    assert not decoded.is_standing


def test_standing_ticket_round_trips() -> None:
    original = claims(coach=None, seat=None, train="1461", seat_class=SeatClass.HARD_SEAT)
    decoded = decode_token(encode_token(original, KEY), RING)
    assert decoded == dataclasses.replace(original, key_id=KEY.key_id)
    assert decoded.is_standing and decoded.coach is None and decoded.seat is None


def test_largest_ticket_fits_a_qr_code_in_alphanumeric_mode() -> None:
    token = encode_token(largest_claims(), KEY)
    assert len(token) == TOKEN_CHARS <= 180
    assert set(token) <= QR_ALPHANUMERIC
    assert decode_token(token, RING).window_minutes == 65535


def test_window_is_floored_and_ceiled_to_whole_minutes_in_utc() -> None:
    beijing = dt.timezone(dt.timedelta(hours=8))
    made = claims(
        not_before=dt.datetime(2025, 5, 1, 13, 0, 59, 999, tzinfo=beijing),
        not_after=dt.datetime(2025, 5, 1, 14, 57, 0, 1, tzinfo=beijing),
    )
    assert made.not_before == dt.datetime(2025, 5, 1, 5, 0, tzinfo=dt.UTC)
    assert made.not_after == dt.datetime(2025, 5, 1, 6, 58, tzinfo=dt.UTC)
    assert made.not_before.tzinfo is dt.UTC
    assert decode_token(encode_token(made, KEY), RING).not_after == made.not_after


def test_train_number_is_kept_in_canonical_form() -> None:
    made = claims(train="G0012")
    assert made.train == "G12"
    assert decode_token(encode_token(made, KEY), RING).train == "G12"


# --- refusals -----------------------------------------------------------------------------


def test_signature_from_a_different_key_under_the_same_id_is_bad() -> None:
    impostor = SigningKey.generate(KEY.key_id)
    assert refusal(encode_token(claims(), impostor)) == ErrorCode.TOKEN_BAD_SIGNATURE


def test_changed_claim_with_the_old_signature_is_bad() -> None:
    raw = bytearray(raw_token(encode_token(claims(), KEY)))
    raw[COACH_AT] = 6  # move the passenger to another coach
    assert refusal(b45text(bytes(raw))) == ErrorCode.TOKEN_BAD_SIGNATURE


def test_token_from_a_key_not_in_the_ring_is_unknown_key() -> None:
    assert refusal(encode_token(claims(), OTHER_KEY)) == ErrorCode.TOKEN_UNKNOWN_KEY


def test_key_rotation_accepts_tokens_from_old_and_new_keys() -> None:
    ring = KeyRing([KEY.public_key(), OTHER_KEY.public_key()])
    for key in (KEY, OTHER_KEY):
        token = encode_token(claims(), key)
        assert peek_key_id(token) == key.key_id
        assert decode_token(token, ring).key_id == key.key_id


def test_a_token_read_unverified_gives_its_claims_and_bytes_whatever_its_signature() -> None:
    token = encode_token(claims(), KEY)
    read, raw = read_unverified(token)
    assert read == decode_token(token, RING) and raw == base45.b45decode(token)
    forged = base45.b45encode(raw[:BODY_BYTES] + bytes(TOKEN_BYTES - BODY_BYTES)).decode()
    assert read_unverified(forged)[0] == read  # what the caller must verify before trusting
    with pytest.raises(TokenError):
        read_unverified("NOT A TOKEN")


@pytest.mark.parametrize("version", [0, 2, 255])
def test_other_versions_are_unsupported_before_the_signature_is_checked(version: int) -> None:
    raw = raw_token(encode_token(claims(), KEY))
    assert refusal(resign(raw, {VERSION_AT: version})) == ErrorCode.TOKEN_UNSUPPORTED_VERSION
    # A newer version may be any length; the version still decides the answer.
    short = b45text(bytes([version, 7, 1, 2, 3]))
    assert refusal(short) == ErrorCode.TOKEN_UNSUPPORTED_VERSION


def _good_token() -> str:
    return encode_token(claims(), KEY)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "\r\n",
        "A",
        "10",  # one byte: version 1 and nothing else
        "1",
        _good_token()[:-3],  # two bytes short
        _good_token() + "00",  # one byte long
        _good_token().lower(),
        _good_token().replace(_good_token()[5], "é"),
        ":::" + _good_token()[3:],  # triplet above 0xFFFF
        _good_token()[:-1],  # length 1 mod 3 is never base45
        "\x00" * 164,
        "\ud800" * 10,  # lone surrogate
        "0" * 2_000_000,
        b"not text",
        None,
        12345,
    ],
    ids=lambda text: repr(text)[:20],
)
def test_malformed_input_is_refused_as_malformed(text: Any) -> None:
    assert refusal(text) == ErrorCode.TOKEN_MALFORMED


def test_scanner_line_ending_is_ignored() -> None:
    assert decode_token(_good_token() + "\r\n", RING).ticket_id == "0123456789abcdef"


@pytest.mark.parametrize(
    "patch",
    [
        {CLASS_AT: len(SEAT_CLASS_ORDER)},  # no such seat class
        {FROM_AT: 0xFF, FROM_AT + 1: 0xFF},  # station past ZZZ
        {PREFIX_AT: ord("g")},  # train prefix not a capital letter
        {COACH_AT: 0},  # seat without a coach
        {NOT_BEFORE_AT + i: 0xFF for i in range(4)},  # beyond year 9999
    ],
)
def test_signed_record_with_a_bad_field_is_malformed(patch: dict[int, int]) -> None:
    raw = raw_token(_good_token())
    assert refusal(resign(raw, patch)) == ErrorCode.TOKEN_MALFORMED


def test_token_error_reports_its_code_as_reason() -> None:
    error = TokenError("no", ErrorCode.TOKEN_UNKNOWN_KEY)
    assert isinstance(error, StationKitError)
    assert error.reason == "unknown_key" == error.code.value
    assert TokenError("no").reason == "malformed"
    with pytest.raises(ValueError, match="token error code"):
        TokenError("no", ErrorCode.SOLD_OUT)


# --- holder -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        ID_NUMBER,
        "11010519491231002x",
        " 110105 19491231 002X\t",
        "１１０１０５１９４９１２３１００２ｘ",
    ],
)
def test_holder_matches_ignores_spacing_case_and_width(typed: str) -> None:
    decoded = decode_token(_good_token(), RING)
    assert decoded.holder_matches(typed)


@pytest.mark.parametrize("typed", ["110105194912310021", "", "11010519491231002"])
def test_holder_does_not_match_another_id_number(typed: str) -> None:
    assert not claims().holder_matches(typed)


def test_name_matches_ignores_case_and_surrounding_space() -> None:
    made = claims(name="Zhang San")
    assert made.name_matches("  ZHANG SAN ")
    assert not made.name_matches("Zhang Sen")


def test_passenger_hash_is_salted_by_the_ticket_id() -> None:
    one = passenger_hash("0123456789abcdef", ID_NUMBER, is_id_number=True)
    other = passenger_hash("0123456789abcdee", ID_NUMBER, is_id_number=True)
    assert len(one) == 8 and one != other


# --- construction -------------------------------------------------------------------------

BAD_CLAIMS: dict[str, dict[str, Any]] = {
    "coach 0": {"coach": 0},
    "coach 256": {"coach": 256},
    "seat 0": {"seat": 0},
    "seat 65536": {"seat": 65536},
    "coach without seat": {"seat": None},
    "seat without coach": {"coach": None},
    "coach not int": {"coach": True},
    "naive not_before": {"not_before": dt.datetime(2025, 5, 1, 5, 0)},
    "naive not_after": {"not_after": dt.datetime(2025, 5, 1, 6, 0)},
    "window negative": {"not_after": dt.datetime(2025, 5, 1, 4, 59, tzinfo=dt.UTC)},
    "window too long": {"not_after": dt.datetime(2025, 7, 16, tzinfo=dt.UTC)},
    "before 1970": {
        "not_before": dt.datetime(1969, 12, 31, 23, 59, tzinfo=dt.UTC),
        "not_after": dt.datetime(1970, 1, 1, 1, tzinfo=dt.UTC),
    },
    "not_after past year 9999": {"not_after": dt.datetime.max.replace(tzinfo=dt.UTC)},
    "not_before before year 1": {
        "not_before": dt.datetime.min.replace(tzinfo=dt.timezone(dt.timedelta(hours=8)))
    },
    "service date before 2000": {"service_date": dt.date(1999, 12, 31)},
    "service date too late": {"service_date": MAX_SERVICE_DATE + dt.timedelta(days=1)},
    "service date with time": {"service_date": dt.datetime(2025, 5, 1, tzinfo=dt.UTC)},
    "station lower case": {"from_station": "bjp"},
    "station too long": {"to_station": "SHHQ"},
    "train letters": {"train": "GG1"},
    "train too big": {"train": "G65536"},
    "ticket id upper case": {"ticket_id": "0123456789ABCDEF"},
    "ticket id short": {"ticket_id": "0123"},
    "seat class": {"seat_class": "XX"},
    "key id": {"key_id": 256},
    "empty name": {"name": "  "},
    "empty id number": {"id_number": " \u3000 "},
}


@pytest.mark.parametrize("changes", BAD_CLAIMS.values(), ids=BAD_CLAIMS.keys())
def test_out_of_range_claims_are_refused_at_construction(changes: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        claims(**changes)


def test_hash_of_wrong_length_is_refused() -> None:
    with pytest.raises(ValueError, match="name_hash must be 8 bytes"):
        dataclasses.replace(claims(), name_hash=b"short")


# --- fuzzing ------------------------------------------------------------------------------


def test_every_single_bit_flip_is_refused_with_the_right_code() -> None:
    raw = raw_token(_good_token())
    for bit in range(TOKEN_BYTES * 8):
        flipped = bytearray(raw)
        flipped[bit // 8] ^= 1 << bit % 8
        expected = {
            VERSION_AT: ErrorCode.TOKEN_UNSUPPORTED_VERSION,
            KEY_ID_AT: ErrorCode.TOKEN_UNKNOWN_KEY,
        }.get(bit // 8, ErrorCode.TOKEN_BAD_SIGNATURE)
        assert refusal(b45text(bytes(flipped))) == expected, bit


@FUZZ
@given(st.text(max_size=400))
def test_any_text_is_refused_with_token_error_only(text: str) -> None:
    refusal(text)


@FUZZ
@given(st.binary(max_size=300))
def test_any_base45_bytes_are_refused_with_token_error_only(raw: bytes) -> None:
    refusal(b45text(raw))


@FUZZ
@given(st.binary(min_size=TOKEN_BYTES - 2, max_size=TOKEN_BYTES - 2))
def test_junk_of_the_right_shape_is_a_bad_signature(junk: bytes) -> None:
    text = b45text(bytes([1, KEY.key_id]) + junk)
    assert refusal(text) == ErrorCode.TOKEN_BAD_SIGNATURE


@FUZZ
@given(
    st.lists(st.tuples(st.integers(0, TOKEN_CHARS - 1), st.characters()), min_size=1, max_size=8)
)
def test_edited_token_text_is_refused_with_token_error_only(edits: list[tuple[int, str]]) -> None:
    text = list(_good_token())
    for position, char in edits:
        text[position] = char
    if "".join(text) != _good_token():  # an edit may write back the same character
        refusal("".join(text))


@st.composite
def any_claims(draw: st.DrawFn) -> TicketClaims:
    """Valid claims anywhere in the ranges the token can hold."""
    seated = draw(st.booleans())
    start = draw(
        st.datetimes(dt.datetime(1970, 1, 1), dt.datetime(9990, 1, 1), timezones=st.just(dt.UTC))
    )
    return claims(
        ticket_id=draw(st.binary(min_size=8, max_size=8)).hex(),
        train=draw(st.sampled_from(["", "G", "D", "K", "Z"])) + str(draw(st.integers(0, 65535))),
        service_date=draw(st.dates(dt.date(2000, 1, 1), MAX_SERVICE_DATE)),
        from_station=draw(st.from_regex(r"\A[A-Z]{3}\Z")),
        to_station=draw(st.from_regex(r"\A[A-Z]{3}\Z")),
        seat_class=draw(st.sampled_from(SEAT_CLASS_ORDER)),
        coach=draw(st.integers(1, 255)) if seated else None,
        seat=draw(st.integers(1, 65535)) if seated else None,
        name=draw(st.text(min_size=1).filter(normalise_name)),
        not_before=start,
        not_after=start + dt.timedelta(seconds=draw(st.integers(0, 65534 * 60))),
    )


@FUZZ
@given(any_claims())
def test_any_valid_claims_round_trip(original: TicketClaims) -> None:
    token = encode_token(original, KEY)
    assert len(token) == TOKEN_CHARS and set(token) <= QR_ALPHANUMERIC
    assert decode_token(token, RING) == dataclasses.replace(original, key_id=KEY.key_id)
