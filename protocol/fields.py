"""Field types, bounds and base models shared by every API message.

Every rule a field has is stated where JSON Schema can state it (a pattern,
a length, a range, an enum), and the same constraint is what pydantic
enforces, so ``/openapi.json`` refuses exactly what the server refuses. Money
is integer fen, dates are ``YYYY-MM-DD`` text, times ISO 8601 text with an
offset, and every figure is bounded so the store's columns and the ticket
token can hold it. Text is one line: no control characters anywhere.
Requests forbid unknown keys (a misspelt field is an error, not a silent
default); responses ignore them, so a unit keeps working against a newer
central. Rules between fields that JSON Schema cannot state are raised as
``inconsistent`` errors and listed in each model's description.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WithJsonSchema,
    WrapValidator,
)
from pydantic_core import PydanticCustomError
from typing_extensions import TypeAliasType

from protocol.ids import (
    ORDER_ID_PATTERN,
    STATION_PATTERN,
    TICKET_ID_PATTERN,
    TRAIN_PATTERN,
    OrderId,
    StationCode,
    TicketId,
    TrainNumber,
)

MAX_STOPS = 62  # the inventory keeps one bit per segment in a 61-bit mask
MAX_PASSENGERS = 5
MAX_KM = 20_000  # longer than any railway route
MAX_FARE_FEN_PER_KM = 10_000
MAX_PLACES = 10_000  # standing places of one class
EARLIEST_YEAR = 2000
LATEST_YEAR = 2178  # the ticket token counts service days from 2000 up to 2179-06-06
MAX_VISIBLE_CARD_DIGITS = 10  # first six and last four, as card schemes allow
SHOWN_CHARACTERS = 40  # a refusal quotes at most this much of a bad value
MAX_WHOLE = 2**53 - 1  # the largest integer every JSON reader (a JavaScript number) holds exactly
MAX_INT32 = 2**31 - 1  # the store's integer columns (PostgreSQL integer) hold no more
MAX_FEED_CURSOR = MAX_INT32  # feed cursors are event ids, 32-bit in the store

# ---------------------------------------------------------------- patterns (one source)

QUOTA_ID_PATTERN = r"^[A-Za-z0-9_-]{1,32}$"
ID_NUMBER_PATTERN = r"^[0-9A-Za-z]{4,32}$"
DEVICE_ID_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"
GATE_GROUP_PATTERN = r"^[A-Za-z0-9_-]{1,16}$"
# digits, '*' and spaces with at most ten digits; at least one '*' is stated apart (NOT_MASKED)
MASKED_CARD_PATTERN = rf"^[* ]*(?:[0-9][* ]*){{0,{MAX_VISIBLE_CARD_DIGITS}}}$"
NOT_MASKED_PATTERN = r"^[0-9 ]*$"
# Control characters: C0 (tab, newline and NUL included), DEL and C1. Every text is one line.
CONTROLS = r"\x00-\x1f\x7f-\x9f"
# What free text may begin or end with and is trimmed of (Unicode's spaces that are not controls)
SPACES = r" \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
SPACE_CHARACTERS = (
    " \u00a0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + ("\u2028\u2029\u202f\u205f\u3000")
)
TEXT_PATTERN = rf"^[^{CONTROLS}]*[^{CONTROLS}{SPACES}][^{CONTROLS}]*$"
_YEAR = r"(?:20[0-9]{2}|21[0-6][0-9]|217[0-8])"  # EARLIEST_YEAR to LATEST_YEAR
_DAY = r"(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"
_CLOCK = r"(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]{1,6})?"  # seconds required
_OFFSET = r"(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])"
DATE_PATTERN = rf"^{_YEAR}-{_DAY}$"
TIME_PATTERN = rf"^{_YEAR}-{_DAY}T{_CLOCK}{_OFFSET}$"
IDEMPOTENCY_KEY_PATTERN = r"^[\x21-\x7e]{1,128}$"  # printable ASCII, no spaces


def shown(value: object) -> str:
    """A bad value as a refusal quotes it: its repr, cut to SHOWN_CHARACTERS with an ellipsis."""
    text = value if isinstance(value, str) else repr(value)
    if len(text) > SHOWN_CHARACTERS:
        return repr(text[:SHOWN_CHARACTERS]) + "…"
    return repr(text)


def matches(pattern: str, text: str) -> bool:
    """True when the whole text matches one of the patterns above (as JSON Schema reads it)."""
    return re.fullmatch(pattern, text) is not None


# ---------------------------------------------------------------- refusals that say what is wrong

Explain = Callable[[str], str]


def explained(explain: Explain) -> WrapValidator:
    """Replace pydantic's words for a text that breaks its constraints with ``explain(text)``.

    A value that is not text at all keeps pydantic's own message.
    """

    def validate(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        try:
            return handler(value)
        except ValidationError:
            if not isinstance(value, str):
                raise
            raise ValueError(explain(value)) from None

    return WrapValidator(validate)


def quoting(rule: str) -> Explain:
    """The rule and the bad value, cut short."""
    return lambda text: f"{rule}, got {shown(text)}"


def counting(rule: str) -> Explain:
    """The rule and only the length of the value: for personal data, never echoed."""
    return lambda text: f"{rule}, got {len(text)} characters"


def text_problem(what: str, longest: int) -> Explain:
    """What is wrong with a free text, by position, without echoing it."""

    def explain(text: str) -> str:
        control = re.search(f"[{CONTROLS}]", text)
        if control is not None:
            code = ord(control.group())
            return f"{what} must not contain control characters; U+{code:04X} at {control.start()}"
        if len(text) > longest:
            return f"{what} must be at most {longest} characters, got {len(text)}"
        return f"{what} must not be blank"

    return explain


def masked_card_problem(text: str) -> str:
    """Why a masked card number is refused; the number itself is never echoed."""
    digits = sum(ch in "0123456789" for ch in text)
    if digits > MAX_VISIBLE_CARD_DIGITS:
        return (
            f"card_masked shows {digits} digits; at most {MAX_VISIBLE_CARD_DIGITS} may be "
            "visible (e.g. 622848******1234), never send a full card number"
        )
    return "card_masked must be digits with '*' masking, e.g. 622848******1234 (4-32 characters)"


def masked_card(text: str) -> str:
    """Validate a masked card number such as ``622848******1234``; refuse anything like a PAN.

    The rule of ``MaskedCard``, for code that holds a plain string (a POS driver's report).
    """
    fits = 4 <= len(text) <= 32 and matches(MASKED_CARD_PATTERN, text)
    if not fits or matches(NOT_MASKED_PATTERN, text):
        raise ValueError(masked_card_problem(text))
    return text


def _has_mask(text: str) -> str:
    if matches(NOT_MASKED_PATTERN, text):
        raise ValueError("no '*'")
    return text


def _trimmed(text: str) -> str:
    return text.strip(SPACE_CHARACTERS)


def _whole_number(value: Any) -> Any:
    """JSON has one kind of number: 12.0 is the integer 12, as JSON Schema reads it; 12.5 is not."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# ---------------------------------------------------------------- dates and times as text


def _date_text(value: Any) -> Any:
    """Only ``YYYY-MM-DD`` text (or a date object from Python code): never a number."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str) and matches(DATE_PATTERN, value):
        return value
    raise ValueError(
        f"date must be written YYYY-MM-DD in the years {EARLIEST_YEAR}-{LATEST_YEAR}, "
        f"got {shown(value)}"
    )


def _time_text(value: Any) -> Any:
    """Only ISO 8601 text with seconds and an offset (or an aware datetime from Python code)."""
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, str) and matches(TIME_PATTERN, value):
        return value
    if isinstance(value, str) and matches(TIME_PATTERN, value + "Z"):
        problem = "datetime must carry a timezone offset"
    else:
        years = f"{EARLIEST_YEAR}-{LATEST_YEAR}"
        problem = f"datetime must be ISO 8601 with seconds and an offset, in the years {years}"
    raise ValueError(f"{problem}, e.g. 2026-12-01T08:00:00+08:00, got {shown(value)}")


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


# ---------------------------------------------------------------- the field types


def pattern_text(pattern: str) -> StringConstraints:
    """A text constraint JSON Schema states as ``pattern``."""
    return StringConstraints(pattern=pattern)


# An integer: "12" and true are mistakes, not twelve; 12.0 is twelve, as JSON Schema reads it.
WHOLE = BeforeValidator(_whole_number)
# Free text: trimmed of spaces once it has passed its constraints.
TRIMMED = AfterValidator(_trimmed)


def whole(lowest: int, highest: int = MAX_WHOLE) -> Any:
    """The bounds of an integer (with ``WHOLE``): strict, in [lowest, highest]."""
    return Field(strict=True, ge=lowest, le=highest)


def one_line(longest: int) -> StringConstraints:
    """One line of 1-``longest`` characters, not blank, no control characters."""
    return StringConstraints(min_length=1, max_length=longest, pattern=TEXT_PATTERN)


Station = Annotated[
    StationCode,
    pattern_text(STATION_PATTERN),
    explained(quoting("station code must be three capital letters")),
]
Train = Annotated[
    TrainNumber,
    pattern_text(TRAIN_PATTERN),
    explained(quoting("train number must be a capital letter or none, then a number up to 65535")),
]
TicketRef = Annotated[
    TicketId,
    pattern_text(TICKET_ID_PATTERN),
    explained(quoting("ticket id must be 16 lower-case hex digits")),
]
OrderRef = Annotated[
    OrderId,
    pattern_text(ORDER_ID_PATTERN),
    explained(quoting("order id must be 24 lower-case hex digits")),
]
QuotaId = Annotated[
    str,
    pattern_text(QUOTA_ID_PATTERN),
    explained(quoting("quota id must be 1-32 letters, digits, '_' or '-'")),
]
DeviceId = Annotated[
    str,
    pattern_text(DEVICE_ID_PATTERN),
    explained(quoting("device id must be 1-64 letters, digits, '_', '.' or '-'")),
]
GateGroup = Annotated[
    str,
    pattern_text(GATE_GROUP_PATTERN),
    explained(quoting("gate group must be 1-16 letters, digits, '_' or '-'")),
]
# upper-cased, so ``...123x`` and ``...123X`` are one ID; the number is never echoed
IdNumber = Annotated[
    str,
    pattern_text(ID_NUMBER_PATTERN),
    explained(counting("id_number must be 4-32 letters and digits")),
    AfterValidator(str.upper),
]
MaskedCard = Annotated[
    str,
    StringConstraints(min_length=4, max_length=32, pattern=MASKED_CARD_PATTERN),
    AfterValidator(_has_mask),
    explained(masked_card_problem),
    WithJsonSchema(
        {
            "type": "string",
            "minLength": 4,
            "maxLength": 32,
            "pattern": MASKED_CARD_PATTERN,
            "not": {"pattern": NOT_MASKED_PATTERN},
            "description": "Digits, '*' and spaces, at most 10 digits and at least one '*'.",
        }
    ),
]
Name = Annotated[str, one_line(40), explained(text_problem("name", 40)), TRIMMED]
Reason = Annotated[str, one_line(200), explained(text_problem("reason", 200)), TRIMMED]
Reference = Annotated[str, one_line(64), explained(text_problem("reference", 64)), TRIMMED]
ServiceDate = Annotated[
    dt.date,
    BeforeValidator(_date_text),
    AfterValidator(service_date),
    WithJsonSchema({"type": "string", "format": "date", "pattern": DATE_PATTERN}),
]
Timestamp = Annotated[
    dt.datetime,
    BeforeValidator(_time_text),
    AfterValidator(aware),
    WithJsonSchema({"type": "string", "format": "date-time", "pattern": TIME_PATTERN}),
]
# Bounds keep every figure inside the store's integer columns, the token and a JSON number.
FenAmount = Annotated[int, whole(0), WHOLE]
FenDelta = Annotated[int, whole(-MAX_WHOLE), WHOLE]
Count = Annotated[int, whole(0), WHOLE]
PositiveCount = Annotated[int, whole(1), WHOLE]
Km = Annotated[int, whole(0, MAX_KM), WHOLE]
FarePerKm = Annotated[int, whole(1, MAX_FARE_FEN_PER_KM), WHOLE]
Places = Annotated[int, whole(0, MAX_PLACES), WHOLE]
# Free-form JSON a unit reports (a passage's detail): kept as JSON text, so any string goes;
# numbers are finite, and integers past 2^53-1 are taken as floats (the store's JSON holds them).
JsonDetail = TypeAliasType(
    "JsonDetail",
    "Annotated[int, whole(-MAX_WHOLE), WHOLE] | Annotated[float, Field(allow_inf_nan=False)]"
    " | str | bool | list[JsonDetail] | dict[str, JsonDetail] | None",
)

QuotaPurpose = Literal["origin", "station", "common"]
QuotaShareMode = Literal["none", "route", "group", "stations"]
StandingPolicy = Literal["when_sold_out", "never"]
Channel = Literal["window", "tvm", "agent", "phone", "internet", "sms"]
DeviceKind = Literal["tvm", "gate", "window", "agent", "phone", "internet", "sms"]
PaymentMethod = Literal["card", "cash", "mobile"]
OrderStatus = Literal["held", "issued", "cancelled", "expired"]

# channels sold at a place, whose station decides quotas and remote-station tickets
STATION_CHANNELS: frozenset[str] = frozenset({"window", "tvm", "agent"})


# ---------------------------------------------------------------- conditional fields, stated

JsonSchema = dict[str, Any]


def when(field: str, values: Iterable[str], then: JsonSchema, otherwise: JsonSchema) -> JsonSchema:
    """JSON Schema ``if``/``then``/``else``: ``then`` holds when ``field`` is one of ``values``."""
    condition = {"properties": {field: {"enum": sorted(values)}}, "required": [field]}
    return {"if": condition, "then": then, "else": otherwise}


def present(field: str) -> JsonSchema:
    """The field must be given, and not null."""
    return {"required": [field], "properties": {field: {"not": {"type": "null"}}}}


def absent(field: str) -> JsonSchema:
    """The field must be left out (or null)."""
    return {"properties": {field: {"type": "null"}}}


def all_of(*rules: JsonSchema) -> ConfigDict:
    """A model configuration stating ``rules`` in its JSON schema."""
    return ConfigDict(json_schema_extra={"allOf": list(rules)})


# ---------------------------------------------------------------- base models


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


def raise_problems(problems: Sequence[str]) -> None:
    """Report every broken rule the schema states at once."""
    if problems:
        raise ValueError("; ".join(problems))


INCONSISTENT = "inconsistent"  # the error type of rules between values JSON Schema cannot state


def raise_inconsistencies(problems: Sequence[str]) -> None:
    """Report every broken rule between values at once, so an operator fixes all in one pass.

    These are the rules JSON Schema cannot state (two fields that must differ,
    distances that must rise, ...); their error type is ``inconsistent``.
    """
    if problems:
        raise PydanticCustomError(INCONSISTENT, "{problems}", {"problems": "; ".join(problems)})
