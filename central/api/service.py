"""The pieces one central process runs on: store, cache, keys, writer, clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from fastapi import Request
from sqlalchemy import Engine, select

from central.api.auth import Principal, authenticate
from central.api.idempotency import StoredAnswer, check_key, request_hash, run_once
from central.run_cache import RunCache
from central.sales.context import Clock, SalesContext, system_clock
from central.settings import CentralSettings
from central.signing import KeyStore
from central.store import tables as t
from central.store.database import open_database
from central.store.runs import LoadedRun
from central.writer import Command, Writer

OPERATOR_ONLY = "this request needs the operator token"


@dataclass
class CentralService:
    """Everything a request handler needs, built once per process."""

    engine: Engine
    ctx: SalesContext
    writer: Writer

    @classmethod
    def start(cls, settings: CentralSettings, clock: Clock = system_clock) -> CentralService:
        """Open the store and keys, start the writer thread."""
        engine = open_database(settings.database_url)
        cache = RunCache()
        keys = KeyStore(Path(settings.keys_dir))
        ctx = SalesContext(settings, keys, cache, settings.refund_policy(), clock)
        batch = settings.writer_batch if engine.dialect.name == "sqlite" else 1
        return cls(engine, ctx, Writer(engine, cache, batch))

    def stop(self) -> None:
        """Finish queued commands, close the store."""
        self.writer.close()
        self.engine.dispose()

    def now(self) -> datetime:
        """The injected clock."""
        return self.ctx.now()

    def principal(self, request: Request) -> Principal:
        """Authenticate a request."""
        return authenticate(
            self.engine, self.ctx.settings.operator_token, request.headers.get("authorization")
        )

    async def mutate(
        self, request: Request, principal: Principal, status: int, command: Command
    ) -> StoredAnswer:
        """Run a mutating command once per Idempotency-Key, durably."""
        key = check_key(request.headers.get("idempotency-key"))
        fingerprint = request_hash(request.method, request.url.path, await request.body())
        now = self.now()
        return await self.writer.run(
            lambda conn: run_once(conn, principal.name, key, fingerprint, now, status, command)
        )

    async def fresh_run(self, run_id: int) -> LoadedRun:
        """A run's inventory, caught up if another process committed since."""
        cached = self.ctx.cache.cached(run_id)
        if cached is not None:
            with self.engine.connect().execution_options(read_only=True) as conn:
                version = conn.execute(
                    select(t.train_runs.c.version).where(t.train_runs.c.run_id == run_id)
                ).scalar_one()
            if version <= cached.version:
                return cached
        return await self.writer.run(lambda conn: self.ctx.cache.for_write(conn, run_id))
