"""The FastAPI application of central.

The service (store, writer, reads) opens when the app starts and closes when
it stops; the writer keeps house on its own (``central.writer``).
"""

from __future__ import annotations

import contextlib
import gc
import os
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.telemetry import TelemetryConfig

from central.api import routes_operator, routes_sales, routes_tvm, routes_units
from central.api.access import BEARER_SCHEME, PUBLIC, Authenticator, Routes
from central.api.errors import install_error_handlers, json_response
from central.api.limits import BodyLimit
from central.api.service import CentralService
from central.sales.context import Clock, system_clock
from central.settings import SETTINGS_ENV, CentralSettings

# No OpenTelemetry here: its per-request hooks cost more than a seat allocation.
NO_TELEMETRY: TelemetryConfig = {
    "tracing": False,
    "metrics": False,
    "logs": False,
    "operation_spans": False,
}
health = Routes()


@health.get("/health", access=PUBLIC)
async def alive(_request: Request) -> Response:
    """The server is up and answering."""
    return json_response({"status": "ok"})


def app_from_environment() -> FastAPI:
    """The app for a server worker process, built from the settings `serve` resolved."""
    return create_app(CentralSettings.model_validate_json(os.environ[SETTINGS_ENV]))


def create_app(settings: CentralSettings, clock: Clock = system_clock) -> FastAPI:
    """Build central's app; the store opens when the app starts."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        svc = CentralService.start(settings, clock)
        app.state.service = svc
        app.state.authenticator = Authenticator(svc.engine, settings.operator_token)
        # What start-up built lives as long as the process: keep it out of the cyclic
        # collector's full scans, each of which stalls every request while it runs.
        gc.freeze()
        try:
            yield
        finally:
            await svc.stop()

    app = FastAPI(
        title="StationKit central",
        version="1",
        summary="Seat allocation and selling for every channel; ticket keys for the gates.",
        lifespan=lifespan,
        telemetry=NO_TELEMETRY,
    )
    install_error_handlers(app)
    app.add_middleware(BodyLimit)
    app.include_router(health)
    app.include_router(routes_sales.router)
    app.include_router(routes_operator.router)
    app.include_router(routes_units.router)
    app.include_router(routes_tvm.router)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's description, with the bearer scheme the routes' access declarations name."""
    if app.openapi_schema is None:
        schema = FastAPI.openapi(app)
        schemes = schema.setdefault("components", {}).setdefault("securitySchemes", {})
        schemes[BEARER_SCHEME] = {
            "type": "http",
            "scheme": "bearer",
            "description": "The operator token, or a device's token from POST /v1/devices.",
        }
        app.openapi_schema = schema
    return app.openapi_schema
