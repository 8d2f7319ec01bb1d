"""Automatic pre-allocation: shares, scale-down, idempotent apply, release, forecasts."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from central.inventory import Purpose, Quota, ReusePolicy, ShareMode, TrainInventory
from central.inventory.engine import SeatInfo
from central.inventory.errors import BadJourney, UnknownQuota
from central.inventory.preallocation import (
    OdForecast,
    PlannedQuota,
    PreallocationSettings,
    apply_plan,
    apply_release,
    plan_preallocation,
    plan_release,
)

STOPS = ["AAA", "BBB", "CCC", "DDD", "EEE", "FFF"]  # stops 0..5; intermediates 1..4
COMMON = Quota("ZE-common", "ZE", Purpose.COMMON)


def train(seats: int = 100, quotas: list[Quota] | None = None) -> TrainInventory:
    """A ZE-class train; seats are dealt to the quotas in turn."""
    quotas = quotas or [COMMON]
    infos = [SeatInfo(1 + n // 100, 1 + n % 100, "ZE") for n in range(seats)]
    inv = TrainInventory(STOPS, infos, quotas, ReusePolicy(), {"ZE": 0})
    for seat in range(seats):
        inv.load_seat(seat, quotas[seat % len(quotas)].quota_id)
    return inv


def forecast(**journeys: int) -> OdForecast:
    """ZE forecast from keywords like ``AAA_FFF=40``."""
    demand = {}
    for name, count in journeys.items():
        board, dest = name.split("_")
        demand[("ZE", STOPS.index(board), STOPS.index(dest))] = count
    return OdForecast(demand)


# Origin 50 passengers; BBB 20 boarding (30 % = 6); DDD 15 boarding (30 % = 4.5 -> 5).
TYPICAL = forecast(AAA_FFF=40, AAA_DDD=10, BBB_DDD=12, BBB_FFF=8, DDD_FFF=15)


def granted(plan_items: Sequence[PlannedQuota]) -> dict[str, int]:
    """Planned quota id -> seats it holds once applied."""
    return {item.quota_id: item.seats for item in plan_items}


# ----- planning -----------------------------------------------------------------


def test_each_station_gets_30_percent_of_its_boarding_demand() -> None:
    plan = plan_preallocation(train(), TYPICAL)
    assert granted(plan.items) == {"PA-ZE-BBB": 6, "PA-ZE-DDD": 5}
    bbb = plan.items[0]
    assert (bbb.board, bbb.demand, bbb.wanted, bbb.source_quota) == (1, 20, 6, "ZE-common")
    assert "20 passengers forecast boarding at BBB" in bbb.explanation
    assert "30% = 6 wanted" in bbb.explanation
    assert plan.total_seats == 11


def test_origin_demand_is_kept_before_stations_get_seats() -> None:
    plan = plan_preallocation(train(seats=55), TYPICAL)  # 55 - 50 origin = 5 left for 11 wanted
    assert plan.total_seats == 5
    budget = plan.budgets[0]
    assert (budget.free_common, budget.origin_demand, budget.wanted) == (55, 50, 11)
    assert budget.is_scaled_down
    assert "scaled down" in plan.items[0].explanation


def test_origin_demand_larger_than_the_train_leaves_nothing() -> None:
    plan = plan_preallocation(train(seats=30), TYPICAL)
    assert plan.items == ()
    assert plan.budgets[0].granted == 0


def test_scale_down_is_proportional_with_exact_total() -> None:
    # 30 seats, 20 for the origin, 10 left; wants 30, 15 and 6 (51): exact shares
    # 5.88, 2.94 and 1.18 -> floors 5, 2, 1 and the two spare seats to CCC and BBB.
    demand = forecast(AAA_FFF=20, BBB_CCC=100, CCC_EEE=50, DDD_EEE=20)
    plan = plan_preallocation(train(seats=30), demand)
    assert granted(plan.items) == {"PA-ZE-BBB": 6, "PA-ZE-CCC": 3, "PA-ZE-DDD": 1}
    assert plan.total_seats == 10


def test_share_percent_comes_from_the_settings() -> None:
    full = plan_preallocation(train(), TYPICAL, PreallocationSettings(share_percent=100))
    assert granted(full.items) == {"PA-ZE-BBB": 20, "PA-ZE-DDD": 15}
    none = plan_preallocation(train(), TYPICAL, PreallocationSettings(share_percent=0))
    assert none.items == ()


def test_zero_demand_plans_and_moves_nothing() -> None:
    inv = train()
    plan = plan_preallocation(inv, OdForecast({}))
    assert plan.items == ()
    assert apply_plan(inv, plan) == []
    assert list(inv.pools) == ["ZE-common"]


def test_only_fully_free_common_seats_are_shared_out() -> None:
    inv = train(seats=60)
    inv.allocate("ZE", 0, 1, 8, "AAA")  # 8 seats no longer fully free
    plan = plan_preallocation(inv, TYPICAL)
    assert plan.budgets[0].free_common == 52
    assert plan.total_seats == 2
    moves = apply_plan(inv, plan)
    assert all(inv.states[seat].taken == 0 for move in moves for seat in move.seats)


def test_restricted_and_reserved_quotas_are_no_source() -> None:
    quotas = [
        Quota("ZE-long", "ZE", Purpose.COMMON, min_dest=4),
        Quota("ZE-origin", "ZE", Purpose.ORIGIN, board=0),
        COMMON,
    ]
    plan = plan_preallocation(train(seats=90, quotas=quotas), forecast(BBB_DDD=20))
    assert plan.budgets[0].free_common == 30
    assert {item.source_quota for item in plan.items} == {"ZE-common"}


def test_several_common_quotas_are_taken_in_order() -> None:
    quotas = [Quota("ZE-a", "ZE", Purpose.COMMON), Quota("ZE-b", "ZE", Purpose.COMMON)]
    inv = train(seats=8, quotas=quotas)  # 4 seats each
    plan = plan_preallocation(inv, forecast(BBB_CCC=10, CCC_DDD=10))  # wants 3 and 3
    assert [item.takes for item in plan.items] == [(("ZE-a", 3),), (("ZE-a", 1), ("ZE-b", 2))]
    apply_plan(inv, plan)
    assert len(inv.quota_seats("ZE-a")) == 0
    assert len(inv.quota_seats("ZE-b")) == 2


def test_forecast_past_the_route_is_refused() -> None:
    with pytest.raises(BadJourney):
        plan_preallocation(train(), OdForecast({("ZE", 1, 9): 5}))


def test_a_quota_id_kept_for_something_else_is_refused() -> None:
    clash = Quota("PA-ZE-BBB", "ZE", Purpose.STATION, board=2)
    with pytest.raises(UnknownQuota):
        plan_preallocation(train(quotas=[COMMON, clash]), TYPICAL)


# ----- applying -----------------------------------------------------------------


def test_apply_creates_shared_station_quotas_and_moves_seats() -> None:
    inv = train()
    moves = apply_plan(inv, plan_preallocation(inv, TYPICAL))
    assert [move.summary for move in moves] == [
        "6 seats ZE-common -> PA-ZE-BBB",
        "5 seats ZE-common -> PA-ZE-DDD",
    ]
    ddd = inv.pools["PA-ZE-DDD"].quota
    assert (ddd.purpose, ddd.board, ddd.share, ddd.min_dest) == (Purpose.STATION, 3, "route", 0)
    assert "CCC" in ddd.sharers
    assert len(inv.quota_seats("ZE-common")) == 89


def test_station_quota_serves_its_station_and_through_sale_before_it() -> None:
    inv = train()
    apply_plan(inv, plan_preallocation(inv, TYPICAL))
    assert inv.free_seats("ZE", 0, 5, "AAA") == 89  # long journeys: common seats only
    assert inv.free_seats("ZE", 0, 3, "AAA") == 89 + 5  # through-sale ends by DDD
    assert inv.free_seats("ZE", 0, 1, "AAA") == 100  # ends by BBB too
    assert inv.free_seats("ZE", 3, 5, "DDD") == 89 + 5  # DDD boards on its quota
    assert inv.free_seats("ZE", 3, 5, "CCC") == 89 + 5  # remote sale: shared on the route
    assert inv.free_seats("ZE", 2, 5, "CCC") == 89  # CCC has no quota of its own
    placement = inv.allocate("ZE", 3, 5, 1, "DDD")[0]
    assert placement.quota_id == "PA-ZE-DDD"


def test_unshared_station_quota_is_sold_only_at_its_station() -> None:
    inv = train()
    rules = PreallocationSettings(share=ShareMode.NONE)
    apply_plan(inv, plan_preallocation(inv, TYPICAL, rules))
    assert inv.pools["PA-ZE-DDD"].quota.sharers == frozenset()
    assert inv.free_seats("ZE", 3, 5, "CCC") == 89
    assert inv.free_seats("ZE", 3, 5, "DDD") == 89 + 5


def test_applying_twice_moves_seats_once() -> None:
    inv = train()
    plan = plan_preallocation(inv, TYPICAL)
    apply_plan(inv, plan)
    assert apply_plan(inv, plan) == []
    assert len(inv.quota_seats("PA-ZE-BBB")) == 6
    assert len(inv.quota_seats("PA-ZE-DDD")) == 5
    again = plan_preallocation(inv, TYPICAL)  # what the quotas hold counts as granted
    assert again.items == ()


def test_apply_tops_up_only_the_difference() -> None:
    inv = train()
    apply_plan(inv, plan_preallocation(inv, forecast(BBB_DDD=10)))  # 3 seats
    plan = plan_preallocation(inv, forecast(BBB_DDD=20))  # 6 wanted, 3 held
    assert plan.items[0].seats == 6
    assert plan.items[0].new_seats == 3
    assert "3 held, 3 granted" in plan.items[0].explanation
    moves = apply_plan(inv, plan)
    assert [len(move.seats) for move in moves] == [3]
    assert len(inv.quota_seats("PA-ZE-BBB")) == 6


def test_classes_are_planned_apart() -> None:
    infos = [SeatInfo(1, n, "ZE") for n in range(1, 21)] + [SeatInfo(2, n, "ZY") for n in range(5)]
    quotas = [COMMON, Quota("ZY-common", "ZY", Purpose.COMMON)]
    inv = TrainInventory(STOPS, infos, quotas, ReusePolicy(), {})
    for seat in range(25):
        inv.load_seat(seat, "ZE-common" if seat < 20 else "ZY-common")
    demand = OdForecast({("ZE", 1, 2): 10, ("ZY", 2, 4): 10, ("ZY", 0, 5): 4})
    plan = plan_preallocation(inv, demand)
    assert granted(plan.items) == {"PA-ZE-BBB": 3, "PA-ZY-CCC": 1}
    assert [budget.seat_class for budget in plan.budgets] == ["ZE", "ZY"]


# ----- releasing ----------------------------------------------------------------


def test_release_gives_unsold_seats_back_to_the_common_pool() -> None:
    inv = train()
    apply_plan(inv, plan_preallocation(inv, TYPICAL))
    inv.allocate("ZE", 3, 4, 1, "DDD")  # one DDD seat partly sold
    releases = plan_release(inv)
    assert releases == [("PA-ZE-BBB", "ZE-common", 6), ("PA-ZE-DDD", "ZE-common", 5)]
    moves = apply_release(inv, releases)
    assert sum(len(move.seats) for move in moves) == 11
    assert inv.quota_seats("PA-ZE-BBB") == inv.quota_seats("PA-ZE-DDD") == []
    assert inv.free_seats("ZE", 0, 5, "AAA") == 99  # all but the partly sold seat
    assert inv.free_seats("ZE", 0, 3, "AAA") == 100  # its free remainder is common now
    assert inv.free_seats("ZE", 4, 5, "EEE") == 100


def test_release_twice_moves_seats_once() -> None:
    inv = train()
    apply_plan(inv, plan_preallocation(inv, TYPICAL))
    releases = plan_release(inv)
    apply_release(inv, releases)
    assert apply_release(inv, releases) == []
    assert plan_release(inv) == []


def test_release_touches_only_quotas_with_the_prefix() -> None:
    quotas = [COMMON, Quota("ddd", "ZE", Purpose.STATION, board=3)]
    inv = train(seats=200, quotas=quotas)
    rules = PreallocationSettings(quota_prefix="AUTO")
    apply_plan(inv, plan_preallocation(inv, TYPICAL, rules))
    assert plan_release(inv) == []
    assert [r.quota_id for r in plan_release(inv, "AUTO")] == ["AUTO-ZE-BBB", "AUTO-ZE-DDD"]


# ----- forecasts and settings ---------------------------------------------------


def test_forecast_from_sales_averages_over_runs() -> None:
    records = [
        ("ZE", 0, 5, 10),
        ("ZE", 0, 5, 11),
        ("ZE", 0, 5, 12),
        ("ZE", 1, 3, 2),  # 2 / 3 -> 1
        ("ZE", 2, 4, 1),  # 1 / 3 -> 0, dropped
    ]
    made = OdForecast.from_sales(records, runs=3)
    assert made.demand == {("ZE", 0, 5): 11, ("ZE", 1, 3): 1}
    assert made.boarding("ZE", 0) == 11
    assert made.passengers("ZE", 2, 4) == 0
    assert OdForecast.from_sales([("ZE", 1, 2, 3)], runs=2).passengers("ZE", 1, 2) == 2  # halves up


def test_bad_forecasts_and_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="past run"):
        OdForecast.from_sales([], runs=0)
    with pytest.raises(ValueError, match="not a journey"):
        OdForecast({("ZE", 3, 3): 1})
    with pytest.raises(ValueError, match="negative"):
        OdForecast({("ZE", 1, 3): -1})
    with pytest.raises(ValueError, match="share_percent"):
        PreallocationSettings(share_percent=101)
    with pytest.raises(ValueError, match="sharing stations"):
        PreallocationSettings(share=ShareMode.STATIONS)


# ----- property -----------------------------------------------------------------

JOURNEYS = [(a, b) for a in range(len(STOPS)) for b in range(a + 1, len(STOPS))]


@settings(max_examples=200, deadline=None)
@given(
    seats=st.integers(1, 60),
    share=st.integers(0, 100),
    counts=st.lists(st.integers(0, 40), min_size=len(JOURNEYS), max_size=len(JOURNEYS)),
)
def test_plan_fits_the_free_seats_and_scales_wants_fairly(
    seats: int, share: int, counts: list[int]
) -> None:
    demand = OdForecast({("ZE", a, b): n for (a, b), n in zip(JOURNEYS, counts, strict=True)})
    plan = plan_preallocation(train(seats), demand, PreallocationSettings(share_percent=share))
    left = max(0, seats - demand.boarding("ZE", 0))
    wants = {b: (2 * demand.boarding("ZE", b) * share + 100) // 200 for b in range(1, 5)}
    grants = {b: 0 for b in wants} | {item.board: item.seats for item in plan.items}
    total_want = sum(wants.values())
    assert plan.total_seats == sum(grants.values()) == min(left, total_want)
    for b, want in wants.items():
        assert 0 <= grants[b] <= want
        # Within one seat of the exact proportional share (largest remainder).
        assert abs(grants[b] * total_want - want * min(left, total_want)) < max(total_want, 1)
    inv = train(seats)
    apply_plan(inv, plan_preallocation(inv, demand, PreallocationSettings(share_percent=share)))
    assert len(inv.quota_seats("ZE-common")) == seats - plan.total_seats
