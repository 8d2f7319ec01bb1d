"""Fares: rate times distance, rounded to the half yuan, never free for a real journey."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from central.sales.fares import fare_fen


@pytest.mark.parametrize(
    ("rate", "km", "expected"),
    [
        (46, 100, 4600),  # exact
        (46, 13, 600),  # 598 rounds up
        (16, 7, 100),  # 112 rounds down
        (25, 1, 50),  # exactly a quarter yuan rounds up
        (74, 1, 50),  # 74 is nearer 50 than 100
        (75, 1, 100),  # 75 is a quarter above 50: up
        (46, 1318, 60650),  # G111 Beijing South - Shanghai Hongqiao, second class
    ],
)
def test_fare_is_rate_times_km_to_the_half_yuan(rate: int, km: int, expected: int) -> None:
    assert fare_fen(rate, km) == expected


@pytest.mark.parametrize(("rate", "km"), [(16, 1), (3, 8), (1, 24)])
def test_short_journey_costs_at_least_half_a_yuan(rate: int, km: int) -> None:
    assert fare_fen(rate, km) == 50


def test_no_distance_costs_nothing() -> None:
    assert fare_fen(46, 0) == 0


@pytest.mark.parametrize(
    ("rate", "km", "words"), [(0, 10, "rate"), (-5, 10, "rate"), (46, -1, "km")]
)
def test_bad_input_is_refused(rate: int, km: int, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        fare_fen(rate, km)


@given(st.integers(1, 500), st.integers(1, 5000))
def test_fare_is_the_nearest_half_yuan_or_the_minimum(rate: int, km: int) -> None:
    fare = fare_fen(rate, km)
    assert fare % 50 == 0
    assert fare == 50 or abs(fare - rate * km) <= 25
    assert fare <= fare_fen(rate, km + 1)
