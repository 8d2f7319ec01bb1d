"""What can go wrong between the gate and a card, each with a stable reason.

Three families, all under ``drivers.errors``: a card that answered but breaks
our protocol (``OddAnswer``, a ``ProtocolError`` whose ``reason`` never
changes once shipped); a card that answered clearly and said no
(``NotOurCard``, ``CardAccessDenied``); and an exchange that broke off
(``CardExchangeBroken``, with ``CardRemoved`` when the card left the field).
The reader itself going away is ``ReaderLost``, and a PC/SC service that does
not answer is ``PcscServiceDown``. The domain class turns the card-level ones
into a ``CardFault`` for the passenger's tap; none of them ever escapes as an
``IndexError`` or ``UnicodeError``.
"""

from __future__ import annotations

from enum import StrEnum

from drivers.errors import (
    DeviceUnavailable,
    DriverError,
    DriverErrorCode,
    LinkLost,
    ProtocolError,
)


class OddAnswerReason(StrEnum):
    """Why an answer breaks the card protocol; never renamed once shipped."""

    SHORT_RESPONSE = "short_response"  # fewer than the two status bytes
    UNEXPECTED_STATUS = "unexpected_status"  # a status word this step does not allow
    WRONG_LENGTH_AGAIN = "wrong_length_again"  # 6Cxx answered to the corrected Le too
    CHAIN_TOO_LONG = "chain_too_long"  # 61xx kept coming past the limit
    MALFORMED_COMMAND = "malformed_command"  # a command APDU that breaks ISO 7816-4 (emulator side)
    RECORD_BAD_TEMPLATE = "record_bad_template"  # the file does not start with our template tag
    RECORD_BAD_LENGTH = "record_bad_length"  # a length field that is malformed or out of bounds
    RECORD_TRUNCATED = "record_truncated"  # the file or a field ends before its length says
    RECORD_TOO_LONG = "record_too_long"  # longer than any record we write
    RECORD_UNKNOWN_TAG = "record_unknown_tag"  # a tag this version does not define
    RECORD_DUPLICATE_TAG = "record_duplicate_tag"  # a field given twice
    RECORD_MISSING_FIELD = "record_missing_field"  # a mandatory field absent
    RECORD_UNSUPPORTED_VERSION = "record_unsupported_version"  # version absent, misplaced or new
    RECORD_BAD_TEXT = "record_bad_text"  # not UTF-8 (name) or not printable ASCII (serial)
    RECORD_BAD_ID_NUMBER = "record_bad_id_number"  # empty, too long, or outside [0-9A-Z]
    RECORD_BAD_EXPIRY = "record_bad_expiry"  # not a real YYYYMMDD date


class OddAnswer(ProtocolError):
    """The card answered something our protocol does not allow."""

    def __init__(self, reason: OddAnswerReason, message: str) -> None:
        super().__init__(f"{reason}: {message}")
        self.reason = reason


class CardRefused(DriverError):
    """The card answered clearly, and the answer is no."""

    code = DriverErrorCode.REFUSED


class NotOurCard(CardRefused):
    """The card has no StationKit holder application or file (status 6A82)."""


class CardAccessDenied(CardRefused):
    """The card is ours but will not give the record (status 6982 or 6985)."""


class CardExchangeBroken(LinkLost):
    """The exchange with the card broke off (no answer, transmission failed)."""


class CardRemoved(CardExchangeBroken):
    """The card left the field before it was read."""


class ReaderLost(DeviceUnavailable):
    """The reader is not (or no longer) listed by PC/SC."""


class PcscServiceDown(DeviceUnavailable):
    """The PC/SC service (pcscd) does not answer."""
