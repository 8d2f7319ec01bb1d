"""A TVM's emergency seat blocks, the tickets it sold from them offline, and its signing key.

Central leases a TVM seats it may sell while central cannot be reached; the
TVM keeps each block as central described it (``Blocks``), records every
ticket it sells from one before printing it (``BlockSales``: a block seat is
sold once, enforced by the store), and uploads those sales when central is
back. The ID number central's real-name rule needs is kept with the sale
until central has it, then masked. ``UnitKey`` is the Ed25519 seed the TVM
signs block tickets with (the store file is readable by its owner only).
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

from offline_store.columns import to_millis
from offline_store.connection import StoreConnection, query, query_one, write_transaction

KEY_BYTES = 32


class BlockSeatTaken(ValueError):
    """That block seat was sold already."""


class Blocks:
    """The blocks central has leased this TVM, as last synced."""

    def __init__(self, conn: StoreConnection) -> None:
        self._conn = conn

    def replace_active(self, views: Sequence[Mapping[str, Any]]) -> None:
        """The active blocks are exactly these (each central's BlockView as JSON values)."""
        with write_transaction(self._conn) as conn:
            conn.execute("UPDATE blocks SET is_active = 0")
            for view in views:
                return_at = dt.datetime.fromisoformat(str(view["return_at"]).replace("Z", "+00:00"))
                conn.execute(
                    "INSERT INTO blocks (block_id, view, is_active, return_at) VALUES (?, ?, 1, ?)"
                    " ON CONFLICT (block_id) DO UPDATE SET view = excluded.view, is_active = 1,"
                    " return_at = excluded.return_at",
                    (view["block_id"], json.dumps(dict(view)), to_millis("return_at", return_at)),
                )

    def active(self, now: dt.datetime) -> list[dict[str, Any]]:
        """Blocks still active and not yet due back."""
        sql = "SELECT view FROM blocks WHERE is_active = 1 AND return_at > ? ORDER BY block_id"
        return query(self._conn, sql, (to_millis("now", now),), lambda row: json.loads(row[0]))


class BlockSales:
    """Tickets sold offline from blocks: the outbox to central."""

    def __init__(self, conn: StoreConnection) -> None:
        self._conn = conn

    def record(
        self, ticket_id: str, block_id: str, coach: int, seat: int, sale: Mapping[str, Any]
    ) -> None:
        """Keep a sale before its ticket prints; ``BlockSeatTaken`` if the seat was sold."""
        try:
            with write_transaction(self._conn) as conn:
                conn.execute(
                    "INSERT INTO block_sales (ticket_id, block_id, coach, seat, sale)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (ticket_id, block_id, coach, seat, json.dumps(dict(sale))),
                )
        except sqlite3.IntegrityError as exc:
            raise BlockSeatTaken(f"block {block_id} seat {coach}-{seat} is sold") from exc

    def sold_seats(self, block_id: str) -> set[tuple[int, int]]:
        """The (coach, seat) of a block sold here."""
        sql = "SELECT coach, seat FROM block_sales WHERE block_id = ?"
        return set(query(self._conn, sql, (block_id,), lambda row: (int(row[0]), int(row[1]))))

    def pending(self, limit: int) -> list[dict[str, Any]]:
        """Sales central has not acknowledged yet, oldest first."""
        sql = "SELECT sale FROM block_sales WHERE uploaded_at IS NULL ORDER BY rowid LIMIT ?"
        return query(self._conn, sql, (limit,), lambda row: json.loads(row[0]))

    def mark_uploaded(self, ticket_id: str, answer: Mapping[str, Any], at: dt.datetime) -> None:
        """Central answered for this sale: keep its answer, mask the ID number it needed."""
        with write_transaction(self._conn) as conn:
            row = conn.execute(
                "SELECT sale FROM block_sales WHERE ticket_id = ?", (ticket_id,)
            ).fetchone()
            if row is None:
                raise ValueError(f"no block sale {ticket_id}")
            sale = json.loads(row[0])
            sale["id_number"] = _masked(str(sale.get("id_number", "")))
            conn.execute(
                "UPDATE block_sales SET sale = ?, uploaded_at = ?, answer = ? WHERE ticket_id = ?",
                (json.dumps(sale), to_millis("at", at), json.dumps(dict(answer)), ticket_id),
            )


class UnitKey:
    """The TVM's own signing key (one), and the id central gave it."""

    def __init__(self, conn: StoreConnection) -> None:
        self._conn = conn

    def get(self) -> tuple[bytes, int | None] | None:
        """The key's 32-byte seed and central's id for it (None until registered)."""
        sql = "SELECT private_key, key_id FROM unit_key WHERE only_row = 1"
        return query_one(self._conn, sql, (), lambda row: (bytes(row[0]), row[1]))

    def create(self, seed: bytes) -> None:
        """Keep a new key (replacing any older one)."""
        if len(seed) != KEY_BYTES:
            raise ValueError(f"an Ed25519 seed is {KEY_BYTES} bytes, got {len(seed)}")
        with write_transaction(self._conn) as conn:
            conn.execute(
                "INSERT INTO unit_key (only_row, private_key, key_id) VALUES (1, ?, NULL)"
                " ON CONFLICT (only_row) DO UPDATE SET private_key = excluded.private_key,"
                " key_id = NULL",
                (seed,),
            )

    def set_key_id(self, key_id: int) -> None:
        """Central's id for the key."""
        with write_transaction(self._conn) as conn:
            conn.execute("UPDATE unit_key SET key_id = ? WHERE only_row = 1", (key_id,))


def _masked(id_number: str) -> str:
    return id_number[:4] + "*" * max(0, len(id_number) - 8) + id_number[-4:] if id_number else ""
