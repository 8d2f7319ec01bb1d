"""What this machine's HTTP stack answers at best: the ceiling beside the sales figure.

Two apps that answer every sale request with a constant 201 and do nothing
else are served by the same uvicorn, with the same options, as
``stationkit central serve``, and driven by the same ``wrk`` script (holds), clients
and duration as the sales benchmark:

- ``fastapi_noop``: a FastAPI route that reads the body and answers. No
  request handled by FastAPI on this machine can go faster.
- ``asgi_noop``: the bare ASGI callable on the same server, without any
  framework: what uvicorn and the loopback cost by themselves.

With each one's CPU per request, these say how much of one core the HTTP
half of a sale can never get below here, whatever the store does; the
writer's own ceiling is ``central.writer_holds_per_s``.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import tempfile
from pathlib import Path

from fastapi import FastAPI, Request, Response
from starlette.types import Receive, Scope, Send

from bench.http_bench import CONNECTIONS, DURATION_S, cpu_seconds
from bench.wrk import BenchError, run_sales
from central.api.app import NO_TELEMETRY
from stationkit.processes import free_port, wait_answering

ANSWER = b'{"order_id":"noop"}'
APPS = {"fastapi": "bench.ceiling:fastapi_noop", "asgi": "bench.ceiling:asgi_noop"}

fastapi_noop = FastAPI(telemetry=NO_TELEMETRY)  # as central's app is built


@fastapi_noop.get("/health")
async def health() -> dict[str, str]:
    """Up: the start-up wait asks here, as it asks central."""
    return {"status": "ok"}


@fastapi_noop.post("/v1/orders", status_code=201)
async def noop_order(request: Request) -> Response:
    """Read the body and answer a constant, as cheaply as FastAPI allows."""
    await request.body()
    return Response(ANSWER, status_code=201, media_type="application/json")


async def asgi_noop(scope: Scope, receive: Receive, send: Send) -> None:
    """The same answer with no framework at all (200 to the start-up wait's GET)."""
    if scope["type"] != "http":
        return
    status = 200 if scope["method"] == "GET" else 201
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    headers = [(b"content-type", b"application/json")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": ANSWER})


def serve(app: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    """uvicorn on ``app`` with ``serve``'s options; returns once it answers."""
    command = [sys.executable, "-m", "uvicorn", app, "--port", str(port)]
    command += ["--log-level", "warning", "--no-access-log"]
    with log.open("ab") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_answering(process, f"http://127.0.0.1:{port}/health", app)
    except RuntimeError as exc:
        process.kill()
        raise BenchError(f"{exc}: {log.read_text()}") from None
    return process


def measure_app(name: str, date: dt.date, seconds: int, workdir: Path) -> dict[str, float]:
    """Requests per second and the server's CPU per request for one no-op app."""
    port = free_port()
    process = serve(APPS[name], port, workdir / f"ceiling-{name}.log")
    try:
        before = cpu_seconds(process.pid)
        report = run_sales(f"http://127.0.0.1:{port}", "hold", "C", seconds, date, CONNECTIONS)
        used = cpu_seconds(process.pid) - before
    finally:
        process.terminate()
        process.wait(timeout=15)
    answered = report.count("hold", 201)
    if answered == 0 or answered != report.requests:
        raise BenchError(f"{name}: {answered} of {report.requests} requests answered 201")
    return {
        f"central.http_ceiling_{name}_per_s": answered / report.seconds,
        f"central.http_ceiling_{name}_cpu_us": used / answered * 1e6,
    }


def run(date: dt.date, seconds: int = DURATION_S) -> dict[str, float]:
    """Both ceilings, measured one after the other with ``CONNECTIONS`` wrk clients."""
    with tempfile.TemporaryDirectory(prefix="stationkit-ceiling-") as workdir:
        results = {"central.http_ceiling_connections": float(CONNECTIONS)}
        for name in APPS:
            results.update(measure_app(name, date, seconds, Path(workdir)))
        return results
