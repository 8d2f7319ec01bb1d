"""Ticket fares: a per-class rate in fen per kilometre times the distance travelled.

Railway fares are quoted to the half yuan, so the product is rounded with
``protocol.money.round_half_yuan``; a journey never costs nothing, so any
distance costs at least one half-yuan step.
"""

from __future__ import annotations

from protocol.money import HALF_YUAN, Fen, round_half_yuan


def fare_fen(rate_fen_per_km: int, km: int) -> Fen:
    """Fare of a ``km``-long journey at ``rate_fen_per_km``, rounded to the nearest half yuan.

    A zero-length journey costs 0; any other costs at least 0.50 yuan, because a
    short trip at a low rate would otherwise round down to a free ticket.
    """
    if rate_fen_per_km <= 0:
        raise ValueError(
            f"fare rate must be a positive number of fen per km, got {rate_fen_per_km}"
        )
    if km < 0:
        raise ValueError(f"distance must not be negative, got {km} km")
    if km == 0:
        return Fen(0)
    return Fen(max(HALF_YUAN, round_half_yuan(rate_fen_per_km * km)))
