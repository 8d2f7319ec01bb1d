"""The ticket token: a signed binary record small enough for one QR code.

Central signs each ticket's claims (train, date, journey, seat, holder hashes,
check-in window) with Ed25519; a gate verifies them offline against its
:class:`~protocol.keys.KeyRing`. The record is 109 bytes (45 of claims, 64 of
signature), written in base45 as 164 characters of the QR alphanumeric set.

Layout, version 1, big-endian: version u8, key id u8, ticket id 8 bytes, train
prefix u8 (0 = none) and number u16, service date u16 (days since 2000-01-01),
from and to station u16 each (telecode in base 26), seat class u8 (index into
``SEAT_CLASS_ORDER``), coach u8 and seat u16 (0 = standing), name hash and id
hash 8 bytes each, not-before u32 (minutes since 1970-01-01 UTC), window u16
(minutes), then the signature over all of it.

Decoding checks, in order: base45 and size limit, version, length, key id,
signature, field ranges. Any failure raises :class:`TokenError` and nothing
else, whatever the input; a token of another version reports
``unsupported_version`` before its signature is looked at, because this code
cannot know how such a token is signed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import struct
import unicodedata
from dataclasses import dataclass

import base45

from protocol.errors import ErrorCode, StationKitError
from protocol.ids import (
    SEAT_CLASS_ORDER,
    SeatClass,
    StationCode,
    TicketId,
    TrainNumber,
    split_train_number,
    station_code,
)
from protocol.ids import ticket_id as check_ticket_id
from protocol.keys import SIGNATURE_BYTES, KeyRing, SigningKey, check_key_id

TOKEN_VERSION = 1
_BODY = struct.Struct(">BB8sBHHHHBBH8s8sIH")
BODY_BYTES = _BODY.size
TOKEN_BYTES = BODY_BYTES + SIGNATURE_BYTES
# base45 writes each 2 bytes as 3 characters and a last odd byte as 2.
TOKEN_CHARS = TOKEN_BYTES // 2 * 3 + TOKEN_BYTES % 2 * 2
# Longer input is refused before decoding so a hostile scan costs nothing.
MAX_INPUT_CHARS = 1024

HASH_BYTES = 8
MAX_COACH = 0xFF
MAX_SEAT = 0xFFFF
MAX_WINDOW_MINUTES = 0xFFFF
DATE_EPOCH = dt.date(2000, 1, 1)
MAX_SERVICE_DATE = DATE_EPOCH + dt.timedelta(days=0xFFFF)
TIME_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_ONE_MINUTE = dt.timedelta(minutes=1)
_ALPHABET_SIZE = 26
_TOKEN_CODES = frozenset(
    {
        ErrorCode.TOKEN_MALFORMED,
        ErrorCode.TOKEN_BAD_SIGNATURE,
        ErrorCode.TOKEN_UNKNOWN_KEY,
        ErrorCode.TOKEN_UNSUPPORTED_VERSION,
    }
)


class TokenError(StationKitError):
    """A scanned token was refused; ``code`` says why (one of the ``TOKEN_*`` codes)."""

    code: ErrorCode = ErrorCode.TOKEN_MALFORMED

    def __init__(self, message: str, code: ErrorCode = ErrorCode.TOKEN_MALFORMED) -> None:
        if code not in _TOKEN_CODES:
            raise ValueError(f"TokenError needs a token error code, got {code!r}")
        super().__init__(message, code)

    @property
    def reason(self) -> str:
        """The code's wire value, e.g. ``"bad_signature"``, for logs and gate displays."""
        return self.code.value


# --- passenger hashes -------------------------------------------------------


def normalise_name(text: str) -> str:
    """NFKC, trimmed, upper-case: full-width and case variants hash alike."""
    return unicodedata.normalize("NFKC", text).strip().upper()


def normalise_id_number(text: str) -> str:
    """As :func:`normalise_name`, and without any whitespace (readers and clerks space digits)."""
    return "".join(normalise_name(text).split())


def passenger_hash(ticket_id: str, text: str, *, is_id_number: bool = False) -> bytes:
    """First 8 bytes of SHA-256 over the ticket id's bytes and the normalised text.

    The ticket id salts the hash so one precomputed table cannot unmask the
    holders of every ticket.
    """
    normalised = normalise_id_number(text) if is_id_number else normalise_name(text)
    salt = bytes.fromhex(check_ticket_id(ticket_id))
    # surrogatepass: a garbled reading must hash (and fail to match), not raise.
    return hashlib.sha256(salt + normalised.encode("utf-8", "surrogatepass")).digest()[:HASH_BYTES]


# --- claims -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TicketClaims:
    """What a token asserts about one ticket; ranges are checked at construction.

    ``not_before`` is floored and ``not_after`` ceiled to the whole minute (both
    converted to UTC), so the stored window never shrinks. ``coach`` and
    ``seat`` are both None for a standing ticket. ``train`` is kept in
    canonical form (``G01`` becomes ``G1``) because the token stores a number.
    ``encode_token`` writes the signing key's id, not ``key_id``;
    ``decode_token`` fills ``key_id`` from the token.
    """

    ticket_id: TicketId
    train: TrainNumber
    service_date: dt.date
    from_station: StationCode
    to_station: StationCode
    seat_class: SeatClass
    coach: int | None
    seat: int | None
    name_hash: bytes
    id_hash: bytes
    not_before: dt.datetime
    not_after: dt.datetime
    key_id: int = 0

    def __post_init__(self) -> None:
        check_ticket_id(self.ticket_id)
        prefix, number = split_train_number(self.train)
        object.__setattr__(self, "train", TrainNumber(f"{prefix}{number}"))
        _check_service_date(self.service_date)
        station_code(self.from_station)
        station_code(self.to_station)
        object.__setattr__(self, "seat_class", SeatClass(self.seat_class))
        _check_place(self.coach, self.seat)
        _check_hash("name_hash", self.name_hash)
        _check_hash("id_hash", self.id_hash)
        not_before = _floor_minute(_as_utc("not_before", self.not_before))
        not_after = _ceil_minute(_as_utc("not_after", self.not_after))
        _check_window(not_before, not_after)
        object.__setattr__(self, "not_before", not_before)
        object.__setattr__(self, "not_after", not_after)
        check_key_id(self.key_id)

    @classmethod
    def for_passenger(
        cls,
        *,
        ticket_id: str,
        train: str,
        service_date: dt.date,
        from_station: str,
        to_station: str,
        seat_class: SeatClass | str,
        coach: int | None,
        seat: int | None,
        name: str,
        id_number: str,
        not_before: dt.datetime,
        not_after: dt.datetime,
        key_id: int = 0,
    ) -> TicketClaims:
        """Claims for a named passenger; hashes ``name`` and ``id_number`` with the ticket id."""
        if not normalise_name(name):
            raise ValueError("name must not be empty")
        if not normalise_id_number(id_number):
            raise ValueError("id_number must not be empty")
        return cls(
            ticket_id=TicketId(ticket_id),
            train=TrainNumber(train),
            service_date=service_date,
            from_station=StationCode(from_station),
            to_station=StationCode(to_station),
            seat_class=SeatClass(seat_class),
            coach=coach,
            seat=seat,
            name_hash=passenger_hash(ticket_id, name),
            id_hash=passenger_hash(ticket_id, id_number, is_id_number=True),
            not_before=not_before,
            not_after=not_after,
            key_id=key_id,
        )

    @property
    def is_standing(self) -> bool:
        """True for a ticket without a seat (无座)."""
        return self.seat is None

    @property
    def window_minutes(self) -> int:
        """Length of the validity window in whole minutes."""
        return (self.not_after - self.not_before) // _ONE_MINUTE

    def holder_matches(self, id_number: str) -> bool:
        """True if ``id_number`` (spacing and case ignored) is the holder's; constant time."""
        candidate = passenger_hash(self.ticket_id, id_number, is_id_number=True)
        return hmac.compare_digest(candidate, self.id_hash)

    def name_matches(self, name: str) -> bool:
        """True if ``name`` (case and width ignored) is the holder's; constant time."""
        return hmac.compare_digest(passenger_hash(self.ticket_id, name), self.name_hash)


def _check_service_date(value: dt.date) -> None:
    """A plain date the token's day counter can hold."""
    # datetime is a date subclass, but a service date with a time is a caller's mistake.
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise ValueError(f"service_date must be a date, got {value!r}")
    if not DATE_EPOCH <= value <= MAX_SERVICE_DATE:
        raise ValueError(f"service_date must be in {DATE_EPOCH}..{MAX_SERVICE_DATE}, got {value}")


def _check_place(coach: int | None, seat: int | None) -> None:
    """Both None (standing) or coach 1..255 and seat 1..65535."""
    if coach is None and seat is None:
        return
    if coach is None or seat is None:
        raise ValueError("coach and seat must both be given, or both None for a standing ticket")
    _check_int_range("coach", coach, 1, MAX_COACH)
    _check_int_range("seat", seat, 1, MAX_SEAT)


def _check_int_range(label: str, value: int, low: int, high: int) -> None:
    """An int (not a bool) within ``low..high``."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{label} must be an integer {low}..{high}, got {value!r}")


def _check_hash(label: str, value: bytes) -> None:
    """Exactly the 8 bytes the token has room for."""
    if not isinstance(value, bytes) or len(value) != HASH_BYTES:
        raise ValueError(f"{label} must be {HASH_BYTES} bytes, got {value!r}")


def _as_utc(label: str, value: dt.datetime) -> dt.datetime:
    """A timezone-aware datetime, converted to UTC; naive times are refused, not guessed."""
    if not isinstance(value, dt.datetime) or value.utcoffset() is None:
        raise ValueError(f"{label} must be a timezone-aware datetime, got {value!r}")
    try:
        return value.astimezone(dt.UTC)
    except OverflowError:
        raise ValueError(f"{label} is out of range: {value}") from None


def _floor_minute(value: dt.datetime) -> dt.datetime:
    """``value`` with seconds and microseconds dropped."""
    return value.replace(second=0, microsecond=0)


def _ceil_minute(value: dt.datetime) -> dt.datetime:
    """``value`` rounded up to the next whole minute unless it is one already."""
    floor = _floor_minute(value)
    if floor == value:
        return floor
    try:
        return floor + _ONE_MINUTE
    except OverflowError:
        raise ValueError(f"not_after is too late: {value}") from None


def _check_window(not_before: dt.datetime, not_after: dt.datetime) -> None:
    """not_before from 1970 on; the window 0..65535 minutes long."""
    if not_before < TIME_EPOCH:
        raise ValueError(f"not_before must not be before {TIME_EPOCH}, got {not_before}")
    window = (not_after - not_before) // _ONE_MINUTE
    if not 0 <= window <= MAX_WINDOW_MINUTES:
        raise ValueError(
            f"not_after must be 0..{MAX_WINDOW_MINUTES} minutes after not_before, got {window}"
        )


# --- wire form ----------------------------------------------------------------


def encode_token(claims: TicketClaims, key: SigningKey) -> str:
    """Sign ``claims`` with ``key`` and return the base45 text for the QR code.

    The token carries ``key.key_id``; ``claims.key_id`` is not consulted.
    """
    body = _pack_body(claims, key.key_id)
    text: str = base45.b45encode(body + key.sign(body)).decode("ascii")
    return text


def decode_token(text: str, keys: KeyRing) -> TicketClaims:
    """Verify and parse a scanned token; raises :class:`TokenError` for any bad input."""
    raw = _unwrap(text)
    body, signature = raw[:BODY_BYTES], raw[BODY_BYTES:]
    key = keys.get(body[1])
    if key is None:
        raise TokenError(f"token signed by unknown key id {body[1]}", ErrorCode.TOKEN_UNKNOWN_KEY)
    if not key.is_valid_signature(signature, body):
        raise TokenError("token signature does not verify", ErrorCode.TOKEN_BAD_SIGNATURE)
    try:
        return _unpack_body(body)
    except (ValueError, OverflowError) as exc:
        # Only a signer bug gets here: the signature is good but a field is out of range.
        raise TokenError(f"signed token holds a bad field: {exc}") from None


def read_unverified(text: str) -> tuple[TicketClaims, bytes]:
    """Parse a token WITHOUT verifying its signature: its claims and its raw bytes.

    Only for a cache whose every use verifies the token again (a gate's
    ticket cache: a scan verifies what was scanned, a card tap the cached
    token before it admits). Raises :class:`TokenError` for a malformed token.
    """
    raw = _unwrap(text)
    try:
        return _unpack_body(raw[:BODY_BYTES]), raw
    except (ValueError, OverflowError) as exc:
        raise TokenError(f"token holds a bad field: {exc}") from None


def peek_key_id(text: str) -> int:
    """The key id a token claims to be signed with, without verifying it."""
    return _unwrap(text)[1]


def _unwrap(text: str) -> bytes:
    """Base45-decode ``text`` and check version and length; raises TokenError."""
    if not isinstance(text, str):
        raise TokenError(f"token must be text, got {type(text).__name__}")
    # Keyboard-wedge scanners end the code with Enter; CR and LF are not base45.
    text = text.strip("\r\n")
    if len(text) > MAX_INPUT_CHARS:
        raise TokenError(f"token is {len(text)} characters, far longer than any ticket")
    try:
        raw: bytes = base45.b45decode(text)
    except ValueError:
        raise TokenError("token is not valid base45 text") from None
    if not raw:
        raise TokenError("token is empty")
    if raw[0] != TOKEN_VERSION:
        raise TokenError(
            f"token version {raw[0]} is not supported", ErrorCode.TOKEN_UNSUPPORTED_VERSION
        )
    if len(raw) != TOKEN_BYTES:
        raise TokenError(f"token is {len(raw)} bytes, expected {TOKEN_BYTES}")
    return raw


def _pack_body(claims: TicketClaims, key_id: int) -> bytes:
    """The 45 signed bytes of ``claims`` under ``key_id``."""
    prefix, number = split_train_number(claims.train)
    return _BODY.pack(
        TOKEN_VERSION,
        key_id,
        bytes.fromhex(claims.ticket_id),
        ord(prefix) if prefix else 0,
        number,
        (claims.service_date - DATE_EPOCH).days,
        _station_to_wire(claims.from_station),
        _station_to_wire(claims.to_station),
        SEAT_CLASS_ORDER.index(claims.seat_class),
        claims.coach or 0,
        claims.seat or 0,
        claims.name_hash,
        claims.id_hash,
        (claims.not_before - TIME_EPOCH) // _ONE_MINUTE,
        claims.window_minutes,
    )


def _unpack_body(body: bytes) -> TicketClaims:
    """Claims from the 45 signed bytes; ValueError for a field out of range."""
    (_, key_id, tid, prefix, number, days, origin, destination, class_index, coach, seat,
     name_hash, id_hash, not_before_minutes, window) = _BODY.unpack(body)  # fmt: skip
    not_before = TIME_EPOCH + dt.timedelta(minutes=not_before_minutes)
    return TicketClaims(
        ticket_id=TicketId(tid.hex()),
        train=_train_from_wire(prefix, number),
        service_date=DATE_EPOCH + dt.timedelta(days=days),
        from_station=_station_from_wire(origin),
        to_station=_station_from_wire(destination),
        seat_class=_seat_class_from_wire(class_index),
        # 0 means standing; the constructor refuses a coach without a seat.
        coach=coach or None,
        seat=seat or None,
        name_hash=name_hash,
        id_hash=id_hash,
        not_before=not_before,
        not_after=not_before + dt.timedelta(minutes=window),
        key_id=key_id,
    )


def _station_to_wire(code: str) -> int:
    """A telecode as a base-26 number (``AAA`` = 0, ``ZZZ`` = 17575)."""
    value = 0
    for letter in code:
        value = value * _ALPHABET_SIZE + ord(letter) - ord("A")
    return value


def _station_from_wire(value: int) -> StationCode:
    """The telecode of a base-26 number; ValueError past ``ZZZ``."""
    if value >= _ALPHABET_SIZE**3:
        raise ValueError(f"station number {value} is past ZZZ")
    letters = []
    for _ in range(3):
        value, digit = divmod(value, _ALPHABET_SIZE)
        letters.append(chr(ord("A") + digit))
    return StationCode("".join(reversed(letters)))


def _train_from_wire(prefix: int, number: int) -> TrainNumber:
    """The train number from its prefix byte (0 or a capital letter) and number."""
    if prefix and not ord("A") <= prefix <= ord("Z"):
        raise ValueError(f"train prefix byte {prefix} is not a capital letter")
    return TrainNumber(f"{chr(prefix) if prefix else ''}{number}")


def _seat_class_from_wire(index: int) -> SeatClass:
    """The seat class at ``index`` of ``SEAT_CLASS_ORDER``."""
    if index >= len(SEAT_CLASS_ORDER):
        raise ValueError(f"seat class index {index} is unknown")
    return SEAT_CLASS_ORDER[index]
