"""The pieces one central process runs on: store, keys, clock, its writer and its reads.

The writer is a thread of this process, or, in a split server, the link to
the writer process (``settings.writer_socket``); handlers do not care which:
they build a command (``central.writer.commands``) and await its answer.
Tools in one process (the CLI, tests, benchmarks) open a ``LocalCentral``,
whose writer is always a thread they can call directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from fastapi import Request
from sqlalchemy import Engine

from central.api.idempotency import check_key, request_hash
from central.reads.queries import Reads
from central.sales.context import Clock, SalesContext, system_clock
from central.settings import CentralSettings
from central.signing import KeyStore
from central.store.database import open_database
from central.store.run_cache import RunCache
from central.writer.base import Writer
from central.writer.client import WriterClient
from central.writer.commands import Command, Once
from central.writer.once import StoredAnswer
from central.writer.thread import WriterThread


def _context(settings: CentralSettings, clock: Clock) -> tuple[Engine, SalesContext]:
    engine = open_database(settings.database_url)
    keys = KeyStore(Path(settings.keys_dir))
    return engine, SalesContext(settings, keys, RunCache(), settings.refund_policy(), clock)


def _batch(settings: CentralSettings, engine: Engine) -> int:
    # PostgreSQL sellers lock rows of their own runs: batching would only serialise them
    return settings.writer_batch if engine.dialect.name == "sqlite" else 1


@dataclass
class CentralService:
    """Everything a request handler needs, built once per process."""

    engine: Engine
    ctx: SalesContext
    writer: Writer
    reads: Reads

    @classmethod
    def start(cls, settings: CentralSettings, clock: Clock = system_clock) -> CentralService:
        """Open the store and keys; start the writer thread or link to the writer process."""
        engine, ctx = _context(settings, clock)
        writer: Writer
        if settings.writer_socket is not None:
            writer = WriterClient(Path(settings.writer_socket))  # that process keeps house
        else:
            every = settings.housekeeping_seconds
            writer = WriterThread(engine, ctx, _batch(settings, engine), chores_every_s=every)
        return cls(engine, ctx, writer, Reads(engine, ctx))

    async def stop(self) -> None:
        """Finish or fail what is in flight, then close the store."""
        await self.writer.close()
        self.engine.dispose()

    def now(self) -> datetime:
        """The injected clock."""
        return self.ctx.now()

    async def mutate(
        self, request: Request, scope: str, status: int, command: Command
    ) -> StoredAnswer:
        """Run a mutation once per Idempotency-Key (scoped to the caller), durably."""
        key = check_key(request.headers.get("idempotency-key"))
        # the path as sent (scope), not request.url: that rebuilds the whole URL per request
        fingerprint = request_hash(request.method, request.scope["path"], await request.body())
        once = Once(scope=scope, key=key, fingerprint=fingerprint, status=status)
        return await self.writer.mutate(command, once)


@dataclass
class LocalCentral:
    """Central's store and a writer thread for tools running in one process."""

    engine: Engine
    ctx: SalesContext
    writer: WriterThread

    @classmethod
    def open(cls, settings: CentralSettings, clock: Clock = system_clock) -> LocalCentral:
        """Open the store and keys and start a writer thread that keeps no house."""
        engine, ctx = _context(settings, clock)
        return cls(engine, ctx, WriterThread(engine, ctx, _batch(settings, engine)))

    def close(self) -> None:
        """Finish queued commands and close the store."""
        self.writer.stop()
        self.engine.dispose()
