"""Errors of the inventory engine, each with a stable code."""

from __future__ import annotations

from protocol.errors import ErrorCode, StationKitError


class InventoryError(StationKitError):
    """Base of the engine's errors."""

    code = ErrorCode.BAD_REQUEST


class SoldOut(InventoryError):
    """Nothing is left for the journey and class at this seller."""

    code = ErrorCode.SOLD_OUT


class NotEnoughSeats(InventoryError):
    """Some places are left, fewer than the passengers asked for."""

    code = ErrorCode.NOT_ENOUGH_SEATS


class BadJourney(InventoryError):
    """The journey or class does not exist on this train run."""

    code = ErrorCode.BAD_JOURNEY


class UnknownQuota(InventoryError):
    """No quota of that id on this train run."""

    code = ErrorCode.UNKNOWN_QUOTA
