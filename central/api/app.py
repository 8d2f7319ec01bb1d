"""The FastAPI application of central, and its housekeeping loop.

Housekeeping runs through the same writer as requests: expiring held orders
(their seats go back) and the scheduled pre-allocation and releases.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
from collections.abc import AsyncIterator
from functools import partial

from fastapi import FastAPI
from fastapi.telemetry import TelemetryConfig

from central.api import routes_operator, routes_sales
from central.api.errors import install_error_handlers
from central.api.limits import BodyLimit
from central.api.service import CentralService
from central.housekeeping import chores, report
from central.sales.context import Clock, system_clock
from central.settings import SETTINGS_ENV, CentralSettings

log = logging.getLogger(__name__)
# No OpenTelemetry here: its per-request hooks cost more than a seat allocation.
NO_TELEMETRY: TelemetryConfig = {
    "tracing": False,
    "metrics": False,
    "logs": False,
    "operation_spans": False,
}


def app_from_environment() -> FastAPI:
    """The app for a server worker process, built from the settings `serve` resolved."""
    return create_app(CentralSettings.model_validate_json(os.environ[SETTINGS_ENV]))


def create_app(settings: CentralSettings, clock: Clock = system_clock) -> FastAPI:
    """Build central's app; the store opens when the app starts."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        svc = CentralService.start(settings, clock)
        app.state.service = svc
        # What start-up built lives as long as the process: keep it out of the cyclic
        # collector's full scans, each of which stalled every request for ~60 ms.
        gc.freeze()
        # A split server's writer process keeps house for every HTTP process.
        task = None if svc.writer is None else asyncio.create_task(_housekeeping(svc))
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await svc.disconnect()
            svc.stop()

    app = FastAPI(
        title="StationKit central",
        version="1",
        summary="Seat allocation and selling for every channel; ticket keys for the gates.",
        lifespan=lifespan,
        telemetry=NO_TELEMETRY,
    )
    install_error_handlers(app)
    app.add_middleware(BodyLimit)
    app.include_router(routes_sales.selling)
    app.include_router(routes_sales.router)
    app.include_router(routes_operator.router)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


async def _housekeeping(svc: CentralService) -> None:
    """Run the housekeeping chores through the writer thread every few seconds."""
    writer = svc.writer
    if writer is None:
        return
    while True:
        await asyncio.sleep(svc.ctx.settings.housekeeping_seconds)
        try:
            report(*await writer.run(partial(chores, ctx=svc.ctx)))
        except Exception:
            log.exception("housekeeping failed; retrying at the next interval")
