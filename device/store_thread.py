"""A unit's store on a thread of its own: every call runs there, one after another.

The store blocks (a journal append waits for its fsync), so no coroutine
calls it on the event loop. Each ``StoreThread`` owns one connection, opened
on its thread and used by no other: the decision path has one, the sync
task another, and SQLite's write-ahead log lets them read and write side by
side.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from offline_store.connection import StoreSettings
from offline_store.store import UnitStore

T = TypeVar("T")


class StoreThread:
    """One store connection and the one thread that uses it."""

    def __init__(self, path: Path, settings: StoreSettings, name: str) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._store = self._executor.submit(UnitStore.open, path, settings).result()

    async def run(self, call: Callable[[UnitStore], T]) -> T:
        """Run ``call`` with the store on the store's thread; its result."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, call, self._store)

    def run_now(self, call: Callable[[UnitStore], T]) -> T:
        """The same from plain (non-async) code: start-up and shutdown."""
        return self._executor.submit(call, self._store).result()

    def close(self) -> None:
        """Close the connection on its thread, then the thread."""
        try:
            self._executor.submit(self._store.close).result()
        finally:
            self._executor.shutdown(wait=True)
