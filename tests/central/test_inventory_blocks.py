"""The engine's block methods: reserve seats to the end, sell on one seat, shorten a sale.

A block of seats for a TVM (``reserve``) is a live sale from its station to
the end of the run on chosen seats; a sale from the block replaces that sale
by a shorter one on the same seat (``replace_sale``); a sale after the block
went back takes the very seat it names if it is still free (``place_on``).
The stateful machine of ``test_inventory_properties`` runs these beside
buys, refunds, changes and quota moves, and its invariants (counts exact for
every OD pair and seller, no segment sold twice, standing within capacity)
are checked after every step, with a brute-force model of what each new
method may do.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import precondition, rule
from test_inventory_properties import SELLERS, STOPS, InventoryMachine, Sale, serves

from central.inventory import Purpose, Quota, ReusePolicy, SeatState, TrainInventory
from central.inventory.engine import SeatInfo
from central.inventory.errors import BadJourney, NotEnoughSeats, SoldOut

LAST = len(STOPS) - 1


def free_for(inv: TrainInventory, seat: int, a: int, b: int) -> bool:
    """No segment of journey (a, b) is sold or withheld on the seat."""
    taken = inv.states[seat].taken
    return not any(taken >> s & 1 for s in range(a, b))


def reservable(inv: TrainInventory, seat_class: str, a: int, seller: str | None) -> set[int]:
    """Seats a block boarding at a may take, by the rules written out plainly.

    Free from a to the end; the seat's quota serves that journey for the
    seller; and its restricted-sale segment lets the block sell to the very
    next stop (a through-sale before a later reserved stop needs no check:
    it never serves a journey to the end).
    """
    found = set()
    for seat, info in enumerate(inv.seats):
        if info.seat_class != seat_class or not free_for(inv, seat, a, LAST):
            continue
        quota = inv.pools[inv.quota_of(seat)].quota
        taken = inv.states[seat].taken
        r0 = a
        while r0 > 0 and not taken >> (r0 - 1) & 1:
            r0 -= 1
        near_allowed = (quota.board is not None and a < quota.board) or a + 1 >= quota.min_dest
        if serves(inv, quota, r0, a, LAST, seller) and near_allowed:
            found.add(seat)
    return found


def snapshot(inv: TrainInventory) -> list[tuple[int, int, int, tuple[tuple[int, int], ...]]]:
    return [(s.sold, s.blocked, s.splits, s.journeys) for s in inv.states]


class BlockMachine(InventoryMachine):
    """The inventory machine, with blocks reserved, sold from, and single seats placed on."""

    @rule(
        seat_class=st.sampled_from(["ZE", "ZY"]),
        a=st.integers(0, LAST - 1),
        count=st.integers(1, 4),
        seller=st.sampled_from(SELLERS),
    )
    def reserve(self, seat_class: str, a: int, count: int, seller: str | None) -> None:
        eligible = reservable(self.inv, seat_class, a, seller)
        before = snapshot(self.inv)
        try:
            placements = self.inv.reserve(seat_class, a, count, seller)
        except (SoldOut, NotEnoughSeats):
            assert len(eligible) < count
            assert snapshot(self.inv) == before  # all or none
            return
        assert len(eligible) >= count
        seats = [p.seat for p in placements]
        assert len(set(seats)) == count and set(seats) <= eligible
        for p in placements:
            assert (p.board, p.dest, p.seat_class) == (a, LAST, seat_class)
            self.sales.append(Sale(self.next_ticket, p.seat, seat_class, a, LAST))
            self.next_ticket += 1

    @rule(
        seat=st.integers(0, 8),
        od=st.tuples(st.integers(0, 5), st.integers(0, 5)).filter(lambda t: t[0] < t[1]),
    )
    def place_on(self, seat: int, od: tuple[int, int]) -> None:
        a, b = od
        seat_class = self.inv.seats[seat].seat_class
        is_free = free_for(self.inv, seat, a, b)
        before = snapshot(self.inv)
        try:
            placement = self.inv.place_on(seat, a, b)
        except SoldOut:
            assert not is_free
            assert snapshot(self.inv) == before
            return
        assert is_free
        assert (placement.seat, placement.board, placement.dest) == (seat, a, b)
        self.sales.append(Sale(self.next_ticket, seat, seat_class, a, b))
        self.next_ticket += 1

    @precondition(lambda self: any(s.seat is not None and s.b - s.a > 1 for s in self.sales))
    @rule(pick=st.integers(0, 10_000), cut=st.integers(1, 4))
    def sell_from_block(self, pick: int, cut: int) -> None:
        """A sale to a nearer stop replaces a longer one on its seat (a block seat sold)."""
        longer = [s for s in self.sales if s.seat is not None and s.b - s.a > 1]
        old = longer[pick % len(longer)]
        to = old.a + 1 + cut % (old.b - old.a - 1)
        assert old.seat is not None
        placement = self.inv.replace_sale(old.seat, (old.a, old.b), (old.a, to))
        assert (placement.seat, placement.board, placement.dest) == (old.seat, old.a, to)
        self.sales[self.sales.index(old)] = Sale(old.ticket, old.seat, old.seat_class, old.a, to)


BlockMachine.TestCase.settings = settings(
    max_examples=150,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestBlocks = BlockMachine.TestCase


# ----------------------------------------------------------------- scenarios


def one_class_train(
    seats: int, reuse: ReusePolicy | None = None, quotas: list[Quota] | None = None
) -> TrainInventory:
    quotas = quotas or [Quota("common", "ZE", Purpose.COMMON)]
    infos = [SeatInfo(1, n + 1, "ZE") for n in range(seats)]
    inv = TrainInventory(STOPS, infos, quotas, reuse or ReusePolicy(), {"ZE": 0})
    for seat in range(seats):
        inv.load_seat(seat, quotas[seat % len(quotas)].quota_id)
    return inv


def test_reserve_prefers_seats_whose_free_run_starts_at_the_station() -> None:
    inv = one_class_train(seats=3)
    inv.place_on(2, 0, 2)  # seat 3: sold AAA-CCC, free from CCC to the end
    [placement] = inv.reserve("ZE", 2, 1, "CCC")
    assert placement.seat == 2  # the tightest fit: the earlier part of seats 1 and 2 stays whole
    assert inv.free_seats("ZE", 0, 5, None) == 2
    assert inv.free_seats("ZE", 2, 3, None) == 2


def test_reserved_seats_leave_their_earlier_segments_on_sale() -> None:
    inv = one_class_train(seats=2)
    inv.reserve("ZE", 3, 2, "DDD")
    assert inv.free_seats("ZE", 3, 4, None) == 0
    assert inv.free_seats("ZE", 0, 3, None) == 2  # seat reuse: AAA-DDD stays sellable


def test_reserve_skips_quotas_whose_restricted_segment_forbids_short_journeys() -> None:
    far_only = Quota("far", "ZE", Purpose.COMMON, min_dest=4)
    inv = one_class_train(seats=2, quotas=[far_only, Quota("common", "ZE", Purpose.COMMON)])
    [placement] = inv.reserve("ZE", 0, 1, "AAA")
    assert placement.quota_id == "common"
    with pytest.raises(SoldOut):
        inv.reserve("ZE", 0, 1, "AAA")  # the far-only seat cannot serve AAA-BBB
    assert inv.free_seats("ZE", 0, 5, None) == 1


def test_reserve_is_all_or_none_and_never_standing() -> None:
    inv = one_class_train(seats=2)
    with pytest.raises(NotEnoughSeats):
        inv.reserve("ZE", 1, 3, None)
    assert [s.sold for s in inv.states] == [0, 0]
    with pytest.raises(BadJourney):
        inv.reserve("ZE", LAST, 1, None)


def test_a_shortened_sale_keeps_its_segments_where_a_release_would_withhold_them() -> None:
    """With a no-reuse station, giving a block seat back first would withhold part of it."""
    inv = one_class_train(seats=1, reuse=ReusePolicy(no_reuse_stops=frozenset({1})))
    inv.reserve("ZE", 3, 1, None)  # DDD-FFF: AAA-DDD offered again
    inv.place_on(0, 0, 1)  # AAA-BBB: the remainder BBB-DDD begins at a no-reuse stop
    replay_without_block = SeatState.replay(inv.geo, inv.reuse, [(0, 1)])
    assert replay_without_block.blocked & inv.geo.journey_mask(3, 4)  # would refuse DDD-EEE
    placement = inv.replace_sale(0, (3, 5), (3, 4))
    assert (placement.board, placement.dest) == (3, 4)
    assert inv.states[0].journeys == ((3, 4), (0, 1))  # in sale order
    assert inv.free_seats("ZE", 4, 5, None) == 1  # the rest of the block is back on sale


def test_place_on_refuses_a_taken_seat_and_changes_nothing() -> None:
    inv = one_class_train(seats=1)
    inv.place_on(0, 1, 3)
    with pytest.raises(SoldOut):
        inv.place_on(0, 2, 4)
    assert inv.states[0].journeys == ((1, 3),)
    assert inv.place_on(0, 3, 5).seat == 0
