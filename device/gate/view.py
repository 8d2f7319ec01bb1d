"""What a gate's screen shows, as plain data: the runtime publishes it, ``ui`` draws it.

The runtime knows no screen: after every change (a decision, a passage, a
mode or network change) it publishes a ``GateView``; a display subscribed to
it draws the view (``ui.gate_display``), and a headless gate simply has no
subscriber.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from device.gate.messages import Words


class Outcome(StrEnum):
    """What the passenger in front of the gate should see."""

    READY = "ready"  # waiting for a ticket
    ADMIT = "admit"  # green arrow: pass
    REFUSE = "refuse"  # red cross: the reason says why
    CLOSED = "closed"  # out of service: no one passes here


class Banner(StrEnum):
    """A mode or state shown across the top of the screen."""

    NONE = "none"
    FLOW_CONTROL = "flow_control"
    EMERGENCY_OPEN = "emergency_open"
    OUT_OF_SERVICE = "out_of_service"
    OFFLINE = "offline"  # the gate works from its cache; shown small, for staff


@dataclass(frozen=True)
class GateView:
    """One screenful of a gate side."""

    direction: str  # "entry" or "exit"
    outcome: Outcome
    message: Words
    banner: Banner = Banner.NONE
    detail: str | None = None  # e.g. "G101  05车 12F号" under an admission
    reason: str | None = None  # the refusal's stable code, small, for staff
