"""Refund fees (退票费): a percentage of the price that depends on how long before departure.

The schedule is a list of rules, each "at least this many hours before
departure: this percent"; the default is China Railway practice (DOMAIN.md
section 4). Fees are rounded to the half yuan, at least 2 yuan whenever a fee
applies, and never more than the ticket cost. A refund after departure is
refused with ``RefundTooLate``. Everything is a setting, read by ``from_config``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from protocol.errors import ErrorCode, StationKitError
from protocol.money import Fen, round_half_yuan

Rounding = Callable[[int], Fen]

ROUNDINGS: dict[str, Rounding] = {
    "half_yuan": round_half_yuan,
    "fen": Fen,  # no rounding: the fee is charged to the fen
}
CONFIG_KEYS = frozenset({"rules", "minimum_fee_fen", "rounding"})
RULE_KEYS = frozenset({"min_hours_before", "percent"})


class RefundTooLate(StationKitError):
    """The train has left: the ticket can no longer be refunded."""

    code = ErrorCode.TOO_LATE


@dataclass(frozen=True)
class RefundRule:
    """From ``min_hours_before`` hours before departure (inclusive) the fee is ``percent`` %."""

    min_hours_before: float
    percent: int

    def __post_init__(self) -> None:
        if not (math.isfinite(self.min_hours_before) and self.min_hours_before >= 0):
            raise ValueError(f"min_hours_before must be a number >= 0, got {self.min_hours_before}")
        if not 0 <= self.percent <= 100:
            raise ValueError(f"percent must be 0..100, got {self.percent}")

    @property
    def threshold(self) -> dt.timedelta:
        """The rule's bound as a timedelta, so boundaries compare exactly."""
        return dt.timedelta(hours=self.min_hours_before)


DEFAULT_RULES: tuple[RefundRule, ...] = (
    RefundRule(min_hours_before=8 * 24, percent=0),
    RefundRule(min_hours_before=48, percent=5),
    RefundRule(min_hours_before=24, percent=10),
    RefundRule(min_hours_before=0, percent=20),
)
DEFAULT_MINIMUM_FEE_FEN = 200


class RefundPolicy:
    """A refund fee schedule: rules by time before departure, a minimum fee and a rounding."""

    def __init__(
        self,
        rules: Sequence[RefundRule] = DEFAULT_RULES,
        minimum_fee_fen: int = DEFAULT_MINIMUM_FEE_FEN,
        rounding: Rounding = round_half_yuan,
    ) -> None:
        self.rules = _ordered_rules(rules)
        if minimum_fee_fen < 0:
            raise ValueError(f"minimum_fee_fen must be >= 0, got {minimum_fee_fen}")
        self.minimum_fee_fen = minimum_fee_fen
        self.rounding = rounding

    def percent(self, departure: dt.datetime, now: dt.datetime) -> int:
        """The fee percentage for a refund at ``now`` of a train leaving at ``departure``."""
        before = _time_before(departure, now)
        # rules are ordered longest notice first; the last one starts at 0 h
        return next(rule.percent for rule in self.rules if before >= rule.threshold)

    def fee_fen(self, price_fen: int, departure: dt.datetime, now: dt.datetime) -> Fen:
        """The fee kept when a ticket costing ``price_fen`` is refunded at ``now``.

        Raises RefundTooLate once ``now`` is past ``departure``.
        """
        if price_fen < 0:
            raise ValueError(f"price must not be negative, got {price_fen} fen")
        percent = self.percent(departure, now)
        if percent == 0:
            return Fen(0)
        # flooring first is exact: half-yuan rounding only changes at whole fen
        fee = max(self.rounding(price_fen * percent // 100), self.minimum_fee_fen)
        return Fen(min(fee, price_fen))

    def refund_fen(self, price_fen: int, departure: dt.datetime, now: dt.datetime) -> Fen:
        """What the passenger gets back: the price less the fee."""
        return Fen(price_fen - self.fee_fen(price_fen, departure, now))

    @classmethod
    def from_config(cls, settings: Mapping[str, object], where: str = "refunds") -> RefundPolicy:
        """Build a policy from a settings table such as the ``[refunds]`` section of a profile.

        Keys: ``rules`` (a list of ``{min_hours_before, percent}`` tables),
        ``minimum_fee_fen`` and ``rounding`` (``"half_yuan"`` or ``"fen"``); each is
        optional and defaults to China Railway practice. Errors name ``where`` and the key.
        """
        _reject_unknown(settings, CONFIG_KEYS, where)
        rules = DEFAULT_RULES
        if "rules" in settings:
            rules = _rules_from_config(settings["rules"], f"{where}.rules")
        minimum = _int_setting(settings, "minimum_fee_fen", where, DEFAULT_MINIMUM_FEE_FEN)
        rounding_name = settings.get("rounding", "half_yuan")
        if not isinstance(rounding_name, str) or rounding_name not in ROUNDINGS:
            choices = ", ".join(sorted(ROUNDINGS))
            raise ValueError(f"{where}.rounding must be one of {choices}, got {rounding_name!r}")
        try:
            return cls(rules, minimum, ROUNDINGS[rounding_name])
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from exc


def _ordered_rules(rules: Sequence[RefundRule]) -> tuple[RefundRule, ...]:
    """Longest notice first; every time before departure must fall under exactly one rule."""
    ordered = tuple(sorted(rules, key=lambda rule: rule.min_hours_before, reverse=True))
    bounds = [rule.min_hours_before for rule in ordered]
    if len(set(bounds)) != len(bounds):
        raise ValueError(f"refund rules repeat a min_hours_before: {sorted(bounds)}")
    if not ordered or ordered[-1].min_hours_before != 0:
        raise ValueError("refund rules need one with min_hours_before = 0 (the last hours)")
    return ordered


def _time_before(departure: dt.datetime, now: dt.datetime) -> dt.timedelta:
    """Notice given before departure; refunds are accepted up to the departure time itself."""
    if departure.utcoffset() is None or now.utcoffset() is None:
        raise ValueError("departure and now must be timezone-aware datetimes")
    before = departure - now
    if before < dt.timedelta(0):
        raise RefundTooLate(
            f"the train departed at {departure.isoformat()}; no refund after departure"
        )
    return before


def _reject_unknown(table: Mapping[str, object], known: frozenset[str], where: str) -> None:
    unknown = sorted(set(table) - known)
    if unknown:
        raise ValueError(
            f"{where}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )


def _setting(table: Mapping[str, object], key: str, where: str, default: object) -> object:
    if key not in table and default is None:
        raise ValueError(f"{where}.{key} is required")
    return table.get(key, default)


def _int_setting(
    table: Mapping[str, object], key: str, where: str, default: int | None = None
) -> int:
    value = _setting(table, key, where, default)
    # bool is an int in Python, but `true` is never a sensible count
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"{where}.{key} must be an integer, got {value!r}")
    return value


def _number_setting(table: Mapping[str, object], key: str, where: str) -> float:
    value = _setting(table, key, where, None)
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise ValueError(f"{where}.{key} must be a number, got {value!r}")
    return float(value)


def _rules_from_config(value: object, where: str) -> tuple[RefundRule, ...]:
    if not isinstance(value, list) or not value:
        raise ValueError(
            f"{where} must be a non-empty list of {{min_hours_before, percent}} tables"
        )
    return tuple(_rule_from_config(item, f"{where}[{index}]") for index, item in enumerate(value))


def _rule_from_config(item: object, where: str) -> RefundRule:
    if not isinstance(item, Mapping):
        raise ValueError(f"{where} must be a table with min_hours_before and percent")
    _reject_unknown(item, RULE_KEYS, where)
    hours = _number_setting(item, "min_hours_before", where)
    percent = _int_setting(item, "percent", where)
    try:
        return RefundRule(hours, percent)
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from exc
