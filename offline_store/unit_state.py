"""The unit's small durable facts: its enrolment, its mode, its sync cursors, its counters.

The enrolment is one row (device id, kind, station, central's URL, the bearer
credential, when it was enrolled), replaced whole on re-enrolment; the
credential is why the store file is created with mode 0600, and it never
appears in a repr. The mode (in service, flow control, out of service,
emergency open) survives restarts. Sync cursors are named integers or texts
(the station feed's event id, ...); set one inside the same
:func:`~offline_store.connection.write_transaction` as the page it covers, so
a crash mid-page re-fetches the page and applies nothing twice. Facts are
small named values (counters, last-sync times) for health and reports.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

from offline_store.columns import check_code, from_millis, to_millis
from offline_store.connection import StoreConnection, query_one, write_transaction
from offline_store.passages import UnitMode
from protocol.ids import StationCode, station_code

Scalar = int | float | str
CursorValue = int | str
_MAX_TEXT = 2048


@dataclass(frozen=True, slots=True)
class DeviceIdentity:
    """Who this unit is to central, and how it proves it."""

    device_id: str
    kind: str  # gate, tvm
    station: StationCode
    central_url: str
    credential: str = field(repr=False)  # the bearer token: a secret
    enrolled_at: dt.datetime

    def __post_init__(self) -> None:
        for label in ("device_id", "central_url", "credential"):
            _check_text(label, getattr(self, label))
        check_code("kind", self.kind)
        station_code(self.station)
        object.__setattr__(self, "enrolled_at", from_millis(to_millis("at", self.enrolled_at)))


class Enrolment:
    """The stored device identity, on one connection."""

    def __init__(self, conn: StoreConnection) -> None:
        self._conn = conn

    def replace(self, identity: DeviceIdentity) -> None:
        """Make ``identity`` the unit's identity (first enrolment or re-enrolment)."""
        if not isinstance(identity, DeviceIdentity):
            raise ValueError(f"expected a DeviceIdentity, got {type(identity).__name__}")
        row = (
            identity.device_id, identity.kind, identity.station, identity.central_url,
            identity.credential, to_millis("enrolled_at", identity.enrolled_at),
        )  # fmt: skip
        with write_transaction(self._conn) as conn:
            conn.execute(
                "INSERT OR REPLACE INTO device_identity (slot, device_id, kind, station,"
                " central_url, credential, enrolled_at_ms) VALUES (1, ?, ?, ?, ?, ?, ?)",
                row,
            )

    def current(self) -> DeviceIdentity | None:
        """The unit's identity, or None before it is enrolled."""
        sql = (
            "SELECT device_id, kind, station, central_url, credential, enrolled_at_ms"
            " FROM device_identity"
        )
        return query_one(self._conn, sql, (), _identity)


class UnitState:
    """The unit's mode and its small named facts, on one connection."""

    def __init__(self, conn: StoreConnection) -> None:
        self._conn = conn

    def mode(self) -> UnitMode | None:
        """The mode last set, or None on a new store (the unit picks its starting mode)."""
        return query_one(self._conn, "SELECT mode FROM unit_mode", (), lambda row: UnitMode(row[0]))

    def set_mode(self, mode: UnitMode, at: dt.datetime) -> None:
        """Record ``mode``, effective from ``at``."""
        row = (UnitMode(mode).value, to_millis("at", at))
        with write_transaction(self._conn) as conn:
            conn.execute(
                "INSERT OR REPLACE INTO unit_mode (slot, mode, changed_at_ms) VALUES (1, ?, ?)", row
            )

    def fact(self, key: str) -> Scalar | None:
        """The value of fact ``key``, or None if never set."""
        sql = "SELECT value FROM unit_facts WHERE key = ?"
        return query_one(self._conn, sql, (check_code("key", key),), _scalar)

    def set_fact(self, key: str, value: Scalar) -> None:
        """Set fact ``key`` to an int, float or short text."""
        row = (check_code("key", key), _check_scalar(value))
        with write_transaction(self._conn) as conn:
            conn.execute("INSERT OR REPLACE INTO unit_facts (key, value) VALUES (?, ?)", row)

    def increment(self, key: str, by: int = 1) -> int:
        """Add ``by`` to the integer fact ``key`` (0 if unset); returns the new value."""
        if isinstance(by, bool) or not isinstance(by, int):
            raise ValueError(f"by must be an integer, got {by!r}")
        with write_transaction(self._conn) as conn:
            row = conn.execute(
                "INSERT INTO unit_facts (key, value) VALUES (?, ?) ON CONFLICT (key)"
                " DO UPDATE SET value = value + excluded.value"
                " WHERE typeof(unit_facts.value) = 'integer' RETURNING value",
                (check_code("key", key), by),
            ).fetchone()
        if row is None:
            raise ValueError(f"fact {key} does not hold an integer")
        return int(row[0])


class SyncCursors:
    """Named sync positions, on one connection."""

    def __init__(self, conn: StoreConnection) -> None:
        self._conn = conn

    def get(self, name: str) -> CursorValue | None:
        """The cursor ``name``, or None if never set."""
        sql = "SELECT value FROM sync_cursors WHERE name = ?"
        return query_one(self._conn, sql, (check_code("name", name),), _cursor_value)

    def get_int(self, name: str, default: int = 0) -> int:
        """The integer cursor ``name``, or ``default`` if never set."""
        value = self.get(name)
        if value is None:
            return default
        if not isinstance(value, int):
            raise ValueError(f"cursor {name} holds text, not an integer")
        return value

    def set(self, name: str, value: CursorValue) -> None:
        """Set the cursor; inside the page's transaction it commits with the page."""
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise ValueError(f"a cursor is an integer or a text, got {value!r}")
        row = (check_code("name", name), _check_scalar(value))
        with write_transaction(self._conn) as conn:
            conn.execute("INSERT OR REPLACE INTO sync_cursors (name, value) VALUES (?, ?)", row)


def _identity(row: tuple[str, str, str, str, str, int]) -> DeviceIdentity:
    """A DeviceIdentity from its row."""
    device_id, kind, station, url, credential, enrolled_ms = row
    return DeviceIdentity(
        device_id, kind, StationCode(station), url, credential, from_millis(enrolled_ms)
    )


def _scalar(row: tuple[Scalar]) -> Scalar:
    """A fact's value, checked as it was when set."""
    return _check_scalar(row[0])


def _cursor_value(row: tuple[CursorValue]) -> CursorValue:
    """A cursor's value: an integer or a text."""
    if isinstance(row[0], bool) or not isinstance(row[0], int | str):
        raise ValueError(f"a cursor holds {row[0]!r}")
    return row[0]


def _check_text(label: str, value: str) -> None:
    """A non-empty text of at most 2048 characters."""
    if not isinstance(value, str) or not 1 <= len(value) <= _MAX_TEXT:
        raise ValueError(f"{label} must be a text of 1..{_MAX_TEXT} characters")


def _check_scalar(value: Scalar) -> Scalar:
    """An int, a float or a short text (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"expected an integer, a number or a text, got {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"a number value must be finite, got {value!r}")
    if isinstance(value, str) and len(value) > _MAX_TEXT:
        raise ValueError(f"a text value may hold at most {_MAX_TEXT} characters")
    return value
