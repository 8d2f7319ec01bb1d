"""Seat inventory engine: pure, in-memory, no I/O.

A train run's seats are kept as one occupancy bitmask per seat (bit i = the
segment between stop i and stop i+1). Free runs of segments are bucketed per
quota so that a best-fit seat is found with a few integer operations, and
exact counts per origin-destination pair are kept incrementally.
"""

from central.inventory.engine import Placement, TrainInventory
from central.inventory.geometry import Geometry, geometry_for
from central.inventory.quotas import Purpose, Quota, ShareMode
from central.inventory.seats import ReusePolicy, SeatState

__all__ = [
    "Geometry",
    "Placement",
    "Purpose",
    "Quota",
    "ReusePolicy",
    "SeatState",
    "ShareMode",
    "TrainInventory",
    "geometry_for",
]
