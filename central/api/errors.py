"""Errors as the API answers them: ``{"error": {"code", "message"}}`` with a 4xx status.

Every failure is mapped here, including FastAPI's own (validation, unknown
route, wrong method), so no input makes the server answer with anything but
this shape; an unexpected exception is logged and answered 500 ``internal``.
"""

from __future__ import annotations

import logging

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from central.sales.refunds import RefundTooLate
from protocol.errors import ErrorCode, StationKitError, error_body, status_for

log = logging.getLogger(__name__)


def json_response(body: object, status: int = 200) -> Response:
    """A JSON answer serialised with orjson."""
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


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
    problems = []
    for error in exc.errors()[:5]:
        where = ".".join(str(part) for part in error.get("loc", ()) if part != "body")
        problems.append(
            f"{where}: {error.get('msg', 'invalid')}" if where else error.get("msg", "")
        )
    return error_response(ErrorCode.VALIDATION_FAILED, "; ".join(problems) or "invalid request")


async def _on_http_error(_request: Request, exc: StarletteHTTPException) -> Response:
    code = {404: ErrorCode.NOT_FOUND, 405: ErrorCode.METHOD_NOT_ALLOWED}.get(
        exc.status_code, ErrorCode.BAD_REQUEST
    )
    return json_response(error_body(code, str(exc.detail)), exc.status_code)


async def _on_unexpected(_request: Request, exc: Exception) -> Response:
    if isinstance(exc, RefundTooLate):
        return error_response(ErrorCode.TOO_LATE, str(exc))
    log.exception("unexpected error", exc_info=exc)
    return error_response(ErrorCode.INTERNAL, "internal error; the request changed nothing")
