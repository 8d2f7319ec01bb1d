"""The seat inventory of one train run: allocation, release, counts, quota moves.

Pure and in memory; the store loads it, applies one command, and writes back
the seats the command touched (one record per seat). Allocation takes the
boarding station's own quotas first (reserved, its reuse remainders, or
through-sale before a later station's reservation), then common quotas, and
within a tier the seat whose free run fits the journey most tightly, which
keeps long free runs for long journeys.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from central.inventory.errors import BadJourney, NotEnoughSeats, SoldOut, UnknownQuota
from central.inventory.geometry import Span, eligibility_for, geometry_for
from central.inventory.pools import QuotaPool
from central.inventory.quotas import Quota
from central.inventory.seats import ReusePolicy, SeatState


@dataclass(frozen=True)
class SeatInfo:
    """A physical seat: its coach, number within the coach and class."""

    coach: int
    number: int
    seat_class: str


class Placement(NamedTuple):
    """Where one passenger was put, and why (a tuple: built on every sale, cheaply)."""

    seat_class: str
    board: int
    dest: int
    seat: int | None  # index into the run's seats; None = standing
    coach: int | None
    number: int | None
    quota_id: str | None
    is_remote: bool
    fit: tuple[str, str] | None  # the free run the seat was taken from; None = standing

    @property
    def reason(self) -> str:
        """Why this place was chosen, for the audit trail and the operator."""
        if self.fit is None:
            return "standing: no seat free for the journey"
        return f"tightest free run {self.fit[0]}-{self.fit[1]} in quota {self.quota_id}"


class Availability(NamedTuple):
    """What can be sold now for one journey and class."""

    seats: int
    standing: int


class TrainInventory:
    """Seats, quotas and standing places of one train run."""

    def __init__(
        self,
        stops: Sequence[str],
        seats: Sequence[SeatInfo],
        quotas: Sequence[Quota],
        reuse: ReusePolicy,
        standing_capacity: dict[str, int],
    ) -> None:
        self.stops = list(stops)
        self.geo = geometry_for(len(stops) - 1)
        self.seats = list(seats)
        self.reuse = reuse
        self.states = [SeatState() for _ in seats]
        self.seat_quota: list[str] = [""] * len(seats)
        self.pools: dict[str, QuotaPool] = {}
        self.pools_by_class: dict[str, list[QuotaPool]] = {s.seat_class: [] for s in seats}
        self.standing_capacity = dict(standing_capacity)
        self.standing_sold = {c: [0] * self.geo.segments for c in self.standing_capacity}
        # Which quotas a seller may use for a journey depends on quota rules only: cache it.
        self._sellable: dict[
            tuple[str, int, int, str | None], tuple[list[QuotaPool], list[QuotaPool]]
        ] = {}
        for quota in quotas:
            self.add_quota(quota)

    # ----- set-up and loading -------------------------------------------------

    def add_quota(self, quota: Quota) -> None:
        """Add an empty quota (a new pre-allocation or an adjustment target)."""
        if quota.seat_class not in self.pools_by_class:
            raise BadJourney(f"class {quota.seat_class} has no seats on this train")
        through = self.reuse.is_unlimited and quota.board not in self.reuse.no_reuse_stops
        table = eligibility_for(self.geo.segments, quota.board, through)
        pool = QuotaPool(quota, table)
        self.pools[quota.quota_id] = pool
        self.pools_by_class[quota.seat_class].append(pool)
        self._sellable.clear()

    def load_seat(self, seat: int, quota_id: str, state: SeatState | None = None) -> None:
        """Put a seat into a quota with the given state (fresh when None)."""
        pool = self._pool(quota_id)
        if pool.quota.seat_class != self.seats[seat].seat_class:
            raise UnknownQuota(f"quota {quota_id} is not of the class of seat {seat}")
        if self.seat_quota[seat]:
            self._take_out(seat)
        self.states[seat] = state or SeatState()
        self.seat_quota[seat] = quota_id
        self._put_in(seat)

    def load_standing(self, seat_class: str, sold: Sequence[int]) -> None:
        """Restore the standing places sold per segment."""
        self.standing_sold[seat_class] = list(sold)

    # ----- queries ------------------------------------------------------------

    def availability(self, seat_class: str, a: int, b: int, seller: str | None) -> Availability:
        """Exact seats and standing places sellable now for journey (a, b)."""
        seats = self.free_seats(seat_class, a, b, seller)
        standing = 0
        if not seats:  # standing places are offered once no seat fits
            standing = self._free_standing(seat_class, a, b)
        return Availability(seats, standing)

    def free_seats(self, seat_class: str, a: int, b: int, seller: str | None) -> int:
        """Seats that ``seller`` can sell for journey (a, b)."""
        od = self._od(seat_class, a, b)
        tiers = self._sellable_tiers(seat_class, a, b, seller)
        return sum(pool.count(od) for tier in tiers for pool in tier)

    def od_matrix(self, seat_class: str, seller: str | None = None) -> list[list[int]]:
        """Seats sellable for every OD pair: ``matrix[a][b]`` (0 where b <= a)."""
        self._od(seat_class, 0, 1)
        size = len(self.stops)
        matrix = [[0] * size for _ in range(size)]
        for pool in self.pools_by_class[seat_class]:
            for od, (a, b) in enumerate(self.geo.ods):
                if pool.quota.admits(a, seller, self.stops[a]) and pool.quota.reaches(a, b):
                    matrix[a][b] += pool.count(od)
        return matrix

    def quotas(self) -> list[Quota]:
        """Every quota of the run, in the order they were added."""
        return [pool.quota for pool in self.pools.values()]

    def quota_of(self, seat: int) -> str:
        """The quota a seat belongs to."""
        return self.seat_quota[seat]

    def quota_seats(self, quota_id: str) -> list[int]:
        """Seats in a quota, lowest first."""
        self._pool(quota_id)
        return [s for s, q in enumerate(self.seat_quota) if q == quota_id]

    # ----- commands -----------------------------------------------------------

    def allocate(
        self, seat_class: str, a: int, b: int, count: int, seller: str | None
    ) -> list[Placement]:
        """Place ``count`` passengers, all or none; seats first, standing when none fit."""
        if count < 1:
            raise BadJourney(f"at least one passenger is needed, got {count}")
        # One passenger needs no head count: the best-fit search itself says if a seat is left.
        seats = self.free_seats(seat_class, a, b, seller) if count > 1 else 1
        standing_needed = max(0, count - seats)
        if standing_needed and self._free_standing(seat_class, a, b) < standing_needed:
            self._refuse(seat_class, a, b, count, seller)
        if count == 1:
            return [self._place_one(seat_class, a, b, seller)]
        placements = [
            self._place_seat(seat_class, a, b, seller) for _ in range(count - standing_needed)
        ]
        placements += [self._place_standing(seat_class, a, b) for _ in range(standing_needed)]
        return placements

    def reserve(self, seat_class: str, a: int, count: int, seller: str | None) -> list[Placement]:
        """Take ``count`` seats from stop a to the end of the run, all or none, never standing.

        For a block of seats that ``seller`` sells on later to any stop after
        a: only quotas that let ``seller`` sell a journey boarding at a to the
        very next stop are used (a restricted-sale segment would forbid the
        short journeys), the boarding station's own quotas first and, within
        them, the tightest free run, as ``allocate`` chooses.
        """
        if count < 1:
            raise BadJourney(f"at least one seat is needed, got {count}")
        last = len(self.stops) - 1
        if a >= last:
            raise BadJourney(f"no journey boards at the last stop {self.stops[last]}")
        od = self._od(seat_class, a, last)
        tiers = self._sellable_tiers(seat_class, a, a + 1, seller)
        free = sum(pool.count(od) for tier in tiers for pool in tier)
        if free < count:
            where = f"{seat_class} {self.stops[a]}-{self.stops[last]}"
            if not free:
                raise SoldOut(f"no {where} seat is free for every stop after {self.stops[a]}")
            raise NotEnoughSeats(f"{where}: {free} seats free for every stop, {count} asked")
        placements = []
        for _ in range(count):
            found = self._best_in(tiers, od)
            assert found is not None  # counted just above
            placements.append(self._sell(found[0], found[1], a, last, seller))
        return placements

    def place_on(self, seat: int, a: int, b: int) -> Placement:
        """Sell journey (a, b) on this very seat, if the seat is free for it (else ``SoldOut``)."""
        self._od(self.seats[seat].seat_class, a, b)
        taken = self.states[seat].taken
        if taken & self.geo.journey_mask(a, b):
            info = self.seats[seat]
            raise SoldOut(
                f"seat {info.coach}-{info.number} is not free for {self.stops[a]}-{self.stops[b]}"
            )
        pool = self.pools[self.seat_quota[seat]]
        run = self.geo.run_id[self.geo.run_containing(taken, a, b)]
        return self._sell_seat(pool, run, seat, a, b, None)

    def replace_sale(self, seat: int, old: Span, new: Span) -> Placement:
        """Replace a seat's live sale by a journey within it, in its place in sale order.

        A block's seat sold to a nearer stop: the seat is rebuilt by replaying
        its sales with ``new`` for ``old``, so the rest of ``old`` is offered
        again as the reuse policy allows, as if ``new`` had been sold then.
        """
        (a, b), (new_a, new_b) = old, new
        if not a <= new_a < new_b <= b:
            raise BadJourney(f"journey {new_a}-{new_b} is not within {a}-{b}")
        journeys = list(self.states[seat].journeys)
        journeys[journeys.index(old)] = new  # ValueError: the seat has no such live sale (a bug)
        self.release_seat(seat, journeys)
        info, quota_id = self.seats[seat], self.seat_quota[seat]
        fit = (self.stops[a], self.stops[b])
        return Placement(
            info.seat_class, new_a, new_b, seat, info.coach, info.number, quota_id, False, fit
        )

    def release_seat(self, seat: int, remaining_sales: Iterable[Span]) -> None:
        """Give back a seat's sale: rebuild the seat from its other sales, in sale order."""
        self._take_out(seat)
        self.states[seat] = SeatState.replay(self.geo, self.reuse, remaining_sales)
        self._put_in(seat)

    def release_sale(self, seat: int, a: int, b: int) -> None:
        """Give back the seat's live sale from a to b (its other sales are replayed)."""
        remaining = list(self.states[seat].journeys)
        remaining.remove((a, b))  # ValueError: the seat has no such live sale (a bug)
        self.release_seat(seat, remaining)

    def release_standing(self, seat_class: str, a: int, b: int) -> None:
        """Give back one standing place of journey (a, b)."""
        self._od(seat_class, a, b)
        sold = self.standing_sold.get(seat_class, [0] * self.geo.segments)
        if min(sold[a:b]) <= 0:
            raise BadJourney(f"no standing place sold in {seat_class} for stops {a}-{b}")
        for seg in range(a, b):
            sold[seg] -= 1

    def move_seats(self, from_quota: str, to_quota: str, count: int) -> list[int]:
        """Move ``count`` seats between quotas of one class, emptiest seats first."""
        source, target = self._pool(from_quota), self._pool(to_quota)
        if source.quota.seat_class != target.quota.seat_class:
            raise UnknownQuota(f"quotas {from_quota} and {to_quota} are of different classes")
        members = self.quota_seats(from_quota)
        if count > len(members):
            raise NotEnoughSeats(f"quota {from_quota} has {len(members)} seats, {count} asked")
        members.sort(key=lambda s: (self.states[s].taken.bit_count(), s))
        moved = members[:count]
        for seat in moved:
            self.load_seat(seat, to_quota, self.states[seat])
        return moved

    def set_standing_capacity(self, seat_class: str, capacity: int) -> None:
        """Change the standing capacity of a class (never below what is sold)."""
        if seat_class not in self.pools_by_class:
            raise BadJourney(f"class {seat_class} has no seats on this train")
        sold = self.standing_sold.setdefault(seat_class, [0] * self.geo.segments)
        if capacity < max(sold):
            raise NotEnoughSeats(f"{max(sold)} standing places already sold in {seat_class}")
        self.standing_capacity[seat_class] = capacity

    # ----- internals ----------------------------------------------------------

    def _place_one(self, seat_class: str, a: int, b: int, seller: str | None) -> Placement:
        found = self._best_pool(seat_class, a, b, seller)
        if found is not None:
            return self._sell(found[0], found[1], a, b, seller)
        if self._free_standing(seat_class, a, b) < 1:
            self._refuse(seat_class, a, b, 1, seller)
        return self._place_standing(seat_class, a, b)

    def _place_seat(self, seat_class: str, a: int, b: int, seller: str | None) -> Placement:
        found = self._best_pool(seat_class, a, b, seller)
        if found is None:  # free_seats said yes: the indexes disagree, never expected
            raise SoldOut(f"no {seat_class} seat left for {self.stops[a]}-{self.stops[b]}")
        return self._sell(found[0], found[1], a, b, seller)

    def _sell(self, pool: QuotaPool, run: int, a: int, b: int, seller: str | None) -> Placement:
        return self._sell_seat(pool, run, pool.any_seat(run), a, b, seller)

    def _sell_seat(
        self, pool: QuotaPool, run: int, seat: int, a: int, b: int, seller: str | None
    ) -> Placement:
        state = self.states[seat]
        pool.remove_run(run, seat)
        for span in state.apply_sale(self.geo, self.reuse, a, b):
            pool.add_run(self.geo.run_id[span], seat)
        r0, r1 = self.geo.runs[run]
        quota = pool.quota
        info = self.seats[seat]
        remote = (
            quota.board is not None
            and a >= quota.board
            and quota.is_remote_sale(self.stops[a], seller)
        )
        fit = (self.stops[r0], self.stops[r1])
        return Placement(
            info.seat_class, a, b, seat, info.coach, info.number, quota.quota_id, remote, fit
        )

    def _best_pool(
        self, seat_class: str, a: int, b: int, seller: str | None
    ) -> tuple[QuotaPool, int] | None:
        """The tightest run, the boarding station's own quotas before the common ones."""
        od = self._od(seat_class, a, b)
        return self._best_in(self._sellable_tiers(seat_class, a, b, seller), od)

    def _best_in(
        self, tiers: tuple[list[QuotaPool], list[QuotaPool]], od: int
    ) -> tuple[QuotaPool, int] | None:
        """The tightest run serving ``od`` in the first tier that has one."""
        for tier in tiers:
            best: QuotaPool | None = None
            best_run = len(self.geo.runs)
            for pool in tier:
                candidates = pool.nonempty & pool.table.masks[od]
                run = (candidates & -candidates).bit_length() - 1
                if 0 <= run < best_run:
                    best, best_run = pool, run
            if best is not None:
                return best, best_run
        return None

    def _sellable_tiers(
        self, seat_class: str, a: int, b: int, seller: str | None
    ) -> tuple[list[QuotaPool], list[QuotaPool]]:
        key = (seat_class, a, b, seller)
        tiers = self._sellable.get(key)
        if tiers is None:
            owner = self.stops[a]
            pools = [
                pool
                for pool in self.pools_by_class[seat_class]
                if pool.quota.admits(a, seller, owner) and pool.quota.reaches(a, b)
            ]
            tiers = (
                [pool for pool in pools if pool.quota.board is not None],
                [pool for pool in pools if pool.quota.board is None],
            )
            self._sellable[key] = tiers
        return tiers

    def _place_standing(self, seat_class: str, a: int, b: int) -> Placement:
        sold = self.standing_sold[seat_class]
        for seg in range(a, b):
            sold[seg] += 1
        return Placement(seat_class, a, b, None, None, None, None, False, None)

    def _free_standing(self, seat_class: str, a: int, b: int) -> int:
        capacity = self.standing_capacity.get(seat_class, 0)
        if not capacity:
            return 0
        return max(0, capacity - max(self.standing_sold[seat_class][a:b]))

    def _refuse(self, seat_class: str, a: int, b: int, count: int, seller: str | None) -> None:
        left = self.availability(seat_class, a, b, seller)
        places = left.seats + (self._free_standing(seat_class, a, b))
        where = f"{seat_class} {self.stops[a]}-{self.stops[b]}"
        if not places:
            raise SoldOut(f"{where} is sold out")
        raise NotEnoughSeats(f"{where}: {places} places left, {count} asked")

    def _take_out(self, seat: int) -> None:
        pool = self.pools[self.seat_quota[seat]]
        for run in self.geo.free_runs(self.states[seat].taken):
            pool.remove_run(run, seat)

    def _put_in(self, seat: int) -> None:
        pool = self.pools[self.seat_quota[seat]]
        for run in self.geo.free_runs(self.states[seat].taken):
            pool.add_run(run, seat)

    def _pool(self, quota_id: str) -> QuotaPool:
        pool = self.pools.get(quota_id)
        if pool is None:
            raise UnknownQuota(f"no quota {quota_id!r} on this train run")
        return pool

    def _od(self, seat_class: str, a: int, b: int) -> int:
        if seat_class not in self.pools_by_class:
            raise BadJourney(f"class {seat_class} has no seats on this train")
        od = self.geo.od_id.get((a, b))
        if od is None:
            raise BadJourney(f"no journey from stop {a} to stop {b} on this train")
        return od
