"""Engine scenarios: reuse policies, best fit, standing, quotas, sharing, moves."""

from __future__ import annotations

import pytest

from central.inventory import Purpose, Quota, ReusePolicy, ShareMode, TrainInventory
from central.inventory.engine import SeatInfo
from central.inventory.errors import BadJourney, NotEnoughSeats, SoldOut, UnknownQuota

STOPS = ["AAA", "BBB", "CCC", "DDD", "EEE", "FFF"]  # stops 0..5


def train(
    seats: int = 2,
    reuse: ReusePolicy | None = None,
    standing: int = 0,
    quotas: list[Quota] | None = None,
) -> TrainInventory:
    quotas = quotas or [Quota("common", "ZE", Purpose.COMMON)]
    infos = [SeatInfo(1, n + 1, "ZE") for n in range(seats)]
    inv = TrainInventory(STOPS, infos, quotas, reuse or ReusePolicy(), {"ZE": standing})
    for seat in range(seats):
        inv.load_seat(seat, quotas[seat % len(quotas)].quota_id)
    return inv


def test_sold_remainder_is_offered_again() -> None:
    inv = train(seats=1)
    inv.allocate("ZE", 0, 2, 1, None)
    assert inv.free_seats("ZE", 2, 5, None) == 1
    assert inv.free_seats("ZE", 1, 3, None) == 0


def test_reuse_disabled_blocks_the_remainder() -> None:
    inv = train(seats=1, reuse=ReusePolicy(enabled=False))
    inv.allocate("ZE", 0, 2, 1, None)
    assert inv.free_seats("ZE", 2, 5, None) == 0


def test_one_time_reuse_splits_a_seat_once() -> None:
    inv = train(seats=1, reuse=ReusePolicy(max_splits=1))
    inv.allocate("ZE", 0, 2, 1, None)  # split 1: CCC-FFF offered
    inv.allocate("ZE", 2, 3, 1, None)  # would split again: DDD-FFF withheld
    assert inv.free_seats("ZE", 3, 5, None) == 0
    assert inv.states[0].splits == 1


def test_multiple_reuse_splits_again() -> None:
    inv = train(seats=1)
    inv.allocate("ZE", 0, 2, 1, None)
    inv.allocate("ZE", 2, 3, 1, None)
    assert inv.free_seats("ZE", 3, 5, None) == 1


def test_no_reuse_station_withholds_remainders_beginning_there() -> None:
    inv = train(seats=1, reuse=ReusePolicy(no_reuse_stops=frozenset({0})))
    inv.allocate("ZE", 2, 4, 1, None)
    assert inv.free_seats("ZE", 0, 2, None) == 0  # would begin at the origin
    assert inv.free_seats("ZE", 4, 5, None) == 1


def test_refund_restores_the_seat_and_its_withheld_remainders() -> None:
    inv = train(seats=1, reuse=ReusePolicy(max_splits=1))
    inv.allocate("ZE", 0, 2, 1, None)
    inv.allocate("ZE", 2, 3, 1, None)
    inv.release_seat(0, [(2, 3)])  # refund the first sale
    assert inv.free_seats("ZE", 0, 2, None) == 1
    assert inv.free_seats("ZE", 3, 5, None) == 1


def test_a_released_sale_is_replayed_away_from_the_seat_s_own_journeys() -> None:
    inv = train(seats=1, reuse=ReusePolicy(max_splits=1))
    inv.allocate("ZE", 0, 2, 1, None)
    inv.allocate("ZE", 2, 3, 1, None)
    assert list(inv.states[0].journeys) == [(0, 2), (2, 3)]
    inv.release_sale(0, 0, 2)  # refund the first sale, as release_seat(0, [(2, 3)]) does
    assert list(inv.states[0].journeys) == [(2, 3)]
    assert inv.free_seats("ZE", 0, 2, None) == 1
    assert inv.free_seats("ZE", 3, 5, None) == 1


def test_releasing_a_sale_the_seat_never_had_changes_nothing() -> None:
    inv = train(seats=1)
    inv.allocate("ZE", 0, 2, 1, None)
    with pytest.raises(ValueError):
        inv.release_sale(0, 1, 2)
    assert inv.states[0].journeys == ((0, 2),)
    assert inv.free_seats("ZE", 2, 5, None) == 1 and inv.free_seats("ZE", 0, 2, None) == 0


def test_best_fit_takes_the_tightest_free_run() -> None:
    inv = train(seats=2)
    first = inv.allocate("ZE", 0, 2, 1, None)[0]  # one seat now free CCC-FFF
    second = inv.allocate("ZE", 2, 4, 1, None)[0]
    assert second.seat == first.seat
    assert "CCC-FFF" in second.reason
    assert inv.free_seats("ZE", 0, 5, None) == 1  # the long run is kept whole


def test_standing_is_sold_only_when_no_seat_fits() -> None:
    inv = train(seats=1, standing=2)
    assert inv.availability("ZE", 0, 5, None).standing == 0
    placements = inv.allocate("ZE", 0, 5, 2, None)
    assert [p.seat is None for p in placements] == [False, True]
    assert inv.availability("ZE", 1, 2, None).standing == 1


def test_not_enough_places_changes_nothing() -> None:
    inv = train(seats=2, standing=0)
    with pytest.raises(NotEnoughSeats):
        inv.allocate("ZE", 0, 5, 3, None)
    assert inv.free_seats("ZE", 0, 5, None) == 2
    inv.allocate("ZE", 0, 5, 2, None)
    with pytest.raises(SoldOut):
        inv.allocate("ZE", 0, 5, 1, None)


def test_station_quota_serves_its_station_and_through_sale_before_it() -> None:
    ccc = Quota("ccc", "ZE", Purpose.STATION, board=2)
    inv = train(seats=1, quotas=[ccc])
    assert inv.free_seats("ZE", 2, 5, "CCC") == 1
    assert inv.free_seats("ZE", 3, 5, "DDD") == 0  # not reserved for DDD
    assert inv.free_seats("ZE", 0, 2, "AAA") == 1  # through-sale ends by CCC
    assert inv.free_seats("ZE", 0, 3, "AAA") == 0
    inv.allocate("ZE", 0, 2, 1, "AAA")
    assert inv.free_seats("ZE", 2, 5, "CCC") == 1  # CCC keeps its seat


def test_reuse_remainder_belongs_to_the_station_where_it_begins() -> None:
    ccc = Quota("ccc", "ZE", Purpose.STATION, board=2)
    inv = train(seats=1, quotas=[ccc])
    inv.allocate("ZE", 2, 3, 1, "CCC")
    assert inv.free_seats("ZE", 3, 5, "DDD") == 1
    assert inv.free_seats("ZE", 4, 5, "EEE") == 0


def test_sharing_admits_listed_sellers_as_remote_sales() -> None:
    ccc = Quota(
        "ccc", "ZE", Purpose.STATION, board=2, share=ShareMode.STATIONS, sharers=frozenset({"AAA"})
    )
    inv = train(seats=2, quotas=[ccc])
    assert inv.free_seats("ZE", 2, 5, "BBB") == 0
    assert inv.free_seats("ZE", 2, 5, None) == 2  # national channels
    placement = inv.allocate("ZE", 2, 5, 1, "AAA")[0]
    assert placement.is_remote
    assert not inv.allocate("ZE", 2, 5, 1, "CCC")[0].is_remote


def test_restricted_sale_segment_needs_a_long_enough_journey() -> None:
    inv = train(seats=1, quotas=[Quota("long", "ZE", Purpose.COMMON, min_dest=4)])
    assert inv.free_seats("ZE", 0, 3, None) == 0
    assert inv.free_seats("ZE", 0, 4, None) == 1


def test_move_seats_between_quotas() -> None:
    quotas = [Quota("common", "ZE", Purpose.COMMON), Quota("ddd", "ZE", Purpose.STATION, board=3)]
    inv = train(seats=4, quotas=quotas)
    moved = inv.move_seats("common", "ddd", 2)
    assert len(moved) == 2
    assert inv.free_seats("ZE", 0, 5, None) == 0
    assert inv.free_seats("ZE", 3, 5, "DDD") == 4
    with pytest.raises(NotEnoughSeats):
        inv.move_seats("common", "ddd", 1)
    with pytest.raises(UnknownQuota):
        inv.move_seats("nope", "ddd", 1)


def test_standing_capacity_cannot_drop_below_sold() -> None:
    inv = train(seats=0 + 1, standing=2)
    inv.allocate("ZE", 0, 5, 3, None)
    with pytest.raises(NotEnoughSeats):
        inv.set_standing_capacity("ZE", 1)
    inv.set_standing_capacity("ZE", 5)
    assert inv.availability("ZE", 0, 5, None).standing == 3


def test_bad_journeys_are_refused() -> None:
    inv = train()
    for a, b in [(3, 3), (4, 2), (0, 9), (-1, 2)]:
        with pytest.raises(BadJourney):
            inv.free_seats("ZE", a, b, None)
    with pytest.raises(BadJourney):
        inv.free_seats("SW", 0, 1, None)
