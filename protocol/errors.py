"""Stable error codes shared by central, the units and their screens.

The API answers ``{"error": {"code": ..., "message": ...}}`` with one of these
codes; the kiosk maps each code to a message in the passenger's language. A
code is never renamed once shipped.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    """Every error the system reports, by stable code."""

    # request shape
    BAD_REQUEST = "bad_request"
    REQUEST_TOO_LARGE = "request_too_large"
    VALIDATION_FAILED = "validation_failed"
    UNAUTHORIZED = "unauthorized"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    IDEMPOTENCY_KEY_REQUIRED = "idempotency_key_required"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    # timetable and inventory
    UNKNOWN_TRAIN = "unknown_train"
    UNKNOWN_STATION = "unknown_station"
    UNKNOWN_QUOTA = "unknown_quota"
    TRAIN_EXISTS = "train_exists"
    DEVICE_EXISTS = "device_exists"
    BAD_TIMETABLE = "bad_timetable"
    BAD_JOURNEY = "bad_journey"
    SOLD_OUT = "sold_out"
    NOT_ENOUGH_SEATS = "not_enough_seats"
    # orders and tickets
    JOURNEY_OVERLAP = "journey_overlap"
    UNKNOWN_ORDER = "unknown_order"
    UNKNOWN_TICKET = "unknown_ticket"
    ORDER_EXPIRED = "order_expired"
    ORDER_NOT_HELD = "order_not_held"
    AMOUNT_MISMATCH = "amount_mismatch"
    CARD_STATION_NOT_ACCEPTED = "card_station_not_accepted"
    TICKET_NOT_ISSUED = "ticket_not_issued"
    TOO_LATE = "too_late"
    NOT_REFUNDABLE = "not_refundable"
    HOLDER_MISMATCH = "holder_mismatch"
    # ticket tokens
    TOKEN_MALFORMED = "malformed"
    TOKEN_BAD_SIGNATURE = "bad_signature"
    TOKEN_UNKNOWN_KEY = "unknown_key"
    TOKEN_UNSUPPORTED_VERSION = "unsupported_version"
    # server
    STORE_BUSY = "store_busy"
    INTERNAL = "internal"


class StationKitError(Exception):
    """Base of every error we raise on purpose; carries a stable code."""

    code: ErrorCode = ErrorCode.BAD_REQUEST

    def __init__(self, message: str, code: ErrorCode | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        self.message = message
