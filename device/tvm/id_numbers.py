"""Chinese resident ID numbers (GB 11643-1999): 17 digits and a check character.

The check character is the weighted sum of the 17 digits modulo 11, mapped to
``10X98765432``; a TVM refuses a number whose check fails before it ever
reaches central, so a mistyped digit is caught at the keyboard.
"""

from __future__ import annotations

import datetime as dt

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECKS = "10X98765432"


def check_character(body: str) -> str:
    """The check character of a 17-digit body."""
    return CHECKS[sum(int(d) * w for d, w in zip(body, WEIGHTS, strict=True)) % 11]


def problem(id_number: str) -> str | None:
    """Why an ID number is not valid (never echoing it), or None when it is."""
    text = "".join(id_number.split()).upper()
    if len(text) != 18:
        return "an ID number has 18 characters"
    body, check = text[:17], text[17]
    if not body.isdigit() or not (check.isdigit() or check == "X"):
        return "an ID number is 17 digits and a digit or X"
    if not _is_birth_date(body[6:14]):
        return "the birth date in the ID number is not a date"
    if check_character(body) != check:
        return "the ID number's check character does not match: a digit is mistyped"
    return None


def normalised(id_number: str) -> str:
    """Spaces out, X upper-cased."""
    return "".join(id_number.split()).upper()


def _is_birth_date(text: str) -> bool:
    try:
        born = dt.date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except ValueError:
        return False
    return dt.date(1900, 1, 1) <= born <= dt.date.today()
