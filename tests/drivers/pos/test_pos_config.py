"""BankTerminalConfig is strict, and open_bank_terminal builds each backend or fails clearly."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from drivers.errors import DeviceUnavailable
from drivers.pos.config import BankTerminalConfig, open_bank_terminal
from drivers.pos.results import Outcome, new_transaction_id

CONCERT = {"backend": "concert", "url": "/dev/ttyACM0", "currency": 156}


def test_a_concert_section_with_defaults() -> None:
    config = BankTerminalConfig.model_validate(CONCERT)
    assert (config.baudrate, config.line, config.pos_number, config.max_attempts) == (
        9600,
        "8N1",
        1,
        3,
    )
    assert (config.ack_timeout_s, config.frame_timeout_s, config.answer_timeout_s) == (
        2.0,
        3.0,
        120.0,
    )


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"speed": 9600}, "Extra inputs are not permitted"),
        ({"baudrate": 9601}, "baudrate"),
        ({"pos_number": 0}, "pos_number"),
        ({"pos_number": "1"}, "pos_number"),
        ({"currency": 1000}, "currency"),
        ({"ack_timeout_s": 0}, "ack_timeout_s"),
        ({"answer_timeout_s": 601}, "answer_timeout_s"),
        ({"max_attempts": 6}, "max_attempts"),
        ({"line": "7N2"}, "line"),
        ({"url": None}, "needs url"),
        ({"control_socket": "/tmp/x.sock"}, "for backend 'sim' only"),
        ({"backend": "sim"}, "takes no url"),
        ({"backend": "zvt"}, "backend"),
    ],
)
def test_a_wrong_key_is_refused_by_name(change: dict[str, Any], complaint: str) -> None:
    with pytest.raises(ValidationError, match=complaint):
        BankTerminalConfig.model_validate({**CONCERT, **change})


def test_currency_has_no_default() -> None:
    with pytest.raises(ValidationError, match="currency"):
        BankTerminalConfig.model_validate({"backend": "sim"})


def test_the_simulator_runs_8n1_only() -> None:
    with pytest.raises(ValidationError, match="8N1 only"):
        BankTerminalConfig(backend="sim", currency=156, line="7E1")


def test_a_missing_device_stops_start_up_with_a_clear_error(tmp_path: Path) -> None:
    config = BankTerminalConfig(backend="concert", url=str(tmp_path / "ttyACM0"), currency=156)
    with pytest.raises(DeviceUnavailable, match="ttyACM0"):
        open_bank_terminal(config)


def test_the_sim_backend_runs_without_a_control_socket() -> None:
    terminal = open_bank_terminal(BankTerminalConfig(backend="sim", currency=156))

    async def pay_and_close() -> Outcome:
        try:
            return (await terminal.sale(100, new_transaction_id())).outcome
        finally:
            await terminal.close()

    assert asyncio.run(pay_and_close()) is Outcome.APPROVED
    assert not terminal.health().is_open
