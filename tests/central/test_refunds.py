"""Refund fees: the time bands of DOMAIN.md section 4, rounding, minimum fee, settings."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from central.sales.refunds import DEFAULT_RULES, RefundPolicy, RefundRule, RefundTooLate
from protocol.errors import ErrorCode, StationKitError
from protocol.money import Fen

CST = dt.timezone(dt.timedelta(hours=8))
DEPARTURE = dt.datetime(2026, 12, 10, 8, 0, tzinfo=CST)
SECOND = dt.timedelta(seconds=1)
PRICE = 10_000  # 100 yuan: 5 % = 5 yuan, 10 % = 10 yuan, 20 % = 20 yuan

POLICY = RefundPolicy()


def before(**delta: float) -> dt.datetime:
    """The moment ``delta`` ahead of DEPARTURE."""
    return DEPARTURE - dt.timedelta(**delta)


@pytest.mark.parametrize(
    ("now", "fee"),
    [
        (before(days=30), 0),
        (before(days=8), 0),  # exactly 8 days: still free
        (before(days=8) + SECOND, 500),
        (before(hours=48), 500),  # exactly 48 h: 5 %
        (before(hours=48) + SECOND, 1000),
        (before(hours=24), 1000),  # exactly 24 h: 10 %
        (before(hours=24) + SECOND, 2000),
        (before(minutes=1), 2000),
        (DEPARTURE, 2000),  # up to the departure time itself
    ],
)
def test_default_bands_and_their_exact_boundaries(now: dt.datetime, fee: int) -> None:
    assert POLICY.fee_fen(PRICE, DEPARTURE, now) == fee


def test_boundaries_hold_across_time_zones() -> None:
    now_utc = before(hours=48).astimezone(dt.UTC)
    assert POLICY.fee_fen(PRICE, DEPARTURE, now_utc) == 500


def test_refund_after_departure_is_too_late() -> None:
    with pytest.raises(RefundTooLate, match="departed") as info:
        POLICY.fee_fen(PRICE, DEPARTURE, DEPARTURE + SECOND)
    assert isinstance(info.value, StationKitError)
    assert info.value.code is ErrorCode.TOO_LATE


@pytest.mark.parametrize(
    ("price", "now", "fee"),
    [
        (12_350, before(hours=72), 600),  # 617.5 -> 600
        (12_350, before(hours=30), 1250),  # 1235 -> 1250
        (12_350, before(hours=2), 2450),  # 2470 -> 2450
        (10_250, before(hours=30), 1050),  # exactly 1025: a quarter rounds up
        (20_490, before(hours=72), 1000),  # 1024.5 stays below the quarter
    ],
)
def test_fee_is_rounded_to_the_half_yuan(price: int, now: dt.datetime, fee: int) -> None:
    assert POLICY.fee_fen(price, DEPARTURE, now) == fee


def test_minimum_fee_when_a_fee_applies() -> None:
    assert POLICY.fee_fen(1_000, DEPARTURE, before(hours=72)) == 200  # 5 % = 0.50 yuan


def test_no_minimum_fee_in_the_free_band() -> None:
    assert POLICY.fee_fen(1_000, DEPARTURE, before(days=9)) == 0


def test_fee_never_exceeds_the_price() -> None:
    assert POLICY.fee_fen(150, DEPARTURE, before(hours=1)) == 150
    assert POLICY.refund_fen(150, DEPARTURE, before(hours=1)) == 0
    assert POLICY.fee_fen(0, DEPARTURE, before(hours=1)) == 0


def test_refund_is_price_less_fee() -> None:
    assert POLICY.refund_fen(12_350, DEPARTURE, before(hours=30)) == 11_100


@given(st.integers(0, 10_000_000), st.integers(0, 30 * 24 * 3600))
def test_fee_bounds(price: int, seconds_before: int) -> None:
    fee = POLICY.fee_fen(price, DEPARTURE, before(seconds=seconds_before))
    assert 0 <= fee <= price
    percent = POLICY.percent(DEPARTURE, before(seconds=seconds_before))
    if percent and price >= 200:
        assert fee >= 200
        assert fee % 50 == 0


def test_naive_times_and_negative_prices_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        POLICY.fee_fen(PRICE, DEPARTURE.replace(tzinfo=None), before(hours=1).replace(tzinfo=None))
    with pytest.raises(ValueError, match="negative"):
        POLICY.fee_fen(-1, DEPARTURE, before(hours=1))


# ---------------------------------------------------------------- custom schedules


def test_rules_are_sorted_whatever_their_order() -> None:
    policy = RefundPolicy(tuple(reversed(DEFAULT_RULES)))
    assert policy.rules == DEFAULT_RULES


def test_custom_minimum_and_rounding() -> None:
    policy = RefundPolicy(minimum_fee_fen=0, rounding=Fen)
    assert policy.fee_fen(12_345, DEPARTURE, before(hours=30)) == 1234


@pytest.mark.parametrize(
    ("rules", "words"),
    [
        ([RefundRule(24, 10)], "min_hours_before = 0"),
        ([RefundRule(0, 10), RefundRule(0, 20)], "repeat"),
        ([], "min_hours_before = 0"),
    ],
)
def test_bad_schedules_are_refused(rules: list[RefundRule], words: str) -> None:
    with pytest.raises(ValueError, match=words):
        RefundPolicy(rules)


@pytest.mark.parametrize(
    ("hours", "percent"), [(-1.0, 5), (float("nan"), 5), (1.0, 101), (1.0, -1)]
)
def test_bad_rules_are_refused(hours: float, percent: int) -> None:
    with pytest.raises(ValueError):
        RefundRule(hours, percent)


def test_negative_minimum_fee_is_refused() -> None:
    with pytest.raises(ValueError, match="minimum_fee_fen"):
        RefundPolicy(minimum_fee_fen=-1)


# ---------------------------------------------------------------- settings


def test_empty_settings_give_the_default_policy() -> None:
    policy = RefundPolicy.from_config({})
    assert policy.rules == DEFAULT_RULES
    assert policy.minimum_fee_fen == 200
    assert policy.fee_fen(12_350, DEPARTURE, before(hours=72)) == 600


def test_settings_build_a_custom_policy() -> None:
    policy = RefundPolicy.from_config(
        {
            "rules": [
                {"min_hours_before": 0, "percent": 50},
                {"min_hours_before": 2.5, "percent": 0},
            ],
            "minimum_fee_fen": 100,
            "rounding": "fen",
        }
    )
    assert policy.fee_fen(12_345, DEPARTURE, before(hours=2.5)) == 0
    assert policy.fee_fen(12_345, DEPARTURE, before(hours=2.5) + SECOND) == 6172


@pytest.mark.parametrize(
    ("settings", "words"),
    [
        ({"minimum_fee": 200}, "refunds: unknown key(s) minimum_fee"),
        ({"minimum_fee_fen": "2 yuan"}, "refunds.minimum_fee_fen must be an integer"),
        ({"minimum_fee_fen": True}, "refunds.minimum_fee_fen must be an integer"),
        ({"minimum_fee_fen": -5}, "refunds: minimum_fee_fen must be >= 0"),
        ({"rounding": "yuan"}, "refunds.rounding must be one of fen, half_yuan"),
        ({"rules": []}, "refunds.rules must be a non-empty list"),
        ({"rules": [5]}, "refunds.rules[0] must be a table"),
        ({"rules": [{"percent": 5}]}, "refunds.rules[0].min_hours_before is required"),
        ({"rules": [{"min_hours_before": 0}]}, "refunds.rules[0].percent is required"),
        (
            {"rules": [{"min_hours_before": 0, "percent": 5.5}]},
            "refunds.rules[0].percent must be an integer",
        ),
        (
            {"rules": [{"min_hours_before": 0, "percent": 5, "note": "x"}]},
            "refunds.rules[0]: unknown key(s) note",
        ),
        (
            {
                "rules": [
                    {"min_hours_before": 0, "percent": 5},
                    {"min_hours_before": 1, "percent": 101},
                ]
            },
            "refunds.rules[1]: percent must be 0..100",
        ),
        ({"rules": [{"min_hours_before": 1, "percent": 5}]}, "refunds: refund rules need one"),
    ],
)
def test_bad_settings_name_the_key(settings: dict[str, object], words: str) -> None:
    with pytest.raises(ValueError) as info:
        RefundPolicy.from_config(settings)
    assert words in str(info.value)


def test_settings_errors_name_the_given_section() -> None:
    with pytest.raises(ValueError, match=r"central\.refunds: unknown key"):
        RefundPolicy.from_config({"x": 1}, where="central.refunds")
