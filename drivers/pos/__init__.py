"""The TVM's bank card terminal over Ingenico's Concert protocol, and its simulator.

``framing`` (bytes to frames, no I/O), ``records`` and ``report`` (what the
frames say), ``link`` (Concert sessions on a serial line), ``terminal``
(``BankTerminal``, the domain class), ``results`` (what it returns),
``config`` (``BankTerminalConfig`` and ``open_bank_terminal``) and
``simulator`` (a terminal on a pty). docs/hardware/bank-pos.md tells the
whole story.
"""

from drivers.pos.config import BankTerminalConfig, open_bank_terminal
from drivers.pos.results import (
    Outcome,
    PaymentResult,
    TerminalHealth,
    TerminalTotals,
    check_transaction_id,
    new_transaction_id,
)
from drivers.pos.terminal import BankTerminal, ReversalRefused, UnresolvedTransaction

__all__ = [
    "BankTerminal",
    "BankTerminalConfig",
    "Outcome",
    "PaymentResult",
    "ReversalRefused",
    "TerminalHealth",
    "TerminalTotals",
    "UnresolvedTransaction",
    "check_transaction_id",
    "new_transaction_id",
    "open_bank_terminal",
]
