"""``stationkit tvm ...``: enrol a ticket vending machine, run it, play a passenger's journey.

A thin launcher: it reads the profile (the ``[kiosk]`` section belongs to
``ui``, above ``device``), builds the TVM's composition root, and runs the
runtime with the touchscreen kiosk on one asyncio loop. ``--script`` plays a
scripted journey as touches on the real screens, headless, each step a JSON
line on standard output beside the machine's own events; the exit status
says whether the journey went as written. Logs go to standard error.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from stationkit.unit_process import logged

if TYPE_CHECKING:
    from device.tvm.unit import Tvm
    from ui.tvm.journey import JourneyReport
    from ui.tvm.kiosk import Kiosk

CONFIG = click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help="The TVM's profile (TOML).",
)
LOG_FORMAT = "%(levelname)s %(name)s: %(message)s"
JOURNEY_FAILED = 1


@click.group()
def tvm() -> None:
    """The ticket vending machine unit."""


@tvm.command()
@click.option("--central", "central_url", required=True, help="Central's base URL.")
@click.option("--code", required=True, help="The one-time enrolment code from the operator.")
@CONFIG
def enrol(central_url: str, code: str, config_path: Path) -> None:
    """Exchange a one-time enrolment code for this TVM's credential."""
    from device.tvm.unit import enrol_tvm

    profile = _profile(config_path)
    answer = asyncio.run(enrol_tvm(profile, central_url, code.strip().upper()))
    click.echo(f"enrolled as {answer.device_id} ({answer.kind} at {answer.station})")


@tvm.command()
@CONFIG
@click.option(
    "--script",
    "script_path",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="Play this passenger's journey (TOML or JSON) on the screens, then stop.",
)
@click.option(
    "--screens",
    type=click.Path(path_type=Path, file_okay=False),
    help="Save every screen shown here as a PNG (overrides the kiosk's screenshot_dir).",
)
@click.option(
    "--linger",
    is_flag=True,
    help="After the journey, keep running until stopped (to read the simulators' state).",
)
def run(config_path: Path, script_path: Path | None, screens: Path | None, linger: bool) -> None:
    """Run the TVM until SIGTERM or SIGINT, or until its scripted journey ends."""
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format=LOG_FORMAT)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request is noise
    profile = _profile(config_path)
    journey = None
    if script_path is not None:
        from ui.tvm.journey_file import load_journey

        journey = load_journey(script_path)  # a bad script stops before anything starts
    sys.exit(logged(lambda: asyncio.run(_run(profile, journey, screens, linger))))


async def _run(profile: Any, journey: Any, screens: Path | None, linger: bool) -> int:
    from device.tvm.unit import build_tvm

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    kiosk = _kiosk(profile, screens, scripted=journey is not None)
    machine = await build_tvm(profile)
    try:
        if kiosk is not None:
            machine.views.subscribe(kiosk.show)
        return await _serve(profile, machine, kiosk, journey, stop, linger)
    finally:
        await machine.close()
        if kiosk is not None:
            kiosk.close()


async def _serve(
    profile: Any,
    machine: Tvm,
    kiosk: Kiosk | None,
    journey: Any,
    stop: asyncio.Event,
    linger: bool,
) -> int:
    """The runtime and the kiosk until stopped; with a journey, until it is played."""
    from ui.tvm.loop import run_kiosk

    tasks = {asyncio.create_task(machine.runtime.run(), name="tvm-runtime")}
    if kiosk is not None:
        tasks.add(asyncio.create_task(run_kiosk(kiosk, machine.runtime.handle, stop)))
    ending: asyncio.Task[JourneyReport | None] = asyncio.create_task(
        _stopped(stop) if journey is None else _play(profile, machine, kiosk, journey, linger, stop)
    )
    try:
        done, _ = await asyncio.wait({*tasks, ending}, return_when=asyncio.FIRST_COMPLETED)
        for task in done - {ending}:
            task.result()  # the runtime or kiosk ended by itself: a crash, raise it
        report = await ending  # stopped meanwhile: the journey ends at once
    finally:
        stop.set()
        for task in (*tasks, ending):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
    return 0 if report is None or report.ok else JOURNEY_FAILED


async def _stopped(stop: asyncio.Event) -> None:
    await stop.wait()


async def _play(
    profile: Any,
    machine: Tvm,
    kiosk: Kiosk | None,
    journey: Any,
    linger: bool,
    stop: asyncio.Event,
) -> JourneyReport:
    from stationkit.tvm_hand import SimulatedHand
    from ui.tvm.journey import JourneyPlayer

    assert kiosk is not None  # a scripted run always has its kiosk
    await machine.runtime.ready.wait()
    hand = None
    if profile.printer.sim.output_dir is not None and profile.scanner.control_socket is not None:
        terminal = profile.bank_terminal.control_socket
        hand = SimulatedHand(
            profile.printer.sim.output_dir,
            profile.scanner.control_socket,
            None if terminal is None else Path(terminal),
        )
    report = await JourneyPlayer(kiosk, hand, card=hand).play(journey)
    for result in report.results:
        machine.events.emit(
            "journey_step",
            number=result.number,
            step=result.step,
            ok=result.ok,
            screen=result.screen,
            message=result.message,
            detail=result.detail,
            seconds=round(result.seconds, 3),
        )
    played = len(report.results)
    machine.events.emit(
        "journey_done", name=report.name, ok=report.ok, played=played, steps=report.steps
    )
    if linger:
        await stop.wait()
    return report


def _profile(config_path: Path) -> Any:
    from device.tvm.profile import load_tvm_profile
    from ui.tvm.config import KioskConfig

    return load_tvm_profile(config_path, {"kiosk": KioskConfig})


def _kiosk(profile: Any, screens: Path | None, scripted: bool) -> Kiosk | None:
    """The touchscreen the profile asks for; a scripted journey always has one, headless."""
    from ui.tvm.config import KioskConfig
    from ui.tvm.kiosk import Kiosk

    config = profile.extra.get("kiosk")
    if config is None and not scripted:
        return None
    config = config or KioskConfig()
    changes: dict[str, Any] = {}
    if screens is not None:
        changes["screenshot_dir"] = screens
    if scripted:
        changes["windowed"] = False
    return Kiosk(config.model_copy(update=changes))
