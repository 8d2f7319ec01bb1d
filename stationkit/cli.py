"""The ``stationkit`` command: a thin launcher over every floor.

It parses the command line and starts central, loads timetables, runs
operator commands or the demo, importing each side only when its command
runs. It holds no logic of its own.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import getpass
import json
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from protocol.timetable import TrainRunSpec

# a unit's standard output is its JSON event lines: pygame must not greet on it
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

DB_OPTION = click.option("--db", "db_url", default=None, help="SQLAlchemy URL of the store.")
CONFIG_OPTION = click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, exists=True),
    default=None,
    help="Central settings TOML file.",
)

DAY_WORDS = {"today": 0, "tomorrow": 1}
DAYS_AHEAD = re.compile(r"\+(\d{1,3})")


class _Commands(click.Group):
    """Every failure of a command ends as one clear line and exit status 1, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:
            raise click.ClickException(_explain(exc)) from exc


def _explain(exc: Exception) -> str:
    from protocol.errors import StationKitError

    while isinstance(exc, ExceptionGroup):  # a task group's failure: say what failed inside
        exc = exc.exceptions[0]
    if isinstance(exc, StationKitError):
        return f"{exc.code}: {exc.message}"
    if isinstance(exc, (ValueError, OSError, RuntimeError)):  # ours say what and where
        return _first_line(exc)
    return f"{type(exc).__name__}: {_first_line(exc)}"


class ServiceDay(click.ParamType[dt.date | int, Any]):
    """A service date: ``YYYY-MM-DD``, or days from today (``today``, ``tomorrow``, ``+N``).

    A relative date converts to its number of days; the command knows in
    which time zone "today" is meant (where the trains run).
    """

    name = "date"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> dt.date | int:
        if isinstance(value, (dt.date, int)):
            return value
        text = str(value).strip().lower()
        if text in DAY_WORDS:
            return DAY_WORDS[text]
        if matched := DAYS_AHEAD.fullmatch(text):
            return int(matched.group(1))
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            self.fail(f"{value!r} is not YYYY-MM-DD, today, tomorrow or +N", param, ctx)


@click.group(cls=_Commands)
def main() -> None:
    """StationKit: railway station ticketing."""


@main.group()
def central() -> None:
    """The central seat-allocation server."""


@central.command()
@DB_OPTION
@CONFIG_OPTION
@click.option("--host", default=None, help="Address to listen on (default 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port to listen on (default 8000).")
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=None,
    help="HTTP server processes sharing the port and the store (default: settings).",
)
@click.option(
    "--writer-process/--no-writer-process",
    default=None,
    help="One writer process changes the store for every HTTP process (default: settings).",
)
def serve(
    db_url: str | None,
    config_path: Path | None,
    host: str | None,
    port: int | None,
    workers: int | None,
    writer_process: bool | None,
) -> None:
    """Serve the HTTP API."""
    import os

    import uvicorn

    from central.settings import SETTINGS_ENV
    from central.writer.process import WriterProcess

    settings = _settings(config_path, database_url=db_url, host=host, port=port, workers=workers)
    if writer_process is not None:
        settings = settings.model_copy(update={"writer_process": writer_process})
    revision = _ready_store(settings.database_url)  # refuses a store not at this layout
    for line in _serve_banner(settings, revision):
        click.echo(line, err=True)
    supervisor = WriterProcess(settings) if settings.writer_process else None
    if supervisor is not None:
        socket_path = supervisor.start()
        settings = settings.model_copy(update={"writer_socket": str(socket_path)})
    os.environ[SETTINGS_ENV] = settings.model_dump_json()  # each worker process reads it
    try:
        uvicorn.run(
            "central.api.app:app_from_environment",
            factory=True,
            workers=settings.workers,
            host=settings.host,
            port=settings.port,
            log_level="warning",
            access_log=False,
        )
    finally:
        if supervisor is not None:
            supervisor.stop()


@central.command(hidden=True)
@click.option("--socket", "socket_path", type=click.Path(path_type=Path), required=True)
def writer(socket_path: Path) -> None:
    """The writer process of a split server (``serve`` starts it)."""
    import logging
    import os

    from central.settings import SETTINGS_ENV, CentralSettings
    from central.writer.server import serve as serve_writer

    if SETTINGS_ENV not in os.environ:
        raise click.ClickException("the writer process is started by `stationkit central serve`")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    serve_writer(CentralSettings.model_validate_json(os.environ[SETTINGS_ENV]), socket_path)


@central.command()
@DB_OPTION
@CONFIG_OPTION
def migrate(db_url: str | None, config_path: Path | None) -> None:
    """Upgrade the store to this StationKit's layout (before starting new servers)."""
    from central.store.database import connect
    from central.store.migrations import migrate as migrate_store

    engine = connect(_settings(config_path, database_url=db_url).database_url)
    try:
        done = migrate_store(engine)
    finally:
        engine.dispose()
    store = engine.url.render_as_string(hide_password=True)
    if done.before is None:
        click.echo(f"store {store}: new, laid out at revision {done.after}")
    elif done.before == done.after and not done.adopted:
        click.echo(f"store {store}: at revision {done.after} already, nothing to do")
    else:
        adopted = f"made before migrations, taken as revision {done.before}; "
        adopted = adopted if done.adopted else ""
        click.echo(f"store {store}: {adopted}migrated from revision {done.before} to {done.after}")


@central.command("load-timetable")
@click.argument("path", type=click.Path(path_type=Path, exists=True))
@DB_OPTION
@CONFIG_OPTION
@click.option(
    "--on",
    "on_day",
    type=ServiceDay(),
    default=None,
    help="Move every run to this service date: YYYY-MM-DD, today, tomorrow or +N (days "
    "from today where the trains run).",
)
def load_timetable(
    path: Path, db_url: str | None, config_path: Path | None, on_day: dt.date | int | None
) -> None:
    """Load a timetable file (JSON list of train runs) into the store."""
    from central.operating.timetable_file import read_timetable
    from central.writer.commands import LoadTrainRun

    on_date = _days_from_today(path, on_day) if isinstance(on_day, int) else on_day
    runs = read_timetable(path, on_date)
    with _local(config_path, db_url) as central:
        for spec in runs:
            loaded = central.writer.execute_now(LoadTrainRun(spec=spec, actor=_actor()))
            click.echo(f"loaded {spec.train} {spec.date} as run {loaded['run_id']}")
            _warn_if_departed(spec)


@central.command()
@click.argument("train")
@click.argument("service_date", type=click.DateTime(["%Y-%m-%d"]))
@DB_OPTION
@CONFIG_OPTION
@click.option(
    "--forecast",
    type=click.Path(path_type=Path, exists=True),
    default=None,
    help="JSON list of {from,to,class,passengers}; default: past sales.",
)
def preallocate(
    train: str,
    service_date: dt.datetime,
    db_url: str | None,
    config_path: Path | None,
    forecast: Path | None,
) -> None:
    """Run automatic pre-allocation for one train run now."""
    from central.writer.commands import Preallocate
    from protocol.messages import PreallocationRunRequest

    try:
        entries = json.loads(forecast.read_text()) if forecast is not None else None
        body = PreallocationRunRequest.model_validate({"forecast": entries})
    except ValueError as exc:
        raise click.ClickException(f"bad forecast file {forecast}: {_first_line(exc)}") from exc
    run = _on_run(train, service_date)
    _run(config_path, db_url, Preallocate(**run, request=body))


@central.command()
@click.argument("train")
@click.argument("service_date", type=click.DateTime(["%Y-%m-%d"]))
@DB_OPTION
@CONFIG_OPTION
def release(
    train: str, service_date: dt.datetime, db_url: str | None, config_path: Path | None
) -> None:
    """Release unsold pre-allocated seats of one run to the common pool now."""
    from central.writer.commands import Release

    _run(config_path, db_url, Release(**_on_run(train, service_date)))


@central.command()
@click.argument("train")
@click.argument("service_date", type=click.DateTime(["%Y-%m-%d"]))
@click.option("--from-quota", required=True)
@click.option("--to-quota", required=True)
@click.option("--seats", type=click.IntRange(min=1), required=True)
@click.option("--reason", required=True)
@DB_OPTION
@CONFIG_OPTION
def adjust(
    train: str,
    service_date: dt.datetime,
    from_quota: str,
    to_quota: str,
    seats: int,
    reason: str,
    db_url: str | None,
    config_path: Path | None,
) -> None:
    """Temporary adjustment: move seats between existing quotas (audited)."""
    from central.writer.commands import Adjust
    from protocol.messages import AdjustmentRequest

    req = AdjustmentRequest(from_quota=from_quota, to_quota=to_quota, seats=seats, reason=reason)
    _run(config_path, db_url, Adjust(**_on_run(train, service_date), adjustment=req))


@central.command("quotas")
@click.argument("train")
@click.argument("service_date", type=click.DateTime(["%Y-%m-%d"]))
@DB_OPTION
@CONFIG_OPTION
def quotas(
    train: str, service_date: dt.datetime, db_url: str | None, config_path: Path | None
) -> None:
    """Show a run's quotas."""
    from central.reads.queries import Reads

    with _local(config_path, db_url) as central:
        shown = Reads(central.engine, central.ctx).quotas(train, service_date.date())
    click.echo(json.dumps(shown, ensure_ascii=False, indent=2))


@central.command("rotate-key")
@CONFIG_OPTION
def rotate_key(config_path: Path | None) -> None:
    """Create the next ticket-signing key (old keys keep verifying)."""
    from central.signing import KeyStore

    settings = _settings(config_path)
    key = KeyStore(Path(settings.keys_dir)).rotate()
    click.echo(f"new signing key {key.key_id}; restart central to sign with it")


@main.command()
@click.option("--port", type=int, default=8731, help="Port for the demo's central server.")
@click.option("--keep", is_flag=True, help="Keep the demo's store under var/demo.")
def demo(port: int, keep: bool) -> None:
    """Central on SQLite with the demo timetable, and a scripted day of sales."""
    from stationkit.demo import run_demo

    sys.exit(run_demo(port=port, keep=keep))


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


def _settings(config_path: Path | None, **overrides: Any) -> Any:
    from central.settings import SettingsError, load_settings

    try:
        return load_settings(config_path, **overrides)
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc


@contextlib.contextmanager
def _local(config_path: Path | None, db_url: str | None) -> Iterator[Any]:
    """Open central's store and a writer thread for a CLI command, and close them."""
    from central.api.service import LocalCentral

    central = LocalCentral.open(_settings(config_path, database_url=db_url))
    try:
        yield central
    finally:
        central.close()


def _on_run(train: str, service_date: dt.datetime) -> dict[str, Any]:
    return {"train": train, "date": service_date.date(), "actor": _actor()}


def _run(config_path: Path | None, db_url: str | None, command: Any) -> None:
    """Run a writer command as the operator API does; print its answer."""
    with _local(config_path, db_url) as central:
        result = central.writer.execute_now(command)
    click.echo(json.dumps(result, ensure_ascii=False, indent=2, default=str))


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _days_from_today(path: Path, days: int) -> dt.date:
    """Today plus ``days`` where the timetable's trains run (its first departure's zone)."""
    from central.operating.timetable_file import read_timetable

    runs = read_timetable(path)
    first = runs[0].stops[0].depart if runs else None
    tz = first.tzinfo if first is not None else None  # none: this machine's zone
    return dt.datetime.now(tz).date() + dt.timedelta(days=days)


def _warn_if_departed(spec: TrainRunSpec) -> None:
    """Say so when a run loaded has left already: a newcomer's orders would all be too late."""
    departs = min(stop.depart for stop in spec.stops if stop.depart is not None)
    if departs <= dt.datetime.now(dt.UTC):
        click.echo(
            f"warning: {spec.train} {spec.date} has left already ({departs.isoformat()}): "
            "nothing of it can be sold; load it --on today, tomorrow, +N or YYYY-MM-DD",
            err=True,
        )


def _ready_store(url: str) -> str:
    """The store's revision if it is at this StationKit's layout (a new store is laid out)."""
    from central.store.database import connect
    from central.store.migrations import ready

    engine = connect(url)
    try:
        return ready(engine)
    finally:
        engine.dispose()


def _serve_banner(settings: Any, revision: str) -> list[str]:
    """What ``serve`` says at start: where, which store, which layout; no operator token."""
    from sqlalchemy.engine import make_url

    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    store = make_url(settings.database_url).render_as_string(hide_password=True)
    lines = [
        f"stationkit central on http://{host}:{settings.port}",
        f"  store:  {store} (revision {revision}, up to date)",
        f"  layout: {_layout(settings.writer_process, settings.workers)}",
    ]
    if not settings.operator_token:
        lines.append(
            "  warning: no operator token (STATIONKIT_OPERATOR_TOKEN or operator_token in the "
            "settings file): the operator API cannot be used"
        )
    return lines


def _layout(writer_process: bool, workers: int) -> str:
    http = f"{workers} HTTP worker process{'es' * (workers > 1)}"
    if writer_process:
        return f"split: a writer process and {http}"
    if workers == 1:
        return "one process with a writer thread"
    return f"{http}, each with a writer thread (they take turns on the store)"


def _add_units() -> None:
    from stationkit.gate_cli import gate
    from stationkit.tvm_cli import tvm

    main.add_command(gate)
    main.add_command(tvm)


_add_units()
