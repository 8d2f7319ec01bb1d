"""The TVM's bank card terminal over Ingenico's Concert protocol, and its simulator.

``framing`` (bytes to frames, no I/O), ``records`` and ``report`` (what the
frames say), ``link`` (Concert sessions on a serial line), ``terminal``
(``BankTerminal``, the domain class), ``results`` (what it returns),
``config`` (``BankTerminalConfig`` and ``open_bank_terminal``) and
``simulator`` (a terminal on a pty). docs/hardware/bank-pos.md tells the
whole story. Import from the modules: this package imports nothing, so the
simulator process starts without the driver's dependencies.
"""
