"""The writer interface: how the HTTP side asks for a change to the store.

Two implementations: ``WriterThread`` (``central.writer.thread``), a thread
of the HTTP process that runs commands itself, and ``WriterClient``
(``central.writer.client``), which sends them to the writer process of a
split server. Either way a command runs in the writer's transaction and is
answered only after its commit; each keeps house (expiring holds, due
pre-allocation) on its own schedule.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from central.writer.commands import Command, Once
from central.writer.once import StoredAnswer


class Writer(ABC):
    """Runs commands against the store, durably, one writer for the whole store."""

    @abstractmethod
    async def mutate(self, command: Command, once: Once) -> StoredAnswer:
        """Run a mutation once per idempotency key; its answer as first given."""

    @abstractmethod
    async def execute(self, command: Command) -> Any:
        """Run a command without an idempotency key; its JSON answer, or its error."""

    @abstractmethod
    async def close(self) -> None:
        """Finish or fail what is in flight and let go of the store or the link."""
