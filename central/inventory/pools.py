"""The free runs of one quota's seats, bucketed by run, with exact OD counts.

``buckets[run]`` holds the seats having that free run; bit ``run`` of
``nonempty`` is set while the bucket has seats. Because runs are numbered
shortest first, ``nonempty & eligible`` has the tightest fitting run in its
lowest set bit. ``count(od)`` is the number of this quota's seats that can
serve the OD pair, kept up to date with one packed-integer add per run change.
"""

from __future__ import annotations

from central.inventory.geometry import EligibilityTable, packed_count
from central.inventory.quotas import Quota


class QuotaPool:
    """Seats of one quota, indexed by their free runs."""

    def __init__(self, quota: Quota, table: EligibilityTable) -> None:
        self.quota = quota
        self.table = table
        self.buckets: dict[int, set[int]] = {}
        self.nonempty = 0
        self.counts = 0  # packed: see geometry.packed_count

    def add_run(self, run: int, seat: int) -> None:
        """A seat now has free run ``run``."""
        bucket = self.buckets.get(run)
        if bucket is None:
            bucket = self.buckets[run] = set()
            self.nonempty |= 1 << run
        bucket.add(seat)
        self.counts += self.table.vectors[run]

    def remove_run(self, run: int, seat: int) -> None:
        """A seat no longer has free run ``run``."""
        bucket = self.buckets[run]
        bucket.discard(seat)
        if not bucket:
            del self.buckets[run]
            self.nonempty &= ~(1 << run)
        self.counts -= self.table.vectors[run]

    def count(self, od: int) -> int:
        """Seats of this quota able to serve OD pair ``od``."""
        return packed_count(self.counts, od)

    def best_run(self, od: int) -> int:
        """The tightest run able to serve OD pair ``od``, or -1 if none."""
        candidates = self.nonempty & self.table.masks[od]
        return (candidates & -candidates).bit_length() - 1

    def any_seat(self, run: int) -> int:
        """A seat of the bucket; int sets iterate low numbers first, filling coaches in order."""
        return next(iter(self.buckets[run]))

    def fully_free_seats(self, full_run: int) -> list[int]:
        """Seats with nothing sold or blocked, lowest numbers first."""
        return sorted(self.buckets.get(full_run, ()))
