"""The real-name rule: one ID number may not hold two tickets whose journeys overlap.

Tickets keep a keyed hash of the holder's ID number (``id_key``), never the
number itself. On PostgreSQL each holder is locked for the transaction with
an advisory lock, so two processes selling different trains to the same
person cannot both pass the check; SQLite's write lock already serialises.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache

from sqlalchemy import Connection, text

from central.store import fastsql
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
    params = {f"k{n}": key for n, key in enumerate(holder_keys)}
    params.update(
        departs=fastsql.db_time(conn, departs),
        arrives=fastsql.db_time(conn, arrives),
        except_ticket=except_ticket or "",
    )
    if fastsql.fetch_one(conn, _overlap_query(len(holder_keys)), params) is not None:
        raise JourneyOverlap("a passenger already holds a ticket for an overlapping journey")


@cache
def _overlap_query(holders: int) -> fastsql.Statement:
    """The overlap query for a number of holders (one statement per order size)."""
    keys = ", ".join(f":k{n}" for n in range(holders))
    return fastsql.Statement(
        f"SELECT 1 FROM tickets WHERE id_key IN ({keys}) AND status IN ('held', 'issued')"
        " AND departs_at < :arrives AND arrives_at > :departs AND ticket_id <> :except_ticket"
        " LIMIT 1"
    )
