"""The writer as a thread of the HTTP process: commands queue, run in batches, commit once.

A command waits in a queue; the thread takes every command waiting (up to
the batch size), runs them as one transaction (``central.writer.batch``),
and only then answers them all, one wake-up per event loop. Between batches
it keeps house when the chores are due. Tools and tests in this process may
also run a plain function in the writer's transaction (``call``).
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine

from central.operating.housekeeping import report
from central.sales.context import SalesContext
from central.writer.base import Writer
from central.writer.batch import BatchRunner, Step
from central.writer.commands import Chores, Command, Once, perform, stored_answer
from central.writer.once import StoredAnswer

T = TypeVar("T")
log = logging.getLogger(__name__)
JOIN_TIMEOUT_S = 30.0


@dataclass
class _Job:
    step: Step
    future: Future[Any] | asyncio.Future[Any] = field(default_factory=Future)
    loop: asyncio.AbstractEventLoop | None = None  # set for jobs awaited from async code


Outcome = tuple[_Job, Any, BaseException | None]


class WriterThread(Writer):
    """Runs commands against the store from a thread of its own, serially, with group commit."""

    def __init__(
        self,
        engine: Engine,
        ctx: SalesContext,
        batch_max: int = 64,
        chores_every_s: float | None = None,
    ) -> None:
        self.engine = engine
        self.ctx = ctx
        self.batch_max = batch_max
        self.chores_every_s = chores_every_s  # None: nobody keeps house (tools, tests)
        self._runner = BatchRunner(engine, ctx.cache)
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._loop, name="central-writer", daemon=True)
        self._thread.start()

    async def mutate(self, command: Command, once: Once) -> StoredAnswer:
        return stored_answer(
            await self.run(partial(perform, ctx=self.ctx, command=command, once=once))
        )

    async def execute(self, command: Command) -> Any:
        return await self.run(partial(perform, ctx=self.ctx, command=command, once=None))

    async def close(self) -> None:
        await asyncio.to_thread(self.stop)

    def execute_now(self, command: Command) -> Any:
        """``execute`` for plain (non-async) callers: tools and tests."""
        return self.call(partial(perform, ctx=self.ctx, command=command, once=None))

    def submit(self, step: Callable[[Connection], T]) -> Future[T]:
        """Queue a function to run in the writer's transaction; resolves after its commit."""
        future: Future[T] = Future()
        self._queue.put(_Job(step, future))
        return future

    async def run(self, step: Callable[[Connection], T]) -> T:
        """Run a function in the writer's transaction from async code; its durable result."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._queue.put(_Job(step, future, loop))
        return await future

    def call(self, step: Callable[[Connection], T]) -> T:
        """Run a function in the writer's transaction from a plain thread and wait for it."""
        return self.submit(step).result()

    def stop(self) -> None:
        """Finish what is queued and stop the thread."""
        self._queue.put(None)
        self._thread.join(timeout=JOIN_TIMEOUT_S)
        self._runner.close()

    def _loop(self) -> None:
        next_chores = self._next_chores()
        while True:
            if next_chores is not None and time.monotonic() >= next_chores:
                job: _Job | None = self._chores_job()  # due even while sales keep coming
                next_chores = self._next_chores()
            else:
                try:
                    job = self._queue.get(timeout=self._wait(next_chores))
                except queue.Empty:
                    continue
            if job is None:
                return
            batch = self._take_batch(job)
            results = self._runner.run([job.step for job in batch])
            _settle([(job, *result) for job, result in zip(batch, results, strict=True)])

    def _chores_job(self) -> _Job:
        job = _Job(partial(perform, ctx=self.ctx, command=Chores(), once=None))
        job.future.add_done_callback(_report_chores)
        return job

    def _take_batch(self, first: _Job) -> list[_Job]:
        batch = [first]
        while len(batch) < self.batch_max:
            try:
                more = self._queue.get_nowait()
            except queue.Empty:
                break
            if more is None:
                self._queue.put(None)
                break
            batch.append(more)
        return batch

    def _next_chores(self) -> float | None:
        if self.chores_every_s is None:
            return None
        return time.monotonic() + self.chores_every_s

    @staticmethod
    def _wait(next_chores: float | None) -> float | None:
        return None if next_chores is None else max(0.0, next_chores - time.monotonic())


def _report_chores(future: Future[Any] | asyncio.Future[Any]) -> None:
    error = future.exception()
    if error is None:
        done = future.result()
        report(done["expired"], done["done"])
    else:
        log.error("housekeeping failed (%s); retrying at the next interval", error)


def _settle(outcomes: list[Outcome]) -> None:
    """Answer a batch: one wake-up per event loop, not one per command."""
    by_loop: dict[asyncio.AbstractEventLoop, list[Outcome]] = {}
    for outcome in outcomes:
        loop = outcome[0].loop
        if loop is None:
            _resolve([outcome])
        else:
            by_loop.setdefault(loop, []).append(outcome)
    for loop, waiting in by_loop.items():
        loop.call_soon_threadsafe(_resolve, waiting)


def _resolve(outcomes: list[Outcome]) -> None:
    for job, result, error in outcomes:
        if job.future.cancelled():  # the client went away; the work is done all the same
            continue
        if error is None:
            job.future.set_result(result)
        else:
            job.future.set_exception(error)
