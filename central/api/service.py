"""The pieces one central process runs on: store, keys, clock, and its writer.

The writer is a thread of this process, or, in a split server, the writer
process reached over a Unix socket (``settings.writer_socket``). Handlers do
not care which: they name a writer command (``central.commands``) and await
its answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

from fastapi import Request
from sqlalchemy import Engine

from central.api.auth import Principal, authenticate
from central.api.idempotency import check_key, request_hash
from central.commands import Args, Once, WriterRequest, perform
from central.once import StoredAnswer
from central.run_cache import RunCache
from central.sales.context import Clock, SalesContext, system_clock
from central.settings import CentralSettings
from central.signing import KeyStore
from central.store.database import open_database
from central.writer import Writer
from central.writer_client import WriterClient

OPERATOR_ONLY = "this request needs the operator token"


@dataclass
class CentralService:
    """Everything a request handler needs, built once per process."""

    engine: Engine
    ctx: SalesContext
    writer: Writer | None  # the writer thread; None when a writer process is used
    remote: WriterClient | None = None

    @classmethod
    def start(cls, settings: CentralSettings, clock: Clock = system_clock) -> CentralService:
        """Open the store and keys; start the writer thread or connect to the writer process."""
        engine = open_database(settings.database_url)
        cache = RunCache()
        keys = KeyStore(Path(settings.keys_dir))
        ctx = SalesContext(settings, keys, cache, settings.refund_policy(), clock)
        if settings.writer_socket is not None:
            return cls(engine, ctx, None, WriterClient(Path(settings.writer_socket)))
        batch = settings.writer_batch if engine.dialect.name == "sqlite" else 1
        return cls(engine, ctx, Writer(engine, cache, batch))

    def stop(self) -> None:
        """Finish queued commands, close the store (after ``disconnect`` in async code)."""
        if self.writer is not None:
            self.writer.close()
        self.engine.dispose()

    async def disconnect(self) -> None:
        """Close the link to the writer process, if there is one."""
        if self.remote is not None:
            await self.remote.close()

    @property
    def local_writer(self) -> Writer:
        """The writer thread, for tools and tests that run commands in this process."""
        if self.writer is None:
            raise RuntimeError("this process sends its commands to the writer process")
        return self.writer

    def now(self) -> datetime:
        """The injected clock."""
        return self.ctx.now()

    def principal(self, request: Request) -> Principal:
        """Authenticate a request."""
        return authenticate(
            self.engine, self.ctx.settings.operator_token, request.headers.get("authorization")
        )

    async def mutate(
        self, request: Request, principal: Principal, status: int, command: str, args: Args
    ) -> StoredAnswer:
        """Run a mutating writer command once per Idempotency-Key, durably."""
        key = check_key(request.headers.get("idempotency-key"))
        # the path as sent (scope), not request.url: that rebuilds the whole URL per request
        fingerprint = request_hash(request.method, request.scope["path"], await request.body())
        once = Once(scope=principal.name, key=key, fingerprint=fingerprint, status=status)
        answer = await self._perform({"name": command, "args": args, "once": once})
        return StoredAnswer(answer["status"], answer["body"].encode())

    async def query(self, command: str, args: Args) -> Any:
        """Run a reading writer command (one that needs the live inventory); its JSON answer."""
        return await self._perform({"name": command, "args": args})

    async def _perform(self, request: WriterRequest) -> Any:
        if self.remote is not None:
            return await self.remote.request(request)
        if self.writer is None:
            raise RuntimeError("this central service has neither a writer thread nor a process")
        return await self.writer.run(partial(perform, ctx=self.ctx, request=request))
