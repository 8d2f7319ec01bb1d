"""The 55-character report field of a long Concert answer, and card-number masking.

Concert E+ leaves the report's layout to the terminal's configuration; what
public registers rely on is that it opens with the card number. Terminals
have been seen to send the full card number there, zero-padded to the end of
the field. So the card number is masked here, the moment the field is read,
and the raw field goes no further: at most the first six and the last four
digits stay visible, and when the number's end cannot be told (digits run on
into zero padding) only the first six.

StationKit's own layout (the simulator sends it; a terminal can be set up to
send it) adds three fields after the card number, at fixed columns::

    1-19   card number, left-aligned, space-padded (masked or not)
    21-26  authorisation code, 6 letters or digits
    28-39  terminal reference, 12 letters or digits
    41-55  acquirer, 1-15 letters, digits or '-', left-aligned, space-padded

with spaces in columns 20, 27 and 40. A report that does not match it
exactly yields the card number only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from protocol.fields import masked_card

REPORT_LENGTH = 55
CARD_WIDTH = 19  # the longest card number ISO/IEC 7812 allows
FIRST_VISIBLE = 6
LAST_VISIBLE = 4
MIN_SHOWN_LENGTH = 13  # shorter numbers show only their last four: three digits stay hidden
AMBIGUOUS_MASK = "*" * 6

_CARD_TOKEN = re.compile(r"[0-9*Xx]+")
_CODE = re.compile(r"[0-9A-Z]+")
_ACQUIRER = re.compile(r"[0-9A-Z-]{1,15}")
# StationKit's layout: (start, end) of each field, and the columns that must be spaces
_AUTH, _REF, _ACQ = (20, 26), (27, 39), (40, 55)
_SEPARATORS = (19, 26, 39)


@dataclass(frozen=True)
class ReportFields:
    """What StationKit keeps of a report: nothing that could be a whole card number."""

    card_masked: str | None = None
    authorisation_code: str | None = None
    terminal_reference: str | None = None
    acquirer: str | None = None


def mask_card(number: str, end_known: bool = True) -> str:
    """``number`` (digits, maybe already masked with ``*`` or ``X``) with at most 6+4 shown.

    With ``end_known`` false (the digits ran on into padding) only the first six show.
    """
    text = number.replace("X", "*").replace("x", "*")
    if not end_known or len(text) > CARD_WIDTH:
        return masked_card(text[:FIRST_VISIBLE] + AMBIGUOUS_MASK)
    shown_first = FIRST_VISIBLE if len(text) >= MIN_SHOWN_LENGTH else 0
    shown_last = min(LAST_VISIBLE, len(text) - 1)
    middle = "*" * (len(text) - shown_first - shown_last)
    masked = text[:shown_first] + middle + text[len(text) - shown_last :]
    return masked_card(masked)  # the same rule the central server applies


def card_from_report(report: str) -> str | None:
    """The masked card number a report opens with, or None when it opens with none."""
    match = _CARD_TOKEN.match(report)
    if match is None or len(match.group()) < 4 or set(match.group()) <= {"0"}:
        return None  # no number, or only the zero filler of an answer without a card
    return mask_card(match.group(), end_known=match.end() < len(report))


def parse_report(report: str) -> ReportFields:
    """The fields a report carries, masked; the raw text is not kept."""
    card = card_from_report(report)
    if not _has_layout(report):
        return ReportFields(card_masked=card)
    return ReportFields(
        card_masked=card,
        authorisation_code=report[slice(*_AUTH)],
        terminal_reference=report[slice(*_REF)],
        acquirer=report[slice(*_ACQ)].rstrip(" "),
    )


def _has_layout(report: str) -> bool:
    return (
        len(report) == REPORT_LENGTH
        and all(report[column] == " " for column in _SEPARATORS)
        and _CARD_TOKEN.fullmatch(report[:CARD_WIDTH].rstrip(" ")) is not None
        and _CODE.fullmatch(report[slice(*_AUTH)]) is not None
        and _CODE.fullmatch(report[slice(*_REF)]) is not None
        and _ACQUIRER.fullmatch(report[slice(*_ACQ)].rstrip(" ")) is not None
    )


def build_report(card: str, authorisation_code: str, terminal_reference: str, acquirer: str) -> str:
    """A report in StationKit's layout (the simulator's side); ValueError if a part is bad."""
    report = f"{card:<{CARD_WIDTH}} {authorisation_code} {terminal_reference} {acquirer:<15}"
    if not _has_layout(report):
        raise ValueError("report parts do not fit StationKit's layout")
    return report
