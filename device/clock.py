"""The unit's time, and how far it is from central's.

Every answer from central carries central's time; the sync measures the
offset (central minus ours, the answer taken as made halfway through the
round trip) and keeps the median of the last few. While the offset is within
the profile's limit the unit trusts its own clock; beyond it, it says so in
its health and uses central's time (its own plus the offset) for check-in
windows, so a board whose clock drifted still opens for the right trains.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import deque
from collections.abc import Callable

Clock = Callable[[], dt.datetime]
SAMPLES = 5


def utc_now() -> dt.datetime:
    """Now, timezone-aware."""
    return dt.datetime.now(dt.UTC)


class UnitClock:
    """The unit's clock, corrected to central's when they drift apart too far."""

    def __init__(self, local: Clock, skew_limit: dt.timedelta) -> None:
        self.local = local
        self.skew_limit = skew_limit
        self._offsets: deque[float] = deque(maxlen=SAMPLES)

    def observe(self, offset: dt.timedelta) -> None:
        """Record one measured offset (central's clock minus ours)."""
        self._offsets.append(offset.total_seconds())

    @property
    def offset(self) -> dt.timedelta | None:
        """The current estimate of central minus ours, once measured."""
        if not self._offsets:
            return None
        return dt.timedelta(seconds=statistics.median(self._offsets))

    @property
    def is_skewed(self) -> bool:
        """True when our clock is further from central's than the limit allows."""
        offset = self.offset
        return offset is not None and abs(offset) > self.skew_limit

    def now(self) -> dt.datetime:
        """The time decisions use: ours, or central's while ours is skewed."""
        offset = self.offset
        return self.local() + offset if offset is not None and self.is_skewed else self.local()

    def central_now(self) -> dt.datetime | None:
        """Our estimate of central's clock now, once the offset is known."""
        offset = self.offset
        return None if offset is None else self.local() + offset
