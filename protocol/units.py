"""What units (gates, ticket vending machines) and central say to each other.

Enrolment: the operator registers a unit and gets a one-time enrolment code;
the unit makes its own bearer token, keeps it, and sends only the token's
SHA-256 with the code (central never learns the token, so a retried exchange
is simply the same request again). The station feed: what a gate caches,
page by page after a cursor. Passages: what a gate journaled, uploaded in
batches and deduplicated by passage id; central answers with the conflicts it
found (a ticket admitted twice, at one gate or at two, while offline).
"""

from __future__ import annotations

import hashlib
import hmac
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, JsonValue, WithJsonSchema

from protocol.fields import (
    MAX_INT32,
    WHOLE,
    JsonDetail,
    RequestModel,
    ResponseModel,
    ServiceDate,
    Station,
    TicketRef,
    Timestamp,
    Train,
    whole,
)
from protocol.token import normalise_id_number
from protocol.tvm import UnitKey

ENROLMENT_CODE_PATTERN = r"^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$"  # Crockford base32
# how Crockford base32 reads what a person typed: any case, O for 0, I and L for 1
_CODE_AS_TYPED = str.maketrans("OIL", "011")
CREDENTIAL_HASH_PATTERN = r"^[0-9a-f]{64}$"
PASSAGE_ID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
MAX_PASSAGES_PER_UPLOAD = 1000
HOLDER_TAG_BYTES = 16
UnitKind = Literal["gate", "tvm"]
Direction = Literal["entry", "exit"]


def holder_tag(key: bytes, id_number: str) -> str:
    """The tag a gate finds an ID card holder's tickets by: HMAC-SHA256, 16 bytes, hex.

    Central computes it when it sells (it knows the ID number then); a gate
    computes it from the number its card reader read, with the key the feed
    gives it. Spacing and case of the number do not matter.
    """
    normalised = normalise_id_number(id_number).encode()
    return hmac.new(key, normalised, hashlib.sha256).digest()[:HOLDER_TAG_BYTES].hex()


class GateReason(StrEnum):
    """Why a gate refused a ticket (or what it noted): stable codes, never renamed."""

    MALFORMED = "malformed"  # not a ticket token at all
    BAD_SIGNATURE = "bad_signature"  # forged or damaged
    UNKNOWN_KEY = "unknown_key"  # signed with a key this gate does not know
    UNSUPPORTED_VERSION = "unsupported_version"
    WRONG_DATE = "wrong_date"  # another service date
    WRONG_STATION = "wrong_station"  # does not board (entry) or alight (exit) here
    TOO_EARLY = "too_early"  # check-in has not opened
    TOO_LATE = "too_late"  # check-in has closed (or the ticket's validity ended)
    REVOKED = "revoked"  # refunded or changed
    ALREADY_USED = "already_used"  # anti-passback: already through this way
    WRONG_GROUP = "wrong_group"  # the train checks in at another gate group
    HOLDER_MISMATCH = "holder_mismatch"  # the card's holder is not the ticket's
    NO_TICKET = "no_ticket"  # a card tap, and its holder has no ticket here now
    CARD_UNREADABLE = "card_unreadable"
    OUT_OF_SERVICE = "out_of_service"


def read_enrolment_code(typed: object) -> object:
    """An enrolment code as a technician may type it, in its one spelling (``7KQ2-M9XD``).

    Case does not matter, O reads as 0 and I or L as 1 (Crockford base32), the
    dash may be left out and spaces around are ignored; anything else is left
    for the pattern to refuse.
    """
    if not isinstance(typed, str):
        return typed
    code = typed.strip().upper().translate(_CODE_AS_TYPED)
    if len(code) == 8 and "-" not in code:
        code = f"{code[:4]}-{code[4:]}"
    return code


# what read_enrolment_code accepts as typed (any case, O/I/L, dash optional), for the schema
ENROLMENT_CODE_AS_TYPED = "^ *[0-9A-TV-Za-tv-z]{4}-?[0-9A-TV-Za-tv-z]{4} *$"
EnrolmentCodeText = Annotated[
    str,
    BeforeValidator(read_enrolment_code),
    Field(pattern=ENROLMENT_CODE_PATTERN),
    WithJsonSchema({"type": "string", "pattern": ENROLMENT_CODE_AS_TYPED}, mode="validation"),
]


class EnrolmentCode(ResponseModel):
    """A unit registered; give this code to its technician (it works once, until it expires)."""

    device_id: str
    kind: UnitKind
    station: Station
    enrolment_code: str
    expires_at: Timestamp


class EnrolmentRequest(RequestModel):
    """A unit exchanges its code for its credential: the SHA-256 (hex) of a token it made."""

    enrolment_code: EnrolmentCodeText
    credential_hash: str = Field(pattern=CREDENTIAL_HASH_PATTERN)


class UnitProfile(ResponseModel):
    """Who central says a unit is: what enrolment answers, and what a unit asks later."""

    device_id: str
    kind: UnitKind
    station: Station
    gate_group: str | None = None
    direction: Direction | None = None  # a gate fixed to one direction; None: both
    central_time: Timestamp


class DeviceView(ResponseModel):
    """A registered device or channel, as the operator lists it."""

    device_id: str
    kind: str
    station: str | None = None
    gate_group: str | None = None
    direction: Direction | None = None
    active: bool
    enrolled: bool
    created_at: Timestamp
    last_seen_at: Timestamp | None = None


class FeedKey(ResponseModel):
    """A key that signs tickets (Ed25519, public key in hex)."""

    key_id: int
    public_key: str


class FeedTicket(ResponseModel):
    """A ticket that boards or alights at the feed's station, with its signed token."""

    event_id: int
    ticket_id: str
    token: str
    train: Train
    date: ServiceDate
    from_station: Station = Field(alias="from")
    to_station: Station = Field(alias="to")
    departs_at: Timestamp
    arrives_at: Timestamp
    holder_tag: str | None = None  # hex; keyed hash of the holder's ID number
    gate_group: str | None = None


class FeedRevocation(ResponseModel):
    """A ticket that no longer admits: refunded or changed."""

    event_id: int
    ticket_id: str
    reason: str
    at: Timestamp
    arrives_at: Timestamp  # the ticket's arrival: a gate forgets the revocation with it


class FeedPage(ResponseModel):
    """One page of a station's feed, after ``cursor``; ``more`` says ask again at once."""

    station: Station
    cursor: int
    more: bool
    central_time: Timestamp
    tickets: list[FeedTicket]
    revocations: list[FeedRevocation]
    keys: list[FeedKey]
    # TVM keys for tickets sold offline from an emergency block; each may sign
    # only tickets that board at its ``station``
    unit_keys: list[UnitKey] = Field(default_factory=list)
    holder_tag_key_id: int
    holder_tag_key: str  # hex; computes ``holder_tag`` from an ID number read off a card
    # how central sets a token's window, so a gate knows a ticket's times from the token
    # alone (one sold after its last sync): not_before = departure - opens,
    # not_after = arrival + after
    token_opens_minutes: int
    token_after_arrival_minutes: int


class PassageRecord(RequestModel):
    """One journaled gate event."""

    passage_id: str = Field(pattern=PASSAGE_ID_PATTERN)
    ticket_id: TicketRef | None = None
    direction: Direction
    kind: Literal["admitted", "annulled", "emergency", "refused"]
    reason: str | None = Field(default=None, max_length=40, pattern=r"^[a-z_]+$")
    annuls: str | None = Field(default=None, pattern=PASSAGE_ID_PATTERN)
    at: Timestamp  # the unit's clock
    central_at: Timestamp | None = None  # the unit's estimate of central's clock then
    mode: str = Field(max_length=20, pattern=r"^[a-z_]+$")
    detail: dict[str, JsonDetail] = Field(default_factory=dict)


class PassageCount(RequestModel):
    """Passages of one kind counted in one time slot and direction (a total, not a delta)."""

    slot_start: Timestamp
    slot_minutes: Annotated[int, whole(1, 1440), WHOLE]
    direction: Direction
    kind: Literal["admitted", "annulled", "emergency", "refused"]
    count: Annotated[int, whole(0, MAX_INT32), WHOLE]  # a 32-bit column in the store


class PassageUpload(RequestModel):
    """A batch of a gate's journal and its counts; passages already known change nothing."""

    passages: list[PassageRecord] = Field(max_length=MAX_PASSAGES_PER_UPLOAD)
    counts: list[PassageCount] = Field(default_factory=list, max_length=MAX_PASSAGES_PER_UPLOAD)


class Conflict(ResponseModel):
    """Something central found about an uploaded passage: an anomaly it recorded."""

    passage_id: str
    ticket_id: str | None
    kind: str  # double_admission, admitted_revoked, forged_ticket
    other_device: str | None = None
    other_at: Timestamp | None = None


class PassageAnswer(ResponseModel):
    """What central made of an upload."""

    accepted: int  # passages new to central
    duplicates: int  # passages it had already (a retry)
    conflicts: list[Conflict]
    central_time: Timestamp


class AnomalyView(ResponseModel):
    """A recorded anomaly: time, device, ticket and kind, for operators to follow up."""

    anomaly_id: int
    at: Timestamp
    station: str
    device_id: str
    ticket_id: str | None
    kind: str
    detail: dict[str, JsonValue] = Field(default_factory=dict)
