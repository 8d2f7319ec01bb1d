"""A ticket vending machine's sales journal: every step of every sale, on disk before it acts.

A sale is one row that moves from state to state (held, charging, charged,
issued, printed ...) and one step row per move; each move commits durably
before the TVM does what it says next, so after a crash the TVM reads its
open sales and finishes each from where it stood. The states are the TVM's
(``device.tvm.checkout``); the journal only keeps them. No ID number is ever
kept here: passengers appear masked.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from offline_store.columns import check_code, from_json, from_millis, to_json, to_millis
from offline_store.connection import StoreConnection, query, query_one, write_transaction

MAX_DETAIL_BYTES = 16_384
COLUMNS = (
    "sale_id, kind, state, is_open, order_id, amount_fen, transaction_id, reversal_id,"
    " payment, tickets, printed, detail, created_at, updated_at"
)
CHANGEABLE = frozenset(
    {"order_id", "amount_fen", "transaction_id", "reversal_id", "payment", "tickets", "printed"}
)


@dataclass(frozen=True, slots=True)
class Sale:
    """One sale as journaled."""

    sale_id: str
    kind: str  # purchase, refund, change, offline
    state: str
    is_open: bool
    order_id: str | None
    amount_fen: int
    transaction_id: str | None
    reversal_id: str | None
    payment: dict[str, object] | None
    tickets: list[dict[str, Any]] | None
    printed: int
    detail: dict[str, object]
    created_at: dt.datetime
    updated_at: dt.datetime


class SalesJournal:
    """The sales journal on one connection."""

    def __init__(self, conn: StoreConnection) -> None:
        self._conn = conn

    def begin(
        self, sale_id: str, kind: str, state: str, detail: Mapping[str, object], at: dt.datetime
    ) -> Sale:
        """Journal a new sale in its first state; on disk when this returns."""
        check_code("kind", kind)
        check_code("state", state)
        text, now = to_json("detail", detail, MAX_DETAIL_BYTES), to_millis("at", at)
        with write_transaction(self._conn) as conn:
            conn.execute(
                "INSERT INTO sales (sale_id, kind, state, is_open, amount_fen, printed, detail,"
                " created_at, updated_at) VALUES (?, ?, ?, 1, 0, 0, ?, ?, ?)",
                (sale_id, kind, state, text, now, now),
            )
            _append_step(conn, sale_id, state, now, {})
        return self._must_get(sale_id)

    def step(
        self,
        sale_id: str,
        state: str,
        at: dt.datetime,
        *,
        is_open: bool = True,
        note: Mapping[str, object] | None = None,
        **changes: Any,
    ) -> Sale:
        """Move a sale to ``state`` with its changed columns; on disk when this returns."""
        check_code("state", state)
        unknown = set(changes) - CHANGEABLE
        if unknown:
            raise ValueError(f"not a sale column: {', '.join(sorted(unknown))}")
        now = to_millis("at", at)
        values = {key: _column(key, value) for key, value in changes.items()}
        assignments = "".join(f", {key} = ?" for key in values)
        sql = (
            f"UPDATE sales SET state = ?, is_open = ?, updated_at = ?{assignments}"
            " WHERE sale_id = ?"
        )
        with write_transaction(self._conn) as conn:
            args = (state, int(is_open), now, *values.values(), sale_id)
            if conn.execute(sql, args).rowcount != 1:
                raise ValueError(f"no sale {sale_id}")
            _append_step(conn, sale_id, state, now, note or {})
        return self._must_get(sale_id)

    def get(self, sale_id: str) -> Sale | None:
        """The sale ``sale_id``, or None."""
        return query_one(
            self._conn, f"SELECT {COLUMNS} FROM sales WHERE sale_id = ?", (sale_id,), _sale
        )

    def open_sales(self) -> list[Sale]:
        """Every sale not in a final state, oldest first: what a restart must finish."""
        sql = f"SELECT {COLUMNS} FROM sales WHERE is_open = 1 ORDER BY created_at"
        return query(self._conn, sql, (), _sale)

    def between(self, start: dt.datetime, end: dt.datetime) -> list[Sale]:
        """Sales begun in [start, end), oldest first (the shift report)."""
        sql = (
            f"SELECT {COLUMNS} FROM sales WHERE created_at >= ? AND created_at < ?"
            " ORDER BY created_at"
        )
        args = (to_millis("start", start), to_millis("end", end))
        return query(self._conn, sql, args, _sale)

    def steps(self, sale_id: str) -> list[tuple[dt.datetime, str, dict[str, object]]]:
        """Every state a sale went through, in order, with its notes."""
        sql = "SELECT at, state, detail FROM sale_steps WHERE sale_id = ? ORDER BY seq"
        return query(self._conn, sql, (sale_id,), _step)

    def _must_get(self, sale_id: str) -> Sale:
        sale = self.get(sale_id)
        assert sale is not None  # just written in this connection's transaction
        return sale


def _append_step(
    conn: StoreConnection, sale_id: str, state: str, at: int, note: Mapping[str, object]
) -> None:
    text = to_json("note", note, MAX_DETAIL_BYTES)
    conn.execute(
        "INSERT INTO sale_steps (sale_id, at, state, detail) VALUES (?, ?, ?, ?)",
        (sale_id, at, state, text),
    )


def _column(key: str, value: Any) -> object:
    if key in {"payment"}:
        return None if value is None else to_json(key, value, MAX_DETAIL_BYTES)
    if key == "tickets":
        return None if value is None else json.dumps(list(value), separators=(",", ":"))
    return value


def _sale(row: Any) -> Sale:
    return Sale(
        sale_id=row[0],
        kind=row[1],
        state=row[2],
        is_open=bool(row[3]),
        order_id=row[4],
        amount_fen=int(row[5]),
        transaction_id=row[6],
        reversal_id=row[7],
        payment=from_json(row[8]),
        tickets=None if row[9] is None else json.loads(row[9]),
        printed=int(row[10]),
        detail=from_json(row[11]) or {},
        created_at=from_millis(row[12]),
        updated_at=from_millis(row[13]),
    )


def _step(row: Any) -> tuple[dt.datetime, str, dict[str, object]]:
    return from_millis(row[0]), row[1], from_json(row[2]) or {}
