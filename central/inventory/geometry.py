"""Segment geometry of a route with S segments: runs, OD pairs and their tables.

A *run* is a span of consecutive segments ``[r0, r1)`` in stop indices. Runs
are numbered by length, shortest first, so the lowest set bit of a bitmask of
candidate runs is the tightest fit. An OD pair ``(a, b)`` (board at stop a,
alight at stop b) is numbered likewise. Everything here depends only on S and
is shared by every train with the same number of stops.
"""

from __future__ import annotations

from functools import cache

MAX_SEGMENTS = 61  # masks stay inside a signed 64-bit database column
COUNT_BITS = 20  # one OD count field of a packed count vector (up to 1,048,575 seats)
COUNT_FIELD = (1 << COUNT_BITS) - 1

Span = tuple[int, int]


def packed_count(vector: int, od: int) -> int:
    """Read field ``od`` of a packed count vector.

    Count vectors over all OD pairs are packed into one Python int, one field
    per pair: adding a run's vector to a quota's counts is then a single
    big-int addition, several times faster than a small numpy array.
    """
    return (vector >> (COUNT_BITS * od)) & COUNT_FIELD


class Geometry:
    """Runs and OD pairs of a route with ``segments`` segments."""

    def __init__(self, segments: int) -> None:
        if not 1 <= segments <= MAX_SEGMENTS:
            raise ValueError(f"a route needs 1..{MAX_SEGMENTS} segments, got {segments}")
        self.segments = segments
        spans = [(a, b) for a in range(segments) for b in range(a + 1, segments + 1)]
        self.runs: list[Span] = sorted(spans, key=lambda s: (s[1] - s[0], s[0]))
        self.run_id: dict[Span, int] = {span: i for i, span in enumerate(self.runs)}
        self.ods: list[Span] = sorted(spans)
        self.od_id: dict[Span, int] = {span: i for i, span in enumerate(self.ods)}
        self.full_mask = (1 << segments) - 1

    def journey_mask(self, a: int, b: int) -> int:
        """Bitmask of the segments a journey from stop a to stop b occupies."""
        return ((1 << (b - a)) - 1) << a

    def free_runs(self, taken: int) -> list[int]:
        """Ids of the maximal free runs of a seat whose taken segments are ``taken``."""
        runs: list[int] = []
        start = -1
        for seg in range(self.segments + 1):
            is_free = seg < self.segments and not (taken >> seg) & 1
            if is_free and start < 0:
                start = seg
            elif not is_free and start >= 0:
                runs.append(self.run_id[(start, seg)])
                start = -1
        return runs

    def run_containing(self, taken: int, a: int, b: int) -> Span:
        """The free run around journey (a, b); the journey must be free."""
        below = taken & ((1 << a) - 1)
        r0 = below.bit_length()
        above = taken >> b
        r1 = b + ((above & -above).bit_length() - 1) if above else self.segments
        return r0, r1


@cache
def geometry_for(segments: int) -> Geometry:
    """The shared geometry for routes with this many segments."""
    return Geometry(segments)


class EligibilityTable:
    """Which runs can serve which journeys for one kind of quota.

    ``board`` is the stop a quota is reserved for (0 for the origin), or None
    for a common quota. A reserved quota serves journeys boarding at its stop;
    remainders that reuse frees after that stop belong to the station where
    they begin; with ``through_sale`` the segments before its stop are sold to
    journeys that end by that stop.
    """

    def __init__(self, geo: Geometry, board: int | None, through_sale: bool) -> None:
        self.geo = geo
        self.board = board
        self.through_sale = through_sale
        self.masks: list[int] = [0] * len(geo.ods)
        self.vectors: list[int] = [0] * len(geo.runs)
        for run_index, run in enumerate(geo.runs):
            for od_index, od in enumerate(geo.ods):
                if self._serves(run, od):
                    self.masks[od_index] |= 1 << run_index
                    self.vectors[run_index] |= 1 << (COUNT_BITS * od_index)

    def _serves(self, run: Span, od: Span) -> bool:
        (r0, r1), (a, b) = run, od
        if not (r0 <= a and b <= r1):
            return False
        board = self.board
        if board is None or a == board:
            return True
        if a < board:
            return self.through_sale and b <= board
        return a == r0  # a reuse remainder belongs to the station where it begins


@cache
def eligibility_for(segments: int, board: int | None, through_sale: bool) -> EligibilityTable:
    """The shared eligibility table for one quota kind on one route size."""
    return EligibilityTable(geometry_for(segments), board, through_sale)
