"""A cap on request bodies: nothing in the API needs more than a timetable.

Bodies above the cap are refused with 413 ``request_too_large`` before they
are read into memory, whether announced by Content-Length or streamed.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from central.api.errors import json_response
from protocol.errors import ErrorCode, error_body

MAX_BODY_BYTES = 2 * 1024 * 1024


class BodyTooLarge(Exception):
    """A streamed body went past the cap."""


class BodyLimit:
    """ASGI middleware refusing oversized request bodies."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._refuse(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                raise BodyTooLarge
            return message

        try:
            await self.app(scope, counted, send)
        except BodyTooLarge:
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = f"request body over {self.max_bytes} bytes"
        response = json_response(error_body(ErrorCode.REQUEST_TOO_LARGE, message), 413)
        await response(scope, receive, send)
