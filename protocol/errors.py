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
    # devices
    UNKNOWN_DEVICE = "unknown_device"
    UNKNOWN_ENROLMENT_CODE = "unknown_enrolment_code"
    ENROLMENT_CODE_SPENT = "enrolment_code_spent"
    ENROLMENT_CODE_EXPIRED = "enrolment_code_expired"
    # emergency selling: unit keys and seat blocks
    NO_SIGNING_KEY = "no_signing_key"
    SIGNING_KEY_REFUSED = "signing_key_refused"
    UNKNOWN_BLOCK = "unknown_block"
    # ticket tokens
    TOKEN_MALFORMED = "malformed"
    TOKEN_BAD_SIGNATURE = "bad_signature"
    TOKEN_UNKNOWN_KEY = "unknown_key"
    TOKEN_UNSUPPORTED_VERSION = "unsupported_version"
    # server
    STORE_BUSY = "store_busy"
    INTERNAL = "internal"


# The HTTP status each code is answered with (the API contract).
STATUS_BY_CODE: dict[ErrorCode, int] = {
    ErrorCode.UNAUTHORIZED: 401,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.HOLDER_MISMATCH: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.UNKNOWN_TRAIN: 404,
    ErrorCode.UNKNOWN_STATION: 404,
    ErrorCode.UNKNOWN_QUOTA: 404,
    ErrorCode.UNKNOWN_ORDER: 404,
    ErrorCode.UNKNOWN_TICKET: 404,
    ErrorCode.UNKNOWN_DEVICE: 404,
    ErrorCode.UNKNOWN_ENROLMENT_CODE: 404,
    ErrorCode.ENROLMENT_CODE_SPENT: 409,
    ErrorCode.ENROLMENT_CODE_EXPIRED: 409,
    ErrorCode.NO_SIGNING_KEY: 409,
    ErrorCode.SIGNING_KEY_REFUSED: 409,
    ErrorCode.UNKNOWN_BLOCK: 404,
    ErrorCode.METHOD_NOT_ALLOWED: 405,
    ErrorCode.REQUEST_TOO_LARGE: 413,
    ErrorCode.SOLD_OUT: 409,
    ErrorCode.NOT_ENOUGH_SEATS: 409,
    ErrorCode.JOURNEY_OVERLAP: 409,
    ErrorCode.TRAIN_EXISTS: 409,
    ErrorCode.DEVICE_EXISTS: 409,
    ErrorCode.IDEMPOTENCY_KEY_REUSED: 409,
    ErrorCode.ORDER_EXPIRED: 409,
    ErrorCode.ORDER_NOT_HELD: 409,
    ErrorCode.TICKET_NOT_ISSUED: 409,
    ErrorCode.TOO_LATE: 409,
    ErrorCode.AMOUNT_MISMATCH: 409,
    ErrorCode.CARD_STATION_NOT_ACCEPTED: 409,
    ErrorCode.NOT_REFUNDABLE: 409,
    ErrorCode.VALIDATION_FAILED: 422,
    ErrorCode.BAD_TIMETABLE: 422,
    ErrorCode.BAD_JOURNEY: 422,
    ErrorCode.STORE_BUSY: 503,
    ErrorCode.INTERNAL: 500,
}


def status_for(code: ErrorCode) -> int:
    """The HTTP status of an error code (400 for anything unlisted)."""
    return STATUS_BY_CODE.get(code, 400)


def error_body(code: ErrorCode | str, message: str) -> dict[str, dict[str, str]]:
    """The JSON body of an error."""
    return {"error": {"code": str(code), "message": message}}


class StationKitError(Exception):
    """Base of every error we raise on purpose; carries a stable code."""

    code: ErrorCode = ErrorCode.BAD_REQUEST

    def __init__(self, message: str, code: ErrorCode | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        self.message = message
