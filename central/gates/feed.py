"""A station's feed for its gates: tickets that board or alight there, revocations, keys.

Every issue, refund and change appends an event in the same transaction as
the sale (``central.sales.feed``), with an increasing id. A gate asks for its
station's events after the last id it holds, page by page, so a gate that was
offline for days catches up from its cursor and a new gate starts from zero.
Tickets whose validity ended more than ``feed_history_hours`` ago are left
out (the cursor passes them all the same). Each page carries the keys that
sign tickets (all of them: rotation is seamless), the key gates compute
holder tags with, and central's time for the gates' clock-skew guard.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, or_, select

from central.blocks import keys as unit_keys
from central.sales.context import SalesContext
from central.signing import HOLDER_TAG_KEY_ID
from central.store import tables as t

MAX_PAGE = 5000


def feed_page(
    conn: Connection, ctx: SalesContext, station: str, cursor: int, limit: int
) -> dict[str, Any]:
    """The station's events after ``cursor``, oldest first, at most ``limit``."""
    limit = max(1, min(limit, MAX_PAGE))
    now, settings, keys = ctx.now(), ctx.settings, ctx.keys
    # a ticket is valid until its arrival + valid_after_arrival_minutes (its token says so)
    kept = timedelta(
        hours=settings.feed_history_hours, minutes=settings.valid_after_arrival_minutes
    )
    since = now - kept  # arrived before this: validity ended more than the history ago
    rows = conn.execute(_events_query(station, cursor, limit, since)).all()
    page = rows[:limit]
    return {
        "station": station,
        "cursor": page[-1].event_id if page else cursor,
        "more": len(rows) > limit,
        "central_time": now,
        "tickets": [_ticket(row) for row in page if row.kind == "issued"],
        "revocations": [_revocation(row) for row in page if row.kind == "revoked"],
        "keys": [
            {"key_id": key.key_id, "public_key": key.public_hex()}
            for key in (keys.key_ring().get(n) for n in keys.key_ring().key_ids())
            if key is not None
        ],
        "unit_keys": unit_keys.published(conn, now),
        "holder_tag_key_id": HOLDER_TAG_KEY_ID,
        "holder_tag_key": keys.holder_tag_key.hex(),
        "token_opens_minutes": settings.checkin_opens_minutes,
        "token_after_arrival_minutes": settings.valid_after_arrival_minutes,
    }


def _events_query(station: str, cursor: int, limit: int, since: datetime) -> Any:
    events = t.ticket_events.c
    return (
        select(t.ticket_events, t.train_runs.c.train, t.train_runs.c.service_date)
        .select_from(t.ticket_events.join(t.train_runs, events.run_id == t.train_runs.c.run_id))
        .where(events.event_id > cursor)
        .where(or_(events.board_station == station, events.dest_station == station))
        .where(events.arrives_at > since)
        .order_by(events.event_id)
        .limit(limit + 1)
    )


def _ticket(row: Any) -> dict[str, Any]:
    return {
        "event_id": row.event_id,
        "ticket_id": row.ticket_id,
        "token": row.token,
        "train": row.train,
        "date": row.service_date,
        "from": row.board_station,
        "to": row.dest_station,
        "departs_at": row.departs_at,
        "arrives_at": row.arrives_at,
        "holder_tag": row.holder_tag,
        "gate_group": row.gate_group,
    }


def _revocation(row: Any) -> dict[str, Any]:
    return {
        "event_id": row.event_id,
        "ticket_id": row.ticket_id,
        "reason": row.reason,
        "at": row.at,
        "arrives_at": row.arrives_at,
    }
