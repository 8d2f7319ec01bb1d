"""What a passage is: the journal's records and the words they use.

A passage is one decision at the gate, journaled before the gate acts on it:
``admitted`` (the relay opens for a ticket), ``refused`` (journaled too, so
problem tickets are reported, never dropped), ``emergency`` (free passage, no
ticket) or ``annulled`` (cancels an admitted passage whose passenger never
went through, so the ticket may be used again). :class:`NewPassage` is what
the runtime appends; :class:`Passage` is a journaled row with its sequence
number and upload state. The passage id is a UUID made by the caller or,
by default, here: central deduplicates uploads by it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from offline_store.columns import check_code, from_millis, to_json, to_millis
from protocol.ids import TicketId
from protocol.ids import ticket_id as check_ticket_id

MAX_DETAIL_BYTES = 1024
MAX_ANSWER_BYTES = 4096


class Direction(StrEnum):
    """Which way the passenger goes through the gate."""

    ENTRY = "entry"
    EXIT = "exit"


class PassageKind(StrEnum):
    """What the gate decided."""

    ADMITTED = "admitted"
    ANNULLED = "annulled"
    EMERGENCY = "emergency"
    REFUSED = "refused"


class UnitMode(StrEnum):
    """The unit's service mode, kept across restarts."""

    IN_SERVICE = "in_service"
    FLOW_CONTROL = "flow_control"
    OUT_OF_SERVICE = "out_of_service"
    EMERGENCY_OPEN = "emergency_open"


class UploadState(StrEnum):
    """Whether central has acknowledged a journaled row."""

    PENDING = "pending"
    UPLOADED = "uploaded"


def new_passage_id() -> str:
    """A fresh random UUID in canonical text form."""
    return str(uuid.uuid4())


def check_passage_id(value: str) -> str:
    """A UUID in canonical text form (lower case, hyphenated), as central expects it."""
    try:
        canonical = str(uuid.UUID(value))
    except (AttributeError, TypeError, ValueError):
        canonical = None
    if canonical != value:
        raise ValueError(f"passage id must be a UUID in canonical form, got {value!r}")
    return value


def _whole_millis(label: str, value: dt.datetime) -> dt.datetime:
    """``value`` in UTC, floored to the millisecond as the journal keeps it."""
    return from_millis(to_millis(label, value))


@dataclass(frozen=True, slots=True)
class NewPassage:
    """A passage to journal; checked at construction.

    ``ticket_id`` is None when there is no ticket (emergency open, an
    unreadable token). Times are timezone-aware, kept in UTC and floored to
    the millisecond, as stored; ``central_time`` is the same instant on
    central's clock, when the unit knows its offset. ``detail`` is a small
    JSON object (at most 1 KiB): never an ID or card number.
    """

    direction: Direction
    kind: PassageKind
    reason: str
    unit_time: dt.datetime
    mode: UnitMode
    ticket_id: TicketId | None = None
    central_time: dt.datetime | None = None
    detail: Mapping[str, object] = field(default_factory=dict)
    passage_id: str = field(default_factory=new_passage_id)

    def __post_init__(self) -> None:
        object.__setattr__(self, "direction", Direction(self.direction))
        object.__setattr__(self, "kind", PassageKind(self.kind))
        object.__setattr__(self, "mode", UnitMode(self.mode))
        check_code("reason", self.reason)
        if self.ticket_id is not None:
            check_ticket_id(self.ticket_id)
        object.__setattr__(self, "unit_time", _whole_millis("unit_time", self.unit_time))
        if self.central_time is not None:
            object.__setattr__(
                self, "central_time", _whole_millis("central_time", self.central_time)
            )
        check_passage_id(self.passage_id)
        to_json("detail", self.detail, MAX_DETAIL_BYTES)

    @property
    def counted_time(self) -> dt.datetime:
        """The time the passage counts in: central's when known, else the unit's."""
        return self.central_time if self.central_time is not None else self.unit_time


@dataclass(frozen=True, slots=True)
class Passage:
    """A journaled passage: what was appended, its place in the journal and its upload state."""

    seq: int
    passage_id: str
    ticket_id: TicketId | None
    direction: Direction
    kind: PassageKind
    reason: str
    unit_time: dt.datetime
    central_time: dt.datetime | None
    mode: UnitMode
    detail: dict[str, object]
    annuls: str | None  # for an annulment: the passage id of the admitted passage it cancels
    upload_state: UploadState
    uploaded_at: dt.datetime | None
    upload_answer: dict[str, object] | None  # central's answer, e.g. a conflict report

    @property
    def is_pending(self) -> bool:
        """True until central has acknowledged the passage."""
        return self.upload_state is UploadState.PENDING


@dataclass(frozen=True, slots=True)
class UploadAnswer:
    """Central's acknowledgement of one uploaded passage, with whatever it said about it."""

    passage_id: str
    answer: Mapping[str, object] | None = None

    def __post_init__(self) -> None:
        check_passage_id(self.passage_id)
        if self.answer is not None:
            to_json("answer", self.answer, MAX_ANSWER_BYTES)
