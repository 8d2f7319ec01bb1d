"""Money on the wire and in every ledger: integer fen (0.01 yuan), never floats.

Railway fares and refund fees are rounded to the nearest half yuan (50 fen);
the rounding rule lives here once so central and the units agree on it.
"""

from __future__ import annotations

from typing import NewType

Fen = NewType("Fen", int)

FEN_PER_YUAN = 100
HALF_YUAN = Fen(50)


def round_half_yuan(amount: int) -> Fen:
    """Round an amount of fen to the nearest 0.5 yuan; exact quarters round up."""
    if amount < 0:
        raise ValueError(f"amount must not be negative, got {amount} fen")
    return Fen((amount + HALF_YUAN // 2) // HALF_YUAN * HALF_YUAN)


def format_yuan(amount: int) -> str:
    """Render fen as yuan with two decimals, e.g. 12350 -> '123.50'."""
    sign = "-" if amount < 0 else ""
    whole, cents = divmod(abs(amount), FEN_PER_YUAN)
    return f"{sign}{whole}.{cents:02d}"
