"""A unit's enrolment: a one-time code from the operator exchanged for its own credential.

The unit makes a random token, sends only its SHA-256 with the code, and
keeps the token in its store; central keeps the hash. What central says the
unit is (kind, station, and for a gate its group and direction) is kept
beside it in the same transaction.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable

from device.central_link import CentralLink
from device.clock import utc_now
from device.profile import ProfileError, UnitSection
from offline_store.connection import StoreSettings
from offline_store.store import UnitStore
from offline_store.unit_state import DeviceIdentity
from protocol.units import UnitProfile

Keep = Callable[[UnitStore, UnitProfile], None]


class UnitNotEnrolled(RuntimeError):
    """The store holds no enrolment: the unit's ``enrol`` command comes first."""


async def enrol_unit(
    unit: UnitSection,
    settings: StoreSettings,
    central_url: str,
    code: str,
    keep: Keep = lambda store, answer: None,
) -> UnitProfile:
    """Exchange ``code`` for this unit's credential; ``keep`` stores what else the unit needs."""
    token = secrets.token_urlsafe(32)
    link = CentralLink(central_url, None, unit.central_timeout_s)
    try:
        answer, _ = await link.enrol(code, hashlib.sha256(token.encode()).hexdigest())
    finally:
        await link.close()
    if answer.kind != unit.kind:
        raise ProfileError(f"central registered this unit as a {answer.kind}, not a {unit.kind}")
    unit.store.parent.mkdir(parents=True, exist_ok=True)
    identity = DeviceIdentity(
        answer.device_id, answer.kind, answer.station, central_url, token, utc_now()
    )
    with UnitStore.open(unit.store, settings) as store, store.transaction():
        store.enrolment.replace(identity)
        keep(store, answer)
    return answer


def enrolled(store: UnitStore, kind: str) -> DeviceIdentity:
    """The unit's enrolment, or ``UnitNotEnrolled`` naming the command to run."""
    identity = store.enrolment.current()
    if identity is None:
        raise UnitNotEnrolled(
            f"{store.path}: this {kind} is not enrolled; run `stationkit {kind} enrol`"
        )
    return identity
