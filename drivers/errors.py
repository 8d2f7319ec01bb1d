"""The drivers' errors, one tree with stable codes.

Every driver failure is a ``DriverError`` carrying a ``DriverErrorCode``; the
unit's health and screens map the code to words, logs carry it as is. Like
pyserial's ``SerialException(IOError)``, each leaf also subclasses the
builtin it resembles, so a caller that only knows ``TimeoutError`` or
``ConnectionError`` still catches it.
"""

from __future__ import annotations

from enum import StrEnum


class DriverErrorCode(StrEnum):
    """Why a device could not do what was asked; never renamed once shipped."""

    UNAVAILABLE = "device_unavailable"  # absent, unplugged, cannot be opened
    TIMEOUT = "device_timeout"  # no answer in time
    PROTOCOL = "protocol_error"  # an answer that breaks the device's protocol
    LINK_LOST = "link_lost"  # the line or connection dropped mid-exchange
    REFUSED = "device_refused"  # the device answered, and said no
    CONFIG = "device_config"  # the profile asks for something this device cannot do


class DriverError(Exception):
    """Base of every driver failure; ``code`` says which kind."""

    code: DriverErrorCode = DriverErrorCode.UNAVAILABLE

    def __init__(self, message: str, code: DriverErrorCode | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        self.message = message


class DeviceUnavailable(DriverError, OSError):
    """The device is absent or cannot be opened."""

    code = DriverErrorCode.UNAVAILABLE


class DeviceTimeout(DriverError, TimeoutError):
    """The device did not answer in time."""

    code = DriverErrorCode.TIMEOUT


class ProtocolError(DriverError, ValueError):
    """The device answered something its protocol does not allow."""

    code = DriverErrorCode.PROTOCOL


class LinkLost(DriverError, ConnectionError):
    """The line or connection to the device dropped mid-exchange."""

    code = DriverErrorCode.LINK_LOST


class DeviceConfigError(DriverError, ValueError):
    """The profile asks for something this device or backend cannot do."""

    code = DriverErrorCode.CONFIG
