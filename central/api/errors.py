"""Errors as the API answers them: ``{"error": {"code", "message"}}`` with a 4xx status.

Every failure is mapped here, including FastAPI's own (validation, unknown
route, wrong method), so no input makes the server answer with anything but
this shape; an unexpected exception is logged and answered 500 ``internal``.
A validation message lists up to five problems, each ``where: what``; no part
of it quotes more than a few dozen characters of what was sent. A 405 names
the methods the path has in its ``Allow`` header.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

from protocol.errors import ErrorCode, StationKitError, error_body, status_for
from protocol.fields import SHOWN_CHARACTERS, shown

log = logging.getLogger(__name__)
MAX_PROBLEMS = 5
MAX_PROBLEM_CHARACTERS = 2000  # a whole timetable's problems fit; a 1 MiB value does not
HTTP_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})


def json_response(
    body: object, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """A JSON answer serialised with orjson."""
    return Response(
        orjson.dumps(body), status_code=status, media_type="application/json", headers=headers
    )


def error_response(code: ErrorCode, message: str) -> Response:
    """An error answer with its status."""
    return json_response(error_body(code, message), status_for(code))


def install_error_handlers(app: FastAPI) -> None:
    """Route every exception to the one error shape."""
    app.add_exception_handler(StationKitError, _on_stationkit_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _on_validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _on_http_error)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _on_unexpected)


async def _on_stationkit_error(_request: Request, exc: StationKitError) -> Response:
    return error_response(exc.code, exc.message)


async def _on_validation_error(_request: Request, exc: RequestValidationError) -> Response:
    problems = [problem(error) for error in exc.errors()[:MAX_PROBLEMS]]
    return error_response(ErrorCode.VALIDATION_FAILED, "; ".join(problems) or "invalid request")


def problem(error: dict[str, Any]) -> str:
    """One validation error as ``where: what``, every part of it cut short."""
    where = ".".join(_place(part) for part in error.get("loc", ()) if part != "body")
    what = str(error.get("msg", "invalid"))
    if len(what) > MAX_PROBLEM_CHARACTERS:
        what = what[:MAX_PROBLEM_CHARACTERS] + "…"
    return f"{where}: {what}" if where else what


def _place(part: object) -> str:
    """A step of an error's location; a key that was sent (an unknown one) is quoted short."""
    text = str(part)
    return shown(text) if len(text) > SHOWN_CHARACTERS else text


async def _on_http_error(request: Request, exc: StarletteHTTPException) -> Response:
    code = {404: ErrorCode.NOT_FOUND, 405: ErrorCode.METHOD_NOT_ALLOWED}.get(
        exc.status_code, ErrorCode.BAD_REQUEST
    )
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(allowed_methods(request, headers.get("Allow", "")))
    return json_response(error_body(code, str(exc.detail)), exc.status_code, headers)


def allowed_methods(request: Request, routed: str) -> list[str]:
    """Every method the request's path has: as the schema describes it, and as routed.

    Starlette names only the methods of the one route it matched (``routed``);
    a path such as ``/v1/train-runs`` has a route per method.
    """
    methods = {method.strip() for method in routed.split(",") if method.strip()}
    for template, item in request.app.openapi()["paths"].items():
        if compile_path(template)[0].match(request.scope["path"]):
            methods |= {method.upper() for method in item if method in HTTP_METHODS}
    return sorted(methods)


async def _on_unexpected(_request: Request, exc: Exception) -> Response:
    log.exception("unexpected error", exc_info=exc)
    return error_response(ErrorCode.INTERNAL, "internal error; the request changed nothing")
