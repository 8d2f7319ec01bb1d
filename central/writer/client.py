"""The writer as a link to the writer process (``central.writer.server``) of a split server.

One Unix-socket connection per HTTP process carries every request, each
tagged with an id so answers may come back in any batch. If the writer
process goes away, every request in flight fails with ``store_busy`` (503):
the client retries with the same Idempotency-Key, and the restarted writer
either finds the first attempt committed and replays its answer, or runs it.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from pathlib import Path
from typing import Any

from central.writer.base import Writer
from central.writer.commands import Command, Once, stored_answer
from central.writer.frames import FrameError, FrameReader, encode
from central.writer.once import StoredAnswer
from protocol.errors import ErrorCode, StationKitError

log = logging.getLogger(__name__)
READ_CHUNK = 256 * 1024
UNREACHABLE = "the store is not reachable now; retry with the same Idempotency-Key"


class WriterUnavailable(StationKitError):
    """The writer process cannot be reached, or went away with the request."""

    code = ErrorCode.STORE_BUSY


class WriterClient(Writer):
    """Sends commands to the writer process and awaits their answers."""

    def __init__(self, socket_path: Path) -> None:
        self.path = socket_path
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._writer: asyncio.StreamWriter | None = None
        self._reading: asyncio.Task[None] | None = None
        self._connecting = asyncio.Lock()

    async def mutate(self, command: Command, once: Once) -> StoredAnswer:
        return stored_answer(await self._request({**command.to_wire(), "once": once}))

    async def execute(self, command: Command) -> Any:
        return await self._request(command.to_wire())

    async def _request(self, request: dict[str, Any]) -> Any:
        """Send one request; its answer, or the ``StationKitError`` it was refused with."""
        writer = await self._connected()
        request_id = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        writer.write(encode({"id": request_id, **request}))
        reply = await future
        error = reply.get("error")
        if error is not None:
            raise StationKitError(error["message"], ErrorCode(error["code"]))
        return reply["ok"]

    async def close(self) -> None:
        """Close the connection; requests in flight fail."""
        if self._reading is not None:
            self._reading.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reading
        self._hang_up(WriterUnavailable("central is shutting down"))

    async def _connected(self) -> asyncio.StreamWriter:
        async with self._connecting:
            if self._writer is None:
                try:
                    reader, writer = await asyncio.open_unix_connection(str(self.path))
                except OSError as exc:
                    raise WriterUnavailable(UNREACHABLE) from exc
                self._writer = writer
                self._reading = asyncio.create_task(self._read(reader))
            return self._writer

    async def _read(self, reader: asyncio.StreamReader) -> None:
        frames = FrameReader()
        try:
            while data := await reader.read(READ_CHUNK):
                for reply in frames.feed(data):
                    future = self._pending.pop(reply.get("id"), None)
                    if future is not None and not future.done():
                        future.set_result(reply)
        except (OSError, FrameError) as exc:
            log.warning("writer connection failed: %s", exc)
        self._hang_up(WriterUnavailable(UNREACHABLE))

    def _hang_up(self, why: WriterUnavailable) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        pending, self._pending = self._pending, {}
        for future in pending.values():
            if not future.done():
                future.set_exception(why)
