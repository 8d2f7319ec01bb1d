"""The real-name rule: one ID number may not hold two tickets whose journeys overlap.

Tickets keep a keyed hash of the holder's ID number (``id_key``), never the
number itself. On PostgreSQL each holder is locked for the transaction with
an advisory lock, so two processes selling different trains to the same
person cannot both pass the check; SQLite's write lock already serialises.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, and_, func, select, text

from central.store import tables as t
from protocol.errors import ErrorCode, StationKitError

LIVE_STATUSES = ("held", "issued")


class JourneyOverlap(StationKitError):
    """The passenger already holds a ticket for an overlapping journey."""

    code = ErrorCode.JOURNEY_OVERLAP


def check_holders(
    conn: Connection,
    holder_keys: list[str],
    departs: datetime,
    arrives: datetime,
    except_ticket: str | None = None,
) -> None:
    """Refuse if any holder has a live ticket overlapping [departs, arrives)."""
    if len(set(holder_keys)) != len(holder_keys):
        raise JourneyOverlap("the same ID number appears twice in one order")
    if conn.dialect.name == "postgresql":
        for key in sorted(holder_keys):  # sorted: two sellers lock in the same order
            conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": key})
    query = (
        select(func.count())
        .select_from(t.tickets)
        .where(
            and_(
                t.tickets.c.id_key.in_(holder_keys),
                t.tickets.c.status.in_(LIVE_STATUSES),
                t.tickets.c.departs_at < arrives,
                t.tickets.c.arrives_at > departs,
            )
        )
    )
    if except_ticket is not None:
        query = query.where(t.tickets.c.ticket_id != except_ticket)
    if conn.execute(query).scalar_one():
        raise JourneyOverlap("a passenger already holds a ticket for an overlapping journey")
