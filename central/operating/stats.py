"""Sales statistics by hour, selling station, channel and OD pair.

Money is counted as it really moved: an issued ticket brings its price, a
refunded one only the fee kept, a changed one the fee (if any) while its
replacement brings the new price. ``tickets`` counts tickets issued and
still valid. These figures feed the pre-allocation forecast and reports.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import Connection, and_, select

from central.store import tables as t
from protocol.messages import SalesStatsResponse, StatsRow
from protocol.timetable import TrainRunSpec

MONEY_STATUSES = ("issued", "refunded", "changed")


def sales_stats(
    conn: Connection,
    date_from: date | None = None,
    date_to: date | None = None,
    train: str | None = None,
) -> SalesStatsResponse:
    """Aggregate sales of runs whose service date lies in [date_from, date_to]."""
    query = (
        select(t.tickets, t.train_runs.c.spec)
        .select_from(t.tickets.join(t.train_runs, t.tickets.c.run_id == t.train_runs.c.run_id))
        .where(t.tickets.c.status.in_(MONEY_STATUSES))
    )
    if date_from is not None:
        query = query.where(t.train_runs.c.service_date >= date_from.isoformat())
    if date_to is not None:
        query = query.where(t.train_runs.c.service_date <= date_to.isoformat())
    if train is not None:
        query = query.where(and_(t.train_runs.c.train == train))
    buckets: dict[str, dict[str, list[int]]] = {
        name: defaultdict(lambda: [0, 0]) for name in ("hour", "station", "channel", "od")
    }
    codes_of: dict[str, list[str]] = {}
    for row in conn.execute(query):
        codes = codes_of.get(row.spec) or codes_of.setdefault(row.spec, _codes(row.spec))
        _count(buckets, row, codes)
    return SalesStatsResponse(
        by_hour=_rows(buckets["hour"]),
        by_station=_rows(buckets["station"]),
        by_channel=_rows(buckets["channel"]),
        by_od=_rows(buckets["od"]),
    )


def _count(buckets: dict[str, dict[str, list[int]]], row: Any, codes: list[str]) -> None:
    money = row.price_fen if row.status == "issued" else (row.fee_fen or 0)
    live = 1 if row.status == "issued" else 0
    sold_at = row.issued_at or row.created_at
    keys = {
        "hour": sold_at.strftime("%Y-%m-%dT%H:00Z"),
        "station": row.station or row.channel,
        "channel": row.channel,
        "od": f"{codes[row.board]}-{codes[row.dest]}",
    }
    for name, key in keys.items():
        bucket = buckets[name][key]
        bucket[0] += live
        bucket[1] += money


def _rows(bucket: dict[str, list[int]]) -> list[StatsRow]:
    return [StatsRow(key=key, tickets=v[0], revenue_fen=v[1]) for key, v in sorted(bucket.items())]


def _codes(spec_json: str) -> list[str]:
    return [stop.station for stop in TrainRunSpec.model_validate_json(spec_json).stops]
