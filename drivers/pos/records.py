"""Concert E+ records: the register's fixed-length request and the terminal's answer.

The request is 34 characters::

    pos 2 | amount 8 | answer flag 1 | payment mode 1 | transaction type 1 |
    currency 3 | private 10 | delay 4 | authorisation 4

and the answer 80 characters (long form, answer flag '1') or 25 (short)::

    pos 2 | status 1 | amount 8 | payment mode 1 | [report 55] | currency 3 | private 10

Amounts are in the currency's minor unit (fen for CNY), currencies numeric
ISO 4217. The private field is the register's own: the terminal returns it
in its answer, and StationKit puts its transaction id there. Decoding an
answer masks the card number at once (``drivers.pos.report``); the raw
report never leaves this module. Bad records raise ``RecordError`` (a
``ProtocolError``), never anything else.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from drivers.errors import ProtocolError
from drivers.pos.report import REPORT_LENGTH, ReportFields, parse_report

REQUEST_LENGTH = 34
LONG_ANSWER_LENGTH = 80
SHORT_ANSWER_LENGTH = 25
PRIVATE_LENGTH = 10
MAX_AMOUNT = 99_999_999  # eight digits of minor units
BLANK_PRIVATE = " " * PRIVATE_LENGTH

ANSWER_LONG = "1"  # answer flag: send the report field
ANSWER_SHORT = "0"
MODE_CARD = "1"  # payment mode: bank card
DELAY_END_OF_TRANSACTION = "A010"  # answer once the transaction is over (not at once)
DELAY_IMMEDIATE = "A011"
AUTHORISATION_TERMINAL_DECIDES = "B010"  # the terminal asks the acquirer when its rules say


class TransactionType(StrEnum):
    """Concert's transaction types (pyTeliumManager calls '2' a refund; it is an annulation)."""

    DEBIT = "0"  # a sale
    CREDIT = "1"  # money back to the card (not used by StationKit's driver)
    ANNULATION = "2"  # cancel the terminal's last transaction
    DUPLICATA = "3"  # repeat the last answer: how a lost answer is recovered


class AnswerStatus(StrEnum):
    """The status character of an answer."""

    ACCEPTED = "0"
    REFUSED = "7"
    # '9' answers a request the terminal handled without a final verdict
    # (e.g. an immediate-answer request): never proof of payment
    NOT_VERIFIED = "9"


class RecordError(ProtocolError):
    """A frame whose payload is not a Concert record."""


@dataclass(frozen=True)
class Request:
    """A register's request, field by field (raw characters where Concert allows any)."""

    pos_number: int
    amount: int
    transaction_type: str
    currency: int
    private: str
    answer_flag: str = ANSWER_LONG
    payment_mode: str = MODE_CARD
    delay: str = DELAY_END_OF_TRANSACTION
    authorisation: str = AUTHORISATION_TERMINAL_DECIDES


@dataclass(frozen=True, repr=False)
class AnswerRecord:
    """A terminal's answer as sent (the simulator's side): ``report`` is raw, None for short."""

    pos_number: int
    status: str
    amount: int
    payment_mode: str
    currency: int
    private: str
    report: str | None = None

    def __repr__(self) -> str:
        # the report may hold a card number in clear: never print it
        return (
            f"AnswerRecord(status={self.status!r}, amount={self.amount}, private={self.private!r})"
        )


@dataclass(frozen=True)
class Answer:
    """A terminal's answer as the register keeps it: the card number is already masked."""

    pos_number: int
    status: str
    amount: int
    payment_mode: str
    currency: int
    private: str
    report: ReportFields
    is_long: bool


def encode_request(request: Request) -> bytes:
    """The 34-character payload of a request; ValueError if a field does not fit."""
    text = (
        _digits(request.pos_number, 2, "pos_number")
        + _digits(request.amount, 8, "amount")
        + _char(request.answer_flag, "answer_flag")
        + _char(request.payment_mode, "payment_mode")
        + _char(request.transaction_type, "transaction_type")
        + _digits(request.currency, 3, "currency")
        + _width(request.private, PRIVATE_LENGTH, "private")
        + _width(request.delay, 4, "delay")
        + _width(request.authorisation, 4, "authorisation")
    )
    return _ascii(text)


def decode_request(payload: bytes) -> Request:
    """A request from its payload; RecordError if it is not one."""
    text = _text(payload, (REQUEST_LENGTH,), "request")
    return Request(
        pos_number=_number(text[0:2], "pos_number"),
        amount=_number(text[2:10], "amount"),
        answer_flag=text[10],
        payment_mode=text[11],
        transaction_type=text[12],
        currency=_number(text[13:16], "currency"),
        private=text[16:26],
        delay=text[26:30],
        authorisation=text[30:34],
    )


def encode_answer(answer: AnswerRecord) -> bytes:
    """The 80- or 25-character payload of an answer; ValueError if a field does not fit."""
    report = "" if answer.report is None else _width(answer.report, REPORT_LENGTH, "report")
    text = (
        _digits(answer.pos_number, 2, "pos_number")
        + _char(answer.status, "status")
        + _digits(answer.amount, 8, "amount")
        + _char(answer.payment_mode, "payment_mode")
        + report
        + _digits(answer.currency, 3, "currency")
        + _width(answer.private, PRIVATE_LENGTH, "private")
    )
    return _ascii(text)


def decode_answer(payload: bytes) -> Answer:
    """An answer from its payload, card number masked; RecordError if it is not one."""
    text = _text(payload, (LONG_ANSWER_LENGTH, SHORT_ANSWER_LENGTH), "answer")
    is_long = len(text) == LONG_ANSWER_LENGTH
    tail = 12 + (REPORT_LENGTH if is_long else 0)
    return Answer(
        pos_number=_number(text[0:2], "pos_number"),
        status=text[2],
        amount=_number(text[3:11], "amount"),
        payment_mode=text[11],
        currency=_number(text[tail : tail + 3], "currency"),
        private=text[tail + 3 : tail + 3 + PRIVATE_LENGTH],
        report=parse_report(text[12:tail]) if is_long else ReportFields(),
        is_long=is_long,
    )


def _text(payload: bytes, lengths: tuple[int, ...], what: str) -> str:
    if len(payload) not in lengths:
        expected = " or ".join(str(n) for n in lengths)
        raise RecordError(f"a Concert {what} has {expected} characters, not {len(payload)}")
    if any(not 0x20 <= byte < 0x7F for byte in payload):
        raise RecordError(f"a Concert {what} is printable ASCII")
    return payload.decode("ascii")


def _number(text: str, field: str) -> int:
    if not (text.isascii() and text.isdigit()):
        raise RecordError(f"the {field} field is not digits")
    return int(text)


def _digits(value: int, width: int, field: str) -> str:
    if not 0 <= value < 10**width:
        raise ValueError(f"{field} must fit {width} digits, got {value}")
    return str(value).zfill(width)


def _char(value: str, field: str) -> str:
    return _width(value, 1, field)


def _width(value: str, width: int, field: str) -> str:
    if len(value) != width:
        raise ValueError(f"{field} must be {width} characters, got {len(value)}")
    return value


def _ascii(text: str) -> bytes:
    if not (text.isascii() and text.isprintable()):
        raise ValueError("a Concert record is printable ASCII")
    return text.encode("ascii")
