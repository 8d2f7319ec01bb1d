"""Property tests: after any sequence of commands the engine's counts are exact.

A brute-force model recounts every OD pair from the seats' masks with the
rules written out plainly, and checks that no segment of a seat is sold twice.
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from central.inventory import Purpose, Quota, ReusePolicy, ShareMode, TrainInventory
from central.inventory.engine import SeatInfo
from central.inventory.errors import NotEnoughSeats, SoldOut

STOPS = ["AAA", "BBB", "CCC", "DDD", "EEE", "FFF"]
SELLERS = [None, "AAA", "CCC", "DDD", "ZZZ"]


@dataclass
class Sale:
    ticket: int
    seat: int | None
    seat_class: str
    a: int
    b: int


def brute_free_seats(
    inv: TrainInventory, seat_class: str, a: int, b: int, seller: str | None
) -> int:
    """Count seats by scanning every seat and applying the quota rules directly."""
    total = 0
    for seat, info in enumerate(inv.seats):
        if info.seat_class != seat_class:
            continue
        quota = inv.pools[inv.quota_of(seat)].quota
        taken = inv.states[seat].taken
        if any(taken >> s & 1 for s in range(a, b)):
            continue
        r0 = a
        while r0 > 0 and not taken >> (r0 - 1) & 1:
            r0 -= 1
        if not serves(inv, quota, r0, a, b, seller):
            continue
        total += 1
    return total


def serves(inv: TrainInventory, quota: Quota, r0: int, a: int, b: int, seller: str | None) -> bool:
    board = quota.board
    if board is None:
        return b >= quota.min_dest
    if a < board:
        through = inv.reuse.is_unlimited and board not in inv.reuse.no_reuse_stops
        return through and b <= board
    if a > board and r0 != a:
        return False
    admitted = seller is None or seller == STOPS[a] or seller in quota.sharers
    return admitted and b >= quota.min_dest


class InventoryMachine(RuleBasedStateMachine):
    """Random buys, refunds and quota moves against the brute-force model."""

    @initialize(
        enabled=st.booleans(),
        max_splits=st.sampled_from([None, 1, 2]),
        no_reuse=st.sets(st.integers(0, 4), max_size=2),
        standing=st.integers(0, 3),
    )
    def build(
        self, enabled: bool, max_splits: int | None, no_reuse: set[int], standing: int
    ) -> None:
        seats = [SeatInfo(1, n, "ZE") for n in range(1, 7)] + [
            SeatInfo(2, n, "ZY") for n in range(1, 4)
        ]
        quotas = [
            Quota("ZE-common", "ZE", Purpose.COMMON),
            Quota("ZE-origin", "ZE", Purpose.ORIGIN, board=0, min_dest=3),
            Quota(
                "ZE-ccc",
                "ZE",
                Purpose.STATION,
                board=2,
                share=ShareMode.STATIONS,
                sharers=frozenset({"AAA"}),
            ),
            Quota("ZY-common", "ZY", Purpose.COMMON, min_dest=2),
        ]
        policy = ReusePolicy(enabled, frozenset(no_reuse), max_splits)
        self.inv = TrainInventory(STOPS, seats, quotas, policy, {"ZE": standing})
        for seat in range(9):
            quota = ["ZE-common", "ZE-common", "ZE-origin", "ZE-origin", "ZE-ccc", "ZE-ccc"]
            self.inv.load_seat(seat, quota[seat] if seat < 6 else "ZY-common")
        self.sales: list[Sale] = []
        self.next_ticket = 0

    @rule(
        seat_class=st.sampled_from(["ZE", "ZY"]),
        od=st.tuples(st.integers(0, 5), st.integers(0, 5)).filter(lambda t: t[0] < t[1]),
        count=st.integers(1, 3),
        seller=st.sampled_from(SELLERS),
    )
    def buy(self, seat_class: str, od: tuple[int, int], count: int, seller: str | None) -> None:
        a, b = od
        before = self.inv.availability(seat_class, a, b, seller)
        try:
            placements = self.inv.allocate(seat_class, a, b, count, seller)
        except (SoldOut, NotEnoughSeats):
            standing = self.inv._free_standing(seat_class, a, b)
            assert before.seats + standing < count
            return
        assert len(placements) == count
        for p in placements:
            self.sales.append(Sale(self.next_ticket, p.seat, seat_class, a, b))
            self.next_ticket += 1

    @precondition(lambda self: bool(self.sales))
    @rule(pick=st.integers(0, 10_000))
    def refund(self, pick: int) -> None:
        sale = self.sales.pop(pick % len(self.sales))
        if sale.seat is None:
            self.inv.release_standing(sale.seat_class, sale.a, sale.b)
            return
        remaining = [(s.a, s.b) for s in self.sales if s.seat == sale.seat]
        self.inv.release_seat(sale.seat, remaining)

    @precondition(lambda self: bool(self.sales))
    @rule(
        pick=st.integers(0, 10_000),
        od=st.tuples(st.integers(0, 5), st.integers(0, 5)).filter(lambda t: t[0] < t[1]),
        seller=st.sampled_from(SELLERS),
    )
    def change(self, pick: int, od: tuple[int, int], seller: str | None) -> None:
        """A change takes the new place first, then gives the old one back; or nothing."""
        old = self.sales[pick % len(self.sales)]
        try:
            new = self.inv.allocate(old.seat_class, od[0], od[1], 1, seller)[0]
        except (SoldOut, NotEnoughSeats):
            return
        self.sales.remove(old)
        self.sales.append(Sale(self.next_ticket, new.seat, old.seat_class, od[0], od[1]))
        self.next_ticket += 1
        if old.seat is None:
            self.inv.release_standing(old.seat_class, old.a, old.b)
        else:
            remaining = [(s.a, s.b) for s in self.sales if s.seat == old.seat]
            self.inv.release_seat(old.seat, remaining)

    @rule(count=st.integers(1, 2))
    def adjust(self, count: int) -> None:
        if len(self.inv.quota_seats("ZE-common")) >= count:
            self.inv.move_seats("ZE-common", "ZE-ccc", count)

    @invariant()
    def counts_are_exact(self) -> None:
        for seat_class in ("ZE", "ZY"):
            for a in range(len(STOPS)):
                for b in range(a + 1, len(STOPS)):
                    for seller in SELLERS:
                        got = self.inv.free_seats(seat_class, a, b, seller)
                        assert got == brute_free_seats(self.inv, seat_class, a, b, seller)
            matrix = self.inv.od_matrix(seat_class)
            for a in range(len(STOPS)):
                for b in range(a + 1, len(STOPS)):
                    assert matrix[a][b] == self.inv.free_seats(seat_class, a, b, None)

    @invariant()
    def no_segment_sold_twice(self) -> None:
        for seat in range(len(self.inv.seats)):
            masks = [((1 << (s.b - s.a)) - 1) << s.a for s in self.sales if s.seat == seat]
            union = 0
            for mask in masks:
                assert union & mask == 0
                union |= mask
            assert self.inv.states[seat].sold == union
            assert self.inv.states[seat].sold & self.inv.states[seat].blocked == 0

    @invariant()
    def standing_within_capacity(self) -> None:
        for seat_class, sold in self.inv.standing_sold.items():
            for seg, count in enumerate(sold):
                expected = sum(
                    1
                    for s in self.sales
                    if s.seat is None and s.seat_class == seat_class and s.a <= seg < s.b
                )
                assert count == expected <= self.inv.standing_capacity[seat_class]


InventoryMachine.TestCase.settings = settings(
    max_examples=150,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestInventory = InventoryMachine.TestCase
