"""The ticket gate's mechanism: flap relays, passage sensors, lamps and buzzer on gpiozero.

``open_gate(GateMechanismConfig(...))`` gives a ``GateMechanism`` with every
flap locked: ``open``/``lock`` the flaps, ``emergency_open`` and
``end_emergency``, ``show`` a lamp, ``beep`` a pattern, await
``wait_passage``, ``subscribe`` to every passage, read ``health()`` and
``close()`` it at shutdown (everything de-energised).
"""

from drivers.gate_mechanism.backends import gpio_pin_factory, open_gate
from drivers.gate_mechanism.board import GateBoard, Lamp
from drivers.gate_mechanism.config import (
    BeepPattern,
    Direction,
    DirectionPins,
    GateMechanismConfig,
    LampPins,
)
from drivers.gate_mechanism.mechanism import GateHealth, GateMechanism, Passage, Subscription
from drivers.gate_mechanism.simulator import GateSimulator, ObservedMockFactory

__all__ = [
    "BeepPattern",
    "Direction",
    "DirectionPins",
    "GateBoard",
    "GateHealth",
    "GateMechanism",
    "GateMechanismConfig",
    "GateSimulator",
    "Lamp",
    "LampPins",
    "ObservedMockFactory",
    "Passage",
    "Subscription",
    "gpio_pin_factory",
    "open_gate",
]
