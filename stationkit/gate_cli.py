"""``stationkit gate ...``: enrol a gate, run it, switch its mode, read its health.

A thin launcher: it reads the profile, hands the screen section (which lives
in ``ui``, above ``device``) to the profile loader, and starts the gate's
composition root. Decisions go to standard output as JSON lines; logs go to
standard error.
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import sys
from pathlib import Path
from typing import Any

import click

from stationkit.unit_process import logged

CONFIG = click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help="The gate's profile (TOML).",
)
LOG_FORMAT = "%(levelname)s %(name)s: %(message)s"
MODES = ("in_service", "flow_control", "out_of_service", "emergency_open")


@click.group()
def gate() -> None:
    """The ticket gate unit."""


@gate.command()
@click.option("--central", "central_url", required=True, help="Central's base URL.")
@click.option("--code", required=True, help="The one-time enrolment code from the operator.")
@CONFIG
def enrol(central_url: str, code: str, config_path: Path) -> None:
    """Exchange a one-time enrolment code for this gate's credential."""
    from device.gate.unit import enrol_gate

    profile = _profile(config_path)
    answer = asyncio.run(enrol_gate(profile, central_url, code.strip().upper()))
    where = f"{answer.station}" + (f", gate group {answer.gate_group}" if answer.gate_group else "")
    click.echo(f"enrolled as {answer.device_id} ({answer.kind} at {where})")


@gate.command()
@CONFIG
def run(config_path: Path) -> None:
    """Run the gate until SIGTERM or SIGINT."""
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format=LOG_FORMAT)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request is noise
    profile = _profile(config_path)
    sys.exit(logged(lambda: asyncio.run(_run(profile))))


async def _run(profile: Any) -> int:
    from device.gate.unit import build_gate, run_until_stopped

    screen = _screen(profile)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    gate = await build_gate(profile, None if screen is None else screen.show)
    try:
        await run_until_stopped(gate, stop)
    finally:
        if screen is not None:
            screen.close()
    return 0


@gate.command()
@click.argument("mode", type=click.Choice(MODES))
@CONFIG
def mode(mode: str, config_path: Path) -> None:
    """Switch the gate's mode (a running gate applies it within a second)."""
    import datetime as dt

    from offline_store.passages import UnitMode
    from offline_store.store import UnitStore

    profile = _profile(config_path)
    with UnitStore.open(profile.unit.store, profile.store) as store:
        store.state.set_mode(UnitMode(mode), dt.datetime.now(dt.UTC))
    click.echo(f"mode set to {mode}")


@gate.command()
@CONFIG
def health(config_path: Path) -> None:
    """Print the running gate's last health report."""
    profile = _profile(config_path)
    path = profile.unit.store.with_name("health.json")
    try:
        report = json.loads(path.read_text())
    except FileNotFoundError:
        raise click.ClickException(f"{path}: no health report yet (is the gate running?)") from None
    click.echo(json.dumps(report, ensure_ascii=False, indent=2))


def _profile(config_path: Path) -> Any:
    from device.profile import load_gate_profile

    return load_gate_profile(config_path, _screen_sections())


def _screen_sections() -> dict[str, Any]:
    from ui.gate_display_config import GateDisplayConfig

    return {"display": GateDisplayConfig}


def _screen(profile: Any) -> Any:
    config = profile.extra.get("display")
    if config is None or not getattr(config, "enabled", True):
        return None
    from ui.gate_display import GateDisplay

    return GateDisplay.from_config(config)
