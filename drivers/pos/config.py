"""The bank terminal's section of a unit's profile, and the builder that opens it.

``backend = "concert"`` opens a real terminal's serial line at ``url`` (a
device path such as ``/dev/ttyACM0``, a stable ``/dev/serial/by-id/...``
link, ``socket://host:port`` or ``spy://...`` for field debugging).
``backend = "sim"`` starts the terminal simulator (``python -m
drivers.pos.simulator``) as a process of its own, takes the line it
announces, and opens the very same Concert backend on it: only the line's
far end differs.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from drivers.pos.link import ConcertLink, LinkTiming, PyserialPort
from drivers.pos.terminal import BankTerminal, TerminalSettings
from drivers.sim.control import SimulatorProcess

SIMULATOR_MODULE = "drivers.pos.simulator"
Baudrate = Literal[1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200]


class BankTerminalConfig(BaseModel):
    """``[bank_terminal]`` in a TVM profile: every key typed and ranged, unknown keys refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    backend: Literal["concert", "sim"]
    url: str | None = None  # concert only: the sim announces its own line
    baudrate: Baudrate = 9600  # ignored on a pty and on USB (ttyACM) lines
    line: Literal["8N1", "7E1"] = "8N1"  # 7E1 for terminals on a native RS-232 port
    pos_number: Annotated[int, Field(strict=True, ge=1, le=99)] = 1  # Concert's register number
    currency: Annotated[int, Field(strict=True, ge=1, le=999)]  # numeric ISO 4217: 156 = CNY
    # the merchant contract's acquirer, reported with approvals whose answer names none
    acquirer: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    ack_timeout_s: Annotated[float, Field(ge=0.05, le=10)] = 2.0
    frame_timeout_s: Annotated[float, Field(ge=0.05, le=10)] = 3.0
    answer_timeout_s: Annotated[float, Field(ge=0.5, le=600)] = 120.0
    status_timeout_s: Annotated[float, Field(ge=0.5, le=120)] = 10.0
    max_attempts: Annotated[int, Field(strict=True, ge=1, le=5)] = 3
    control_socket: str | None = None  # sim only: where tests and the demo steer it

    @model_validator(mode="after")
    def _backend_keys(self) -> Self:
        if self.backend == "concert" and self.url is None:
            raise ValueError("backend 'concert' needs url (the terminal's serial line)")
        if self.backend == "concert" and self.control_socket is not None:
            raise ValueError("control_socket is for backend 'sim' only")
        if self.backend == "sim" and self.url is not None:
            raise ValueError("backend 'sim' takes no url: the simulator announces its line")
        if self.backend == "sim" and self.line != "8N1":
            raise ValueError("backend 'sim' runs on a pty, which carries 8N1 only")
        return self

    def timing(self) -> LinkTiming:
        """The link's timeouts and retry bound."""
        return LinkTiming(self.ack_timeout_s, self.frame_timeout_s, self.max_attempts)

    def settings(self) -> TerminalSettings:
        """What the domain class needs."""
        return TerminalSettings(
            pos_number=self.pos_number,
            currency=self.currency,
            answer_timeout_s=self.answer_timeout_s,
            status_timeout_s=self.status_timeout_s,
            acquirer=self.acquirer,
        )


def open_bank_terminal(config: BankTerminalConfig) -> BankTerminal:
    """Open the terminal the profile names (blocks briefly: call it at start-up).

    A missing device raises DeviceUnavailable; a simulator that does not
    start raises SimulatorError.
    """
    if config.backend == "concert":
        assert config.url is not None  # the validator saw to it
        return _open_concert(config, config.url)
    return _open_simulated(config)


def _open_concert(
    config: BankTerminalConfig, url: str, on_close: Callable[[], None] | None = None
) -> BankTerminal:
    line = config.line
    link = ConcertLink(lambda: PyserialPort(url, config.baudrate, line), config.timing())
    return BankTerminal(link, config.settings(), on_close=on_close)


def _open_simulated(config: BankTerminalConfig) -> BankTerminal:
    args = [] if config.control_socket is None else ["--control-socket", config.control_socket]
    simulator = SimulatorProcess(SIMULATOR_MODULE, *args)
    ready = simulator.start()
    try:
        return _open_concert(config, str(ready["path"]), on_close=simulator.stop)
    except BaseException:
        with contextlib.suppress(Exception):
            simulator.stop()
        raise
