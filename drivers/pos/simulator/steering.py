"""``TerminalScript``: steer a running terminal simulator with typed calls.

A thin layer over the control channel (``SimulatorProcess`` for whoever
started the simulator, ``SimulatorClient`` for anyone else) for tests, the
demo and the bench: each command waits for the event that confirms it, so
when a call returns, the simulator will act on it.
"""

from __future__ import annotations

from typing import Any, Protocol

from drivers.sim.control import Message

CONFIRM_TIMEOUT_S = 10.0


class Steering(Protocol):
    """What both ends of the control channel offer."""

    def send(self, command: str, **fields: Any) -> None:
        """Send one command."""

    def expect(self, event: str, timeout: float = 5.0, where: Any = None) -> Message:
        """Wait for an event and claim it."""

    def events(self, event: str | None = None) -> list[Message]:
        """Every event seen so far."""


class TerminalScript:
    """Typed commands for the Concert terminal simulator."""

    def __init__(self, steering: Steering) -> None:
        self.steering = steering

    def next(self, outcome: str, **fields: Any) -> None:
        """Queue the next transaction's outcome (approve, decline, timeout, drop, late, ...)."""
        self._command("next", "scripted", outcome=outcome, **fields)

    def card(self, masked: str, acquirer: str = "SIM-ACQUIRER") -> Message:
        """The card of the next approvals, as the terminal will send it."""
        return self._command("card", "card_set", masked=masked, acquirer=acquirer)

    def faults(self, **counts: int) -> None:
        """``nak_requests`` / ``corrupt_answers``: faults for the next n frames."""
        self._command("faults", "faults_set", **counts)

    def timing(self, **seconds: float) -> None:
        """``ack_timeout_s``, ``frame_timeout_s``, ``attempts`` of the terminal's side."""
        self._command("timing", "timing_set", **seconds)

    def totals(self) -> dict[str, int]:
        """The simulator's own totals."""
        event = self._command("totals", "totals")
        return {key: value for key, value in event.items() if key != "event"}

    def journal(self) -> list[dict[str, Any]]:
        """The simulator's journal (cards masked)."""
        entries: list[dict[str, Any]] = self._command("journal", "journal")["entries"]
        return entries

    def expect(self, event: str, timeout: float = CONFIRM_TIMEOUT_S, **fields: Any) -> Message:
        """Wait for an event whose fields include ``fields``, and claim it."""

        def matches(found: Message) -> bool:
            return all(found.get(key) == value for key, value in fields.items())

        return self.steering.expect(event, timeout, where=matches)

    def _command(self, command: str, echo: str, **fields: Any) -> Message:
        self.steering.send(command, **fields)
        return self.steering.expect(echo, CONFIRM_TIMEOUT_S)
