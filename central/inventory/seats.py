"""One seat's state on one run: taken segments, reuse-blocked segments, splits.

Seat reuse (席位复用): after a sale, the free segments left on either side of
it (the *remainders*) are offered again unless the reuse policy says no. A
remainder is not re-offered when reuse is off, when it would begin at a
station on the no-reuse list, or when the seat has been split as often as the
policy allows (1 = one-time reuse). Blocked segments are kept apart from sold
ones so a refund can recompute them by replaying the seat's remaining sales,
which the state keeps in the order they were made.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from central.inventory.geometry import Geometry, Span


@dataclass(frozen=True)
class ReusePolicy:
    """Reuse rules of one train run; stops given by index."""

    enabled: bool = True
    no_reuse_stops: frozenset[int] = frozenset()
    max_splits: int | None = None  # None = multiple reuse

    @property
    def is_unlimited(self) -> bool:
        """True when every remainder is re-offered at every station."""
        return self.enabled and not self.no_reuse_stops and self.max_splits is None


@dataclass
class SeatState:
    """Mutable state of one seat; ``sold | blocked`` is what cannot be sold."""

    sold: int = 0
    blocked: int = 0
    splits: int = 0
    journeys: tuple[Span, ...] = ()  # the live sales, in sale order: what a refund replays

    @property
    def taken(self) -> int:
        """Segments that cannot be sold: sold or withheld by the reuse policy."""
        return self.sold | self.blocked

    def apply_sale(self, geo: Geometry, policy: ReusePolicy, a: int, b: int) -> list[Span]:
        """Record a sale from stop a to stop b; return the remainders offered again."""
        # A replay after a refund can meet segments an earlier sale's absence now
        # withholds; a sale that happened owns its segments, so they stop being withheld.
        journey = geo.journey_mask(a, b)
        if self.blocked & journey:
            self.blocked &= ~journey
        r0, r1 = geo.run_containing(self.taken, a, b)
        self.sold |= journey
        self.journeys += ((a, b),)
        if r0 == a and r1 == b:  # the journey fills its free run: nothing left to offer
            return []
        remainders = [span for span in ((r0, a), (b, r1)) if span[0] < span[1]]
        may_split = policy.enabled and (
            policy.max_splits is None or self.splits < policy.max_splits
        )
        if may_split:
            self.splits += 1
        offered = []
        for start, end in remainders:
            if may_split and start not in policy.no_reuse_stops:
                offered.append((start, end))
            else:
                self.blocked |= geo.journey_mask(start, end)
        return offered

    @classmethod
    def replay(cls, geo: Geometry, policy: ReusePolicy, sales: Iterable[Span]) -> SeatState:
        """Rebuild a seat's state from its live sales, in the order they were made."""
        state = cls()
        for a, b in sales:
            state.apply_sale(geo, policy, a, b)
        return state
