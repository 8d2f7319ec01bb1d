"""What a TVM asks besides selling: where it can go, which trains go there, its blocks.

Answered on the read path like availability (``central.reads.queries``): a
read-only connection, the run reader's timetables and inventories caught up
by version, never the writer. Journeys count seats exactly as availability
does for the same seller, and show nothing sellable once the train has left
the boarding station.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, date
from typing import Any

from sqlalchemy import Connection, Engine, select

from central.blocks.leases import block_view, held_seats
from central.reads.runs import RunReader
from central.romanise import romanised
from central.sales.context import SalesContext
from central.store import tables as t
from central.timetable import RunInfo
from protocol.tvm import (
    BlocksResponse,
    Destination,
    DestinationsResponse,
    JourneyClass,
    JourneyOption,
    JourneysResponse,
)


class TvmReads:
    """Destinations, journeys and a TVM's blocks, from the read path."""

    def __init__(self, engine: Engine, ctx: SalesContext, runs: RunReader) -> None:
        self.engine = engine
        self.ctx = ctx
        self.runs = runs

    @contextlib.contextmanager
    def _reading(self) -> Iterator[Connection]:
        with self.engine.connect().execution_options(read_only=True) as conn, conn.begin():
            yield conn

    def destinations(self, station: str, day: date) -> dict[str, Any]:
        """Stations some run of ``day`` calls at after ``station``, by name."""
        found: dict[str, str] = {}
        own_name = station  # a station no run of the day calls at is shown by its code
        with self._reading() as conn:
            for info in self._infos(conn, day):
                codes = info.codes
                if station in codes:
                    at = codes.index(station)
                    own_name = info.spec.stops[at].name
                    for stop in info.spec.stops[at + 1 :]:
                        found.setdefault(stop.station, stop.name)
        ordered = sorted(found.items(), key=lambda item: (item[1], item[0]))
        own = romanised(own_name)
        answer = DestinationsResponse(
            station=station,
            station_name=own_name,
            station_pinyin=own.pinyin,
            station_initials=own.initials,
            date=day,
            destinations=[_destination(code, name) for code, name in ordered],
        )
        return answer.model_dump(mode="json", by_alias=True)

    def journeys(
        self, from_station: str, to_station: str, day: date, seller: str | None
    ) -> dict[str, Any]:
        """Every run of ``day`` from ``from_station`` to ``to_station``, by departure."""
        options = []
        with self._reading() as conn:
            for run_id in self._run_ids(conn, day):
                info = self.runs.info(conn, run_id)
                codes = info.codes
                if from_station in codes and to_station in codes[codes.index(from_station) + 1 :]:
                    options.append(self._option(conn, run_id, from_station, to_station, seller))
        options.sort(key=lambda option: (option.departs_at, option.train))
        return JourneysResponse(journeys=options).model_dump(mode="json", by_alias=True)

    def blocks(self, device_id: str) -> dict[str, Any]:
        """The TVM's active blocks, with the seats each still holds."""
        blocks = t.seat_blocks.c
        query = (
            select(t.seat_blocks)
            .where(blocks.device_id == device_id, blocks.status == "active")
            .order_by(blocks.created_at, blocks.block_id)
        )
        settings = self.ctx.settings
        with self._reading() as conn:
            views = [
                block_view(
                    self.runs.info(conn, block.run_id),
                    block,
                    held_seats(conn, block.block_id),
                    settings,
                )
                for block in conn.execute(query).all()
            ]
        return BlocksResponse(blocks=views).model_dump(mode="json", by_alias=True)

    def _option(
        self, conn: Connection, run_id: int, from_station: str, to_station: str, seller: str | None
    ) -> JourneyOption:
        with self.runs.inventory(conn, run_id) as run:
            info = run.info
            a, b = info.journey(from_station, to_station)
            departed = self.ctx.now() >= info.departs(a)
            classes = []
            for seat_class in info.seat_classes():
                left = run.inventory.availability(seat_class, a, b, seller)
                classes.append(
                    JourneyClass(
                        seat_class=seat_class,
                        seats=0 if departed else left.seats,
                        standing=0 if departed else left.standing,
                        price_fen=info.price_fen(seat_class, a, b),
                    )
                )
        return JourneyOption(
            train=info.spec.train,
            date=info.spec.date,
            from_station=from_station,
            to_station=to_station,
            from_name=info.spec.stops[a].name,
            to_name=info.spec.stops[b].name,
            departs_at=info.departs(a).astimezone(UTC),  # answers give UTC
            arrives_at=info.arrives(b).astimezone(UTC),
            classes=classes,
        )

    def _run_ids(self, conn: Connection, day: date) -> list[int]:
        runs = t.train_runs.c
        query = select(runs.run_id).where(runs.service_date == day.isoformat())
        return list(conn.execute(query).scalars())

    def _infos(self, conn: Connection, day: date) -> list[RunInfo]:
        return [self.runs.info(conn, run_id) for run_id in self._run_ids(conn, day)]


def _destination(code: str, name: str) -> Destination:
    latin = romanised(name)
    return Destination(code=code, name=name, pinyin=latin.pinyin, initials=latin.initials)
