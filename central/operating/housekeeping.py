"""Housekeeping: expire holds, run due presale work, return due seat blocks, forget answers.

One writer command, run every ``housekeeping_seconds`` by whichever writer
the process has: the writer thread of a single-process server or the
writer process of a split one.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import Connection

from central.blocks import leases
from central.operating import presale
from central.sales import orders
from central.sales.context import SalesContext
from central.writer.once import forget_old

log = logging.getLogger(__name__)


def chores(conn: Connection, ctx: SalesContext) -> tuple[int, list[str]]:
    """Do one round; returns how many orders expired and what presale work ran."""
    expired = orders.expire_due(conn, ctx)
    done = presale.run_due(conn, ctx) + leases.return_due(conn, ctx)
    forget_old(conn, ctx.now() - timedelta(days=ctx.settings.idempotency_days))
    return expired, done


def report(expired: int, done: list[str]) -> None:
    """Log a round that did something."""
    if expired or done:
        log.info("housekeeping: %d orders expired; %s", expired, "; ".join(done))
