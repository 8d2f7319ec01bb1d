"""Field types, bounds and base models shared by every API message.

Money is integer fen, times carry a timezone offset, and every figure is
bounded so the store's columns and the ticket token can hold it. Requests
forbid unknown keys (a misspelt field is an error, not a silent default);
responses ignore them, so a unit keeps working against a newer central.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Hashable, Iterable, Iterator
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
)

from protocol.ids import (
    STATION_CODE_RE,
    TRAIN_NUMBER_RE,
    StationCode,
    TicketId,
    TrainNumber,
    station_code,
    ticket_id,
    train_number,
)

STATION_PATTERN = STATION_CODE_RE.pattern  # for schemas: the one source is protocol.ids
TRAIN_PATTERN = TRAIN_NUMBER_RE.pattern
MAX_STOPS = 62  # the inventory keeps one bit per segment in a 61-bit mask
MAX_PASSENGERS = 5
MAX_KM = 20_000  # longer than any railway route
MAX_FARE_FEN_PER_KM = 10_000
MAX_PLACES = 10_000  # standing places of one class
EARLIEST_YEAR = 2000
LATEST_YEAR = 2178  # the ticket token counts service days from 2000 up to 2179-06-06
QUOTA_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
ID_NUMBER_RE = re.compile(r"^[0-9A-Z]{4,32}$")
MAX_VISIBLE_CARD_DIGITS = 10  # first six and last four, as card schemes allow
MASKED_CARD_RE = re.compile(r"^[0-9* ]{4,32}$")


def quota_id(text: str) -> str:
    """Validate a quota id: 1-32 letters, digits, ``_`` or ``-``."""
    if not QUOTA_ID_RE.match(text):
        raise ValueError(f"quota id must be 1-32 letters, digits, '_' or '-', got {text!r}")
    return text


def aware(value: dt.datetime) -> dt.datetime:
    """Reject a naive datetime: a time without an offset means nothing across units."""
    if value.utcoffset() is None:
        raise ValueError(
            "datetime must carry a timezone offset, e.g. 2026-12-01T08:00:00+08:00, "
            f"got {value.isoformat()}"
        )
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValueError(f"time must lie in the years {EARLIEST_YEAR}-{LATEST_YEAR}")
    return value


def service_date(value: dt.date) -> dt.date:
    """A service date the ticket token can carry."""
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValueError(f"service date must lie in the years {EARLIEST_YEAR}-{LATEST_YEAR}")
    return value


def id_number(text: str) -> str:
    """Validate a passenger ID number, upper-cased so ``...123x`` and ``...123X`` are one ID."""
    upper = text.strip().upper()
    if not ID_NUMBER_RE.match(upper):
        # the number itself stays out of the message: it is personal data
        raise ValueError(f"id_number must be 4-32 letters and digits, got {len(text)} characters")
    return upper


def masked_card(text: str) -> str:
    """Validate a masked card number such as ``622848******1234``; refuse anything like a PAN."""
    digits = sum(ch.isdigit() for ch in text)
    if digits > MAX_VISIBLE_CARD_DIGITS:
        # never echo it: it may be a full card number
        raise ValueError(
            f"card_masked shows {digits} digits; at most {MAX_VISIBLE_CARD_DIGITS} may be "
            "visible (e.g. 622848******1234), never send a full card number"
        )
    if not MASKED_CARD_RE.match(text) or "*" not in text:
        raise ValueError("card_masked must be digits with '*' masking, e.g. 622848******1234")
    return text


Station = Annotated[StationCode, AfterValidator(station_code)]
Train = Annotated[TrainNumber, AfterValidator(train_number)]
TicketRef = Annotated[TicketId, AfterValidator(ticket_id)]
QuotaId = Annotated[str, AfterValidator(quota_id)]
Timestamp = Annotated[dt.datetime, AfterValidator(aware)]
# integers are strict: 12.0, "12" or true are mistakes, not twelve
FenAmount = Annotated[int, Field(strict=True, ge=0)]
FenDelta = Annotated[int, Field(strict=True)]
Count = Annotated[int, Field(strict=True, ge=0)]
PositiveCount = Annotated[int, Field(strict=True, ge=1)]
# Upper bounds keep every figure inside the store's integer columns and the token.
Km = Annotated[int, Field(strict=True, ge=0, le=MAX_KM)]
FarePerKm = Annotated[int, Field(strict=True, ge=1, le=MAX_FARE_FEN_PER_KM)]
Places = Annotated[int, Field(strict=True, ge=0, le=MAX_PLACES)]
ServiceDate = Annotated[dt.date, AfterValidator(service_date)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Reference = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
IdNumber = Annotated[str, AfterValidator(id_number)]
MaskedCard = Annotated[str, AfterValidator(masked_card)]

QuotaPurpose = Literal["origin", "station", "common"]
QuotaShareMode = Literal["none", "route", "group", "stations"]
StandingPolicy = Literal["when_sold_out", "never"]
Channel = Literal["window", "tvm", "agent", "phone", "internet", "sms"]
DeviceKind = Literal["tvm", "gate", "window", "agent", "phone", "internet", "sms"]
PaymentMethod = Literal["card", "cash", "mobile"]
OrderStatus = Literal["held", "issued", "cancelled", "expired"]

# channels sold at a place, whose station decides quotas and remote-station tickets
STATION_CHANNELS: frozenset[str] = frozenset({"window", "tvm", "agent"})


class RequestModel(BaseModel):
    """Base of every request body: unknown keys are errors."""

    model_config = ConfigDict(
        extra="forbid",
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
    )


class ResponseModel(BaseModel):
    """Base of every response body: unknown keys are ignored so old units read new answers."""

    model_config = ConfigDict(
        extra="ignore",
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
    )


def repeats(keys: Iterable[Hashable]) -> Iterator[tuple[int, int]]:
    """Pairs (index, index of the first occurrence) for every key seen before."""
    first: dict[Hashable, int] = {}
    for index, key in enumerate(keys):
        if key in first:
            yield index, first[key]
        first.setdefault(key, index)


def raise_problems(problems: list[str]) -> None:
    """Report every problem at once, so an operator fixes a timetable in one pass."""
    if problems:
        raise ValueError("; ".join(problems))
