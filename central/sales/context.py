"""What every selling command needs: settings, keys, the run cache, the clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from central.sales.refunds import RefundPolicy
from central.settings import CentralSettings
from central.signing import KeyStore
from central.store.run_cache import RunCache

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """Now, timezone-aware."""
    return datetime.now(UTC)


@dataclass
class SalesContext:
    """Shared by the order, after-sales and operator commands of one process."""

    settings: CentralSettings
    keys: KeyStore
    cache: RunCache
    refunds: RefundPolicy
    clock: Clock = system_clock

    def now(self) -> datetime:
        """The injected clock's time."""
        return self.clock()
