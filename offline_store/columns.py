"""How Python values become column values and back: ticket ids, instants, dates, JSON.

The ticket cache must hold ten million rows on an SD card, so its columns are
compact: a ticket id (16 hex digits on the wire, 8 bytes in the token) is
stored as the signed 64-bit integer SQLite keeps as the row id; instants are
whole seconds (ticket times) or milliseconds (the journal) since 1970-01-01
UTC; a service date is the token's day number (days since 2000-01-01). Naive
datetimes are refused, never guessed. The ``*_readable`` views of the schema
show these columns in human form for a technician at the ``sqlite3`` prompt.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from typing import cast

from protocol.ids import TicketId
from protocol.ids import ticket_id as check_ticket_id
from protocol.token import DATE_EPOCH, TIME_EPOCH

_UNSIGNED_64 = 1 << 64
_SIGNED_64_LIMIT = 1 << 63
_ONE_SECOND = dt.timedelta(seconds=1)
_ONE_MILLISECOND = dt.timedelta(milliseconds=1)
_CODE_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


def ticket_key(ticket_id: str) -> int:
    """The integer key of a ticket id (``"ffff..."`` is -1): SQLite's 64-bit row id."""
    value = int(check_ticket_id(ticket_id), 16)
    return value - _UNSIGNED_64 if value >= _SIGNED_64_LIMIT else value


def ticket_id_of(key: int) -> TicketId:
    """The ticket id (16 lower-case hex digits) of an integer key."""
    return TicketId(f"{key % _UNSIGNED_64:016x}")


def as_utc(label: str, value: dt.datetime) -> dt.datetime:
    """``value`` in UTC; ValueError for a naive datetime or anything else."""
    if not isinstance(value, dt.datetime) or value.utcoffset() is None:
        raise ValueError(f"{label} must be a timezone-aware datetime, got {value!r}")
    return value.astimezone(dt.UTC)


def to_seconds(label: str, value: dt.datetime) -> int:
    """Whole seconds since 1970-01-01 UTC, floored."""
    return (as_utc(label, value) - TIME_EPOCH) // _ONE_SECOND


def from_seconds(seconds: int) -> dt.datetime:
    """The UTC instant ``seconds`` after 1970-01-01."""
    return TIME_EPOCH + dt.timedelta(seconds=seconds)


def to_millis(label: str, value: dt.datetime) -> int:
    """Whole milliseconds since 1970-01-01 UTC, floored."""
    return (as_utc(label, value) - TIME_EPOCH) // _ONE_MILLISECOND


def from_millis(millis: int) -> dt.datetime:
    """The UTC instant ``millis`` milliseconds after 1970-01-01."""
    return TIME_EPOCH + dt.timedelta(milliseconds=millis)


def optional_millis(label: str, value: dt.datetime | None) -> int | None:
    """:func:`to_millis`, passing None through."""
    return None if value is None else to_millis(label, value)


def optional_from_millis(millis: int | None) -> dt.datetime | None:
    """:func:`from_millis`, passing None through."""
    return None if millis is None else from_millis(millis)


def to_day(label: str, value: dt.date) -> int:
    """Days since 2000-01-01, the token's service-date counter."""
    # datetime is a date subclass, but a date with a time is a caller's mistake
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise ValueError(f"{label} must be a date, got {value!r}")
    return (value - DATE_EPOCH).days


def from_day(day: int) -> dt.date:
    """The date ``day`` days after 2000-01-01."""
    return DATE_EPOCH + dt.timedelta(days=day)


def check_limit(value: int) -> int:
    """A page or batch size: a positive integer (SQLite reads a negative LIMIT as none)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"limit must be a positive integer, got {value!r}")
    return value


def check_code(label: str, value: str) -> str:
    """A short snake_case code (reason codes, revocation reasons, fact keys)."""
    if not isinstance(value, str) or not _CODE_RE.match(value):
        raise ValueError(f"{label} must be a snake_case code of 1-64 characters, got {value!r}")
    return value


def to_json(label: str, value: Mapping[str, object], limit: int) -> str:
    """Compact JSON text of a mapping, at most ``limit`` bytes; ValueError otherwise."""
    if not isinstance(value, Mapping):
        raise ValueError(f"{label} must be a mapping, got {type(value).__name__}")
    try:
        text = json.dumps(dict(value), separators=(",", ":"), sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{label} must be plain JSON data: {exc}") from None
    if len(text.encode()) > limit:
        raise ValueError(f"{label} is {len(text.encode())} bytes of JSON, more than {limit}")
    return text


def from_json(text: str | None) -> dict[str, object] | None:
    """The mapping a JSON column holds, None for NULL."""
    # only to_json writes these columns, and it writes objects
    return None if text is None else cast(dict[str, object], json.loads(text))
