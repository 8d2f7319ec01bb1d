"""Idempotent mutations: a retry with the same key and body gets the first answer.

The key is looked up and the answer stored in the same transaction as the
effect, inside the writer, so a retry that races the first attempt waits
behind it and then replays it. Business errors are stored too: a retry of a
refused request is refused the same way. The same key with another body is
409 ``idempotency_key_reused``. The HTTP side (the header, the request's
fingerprint) is ``central.api.idempotency``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from pydantic import BaseModel
from sqlalchemy import Connection, delete, select

from central.store import fastsql
from central.store import tables as t
from protocol.errors import ErrorCode, StationKitError, error_body, status_for

FIND_ANSWER = fastsql.Statement(
    "SELECT request_hash, status_code, response FROM idempotency"
    " WHERE scope = :scope AND key = :key"
)
LOCK_KEY_PG = fastsql.Statement("SELECT pg_advisory_xact_lock(hashtextextended(:scope_key, 0))")
STORE_ANSWER = fastsql.Statement(
    "INSERT INTO idempotency (scope, key, request_hash, status_code, response, created_at)"
    " VALUES (:scope, :key, :request_hash, :status_code, :response, :created_at)"
)


@dataclass(frozen=True)
class StoredAnswer:
    """An answer as first given: status and JSON body."""

    status: int
    body: bytes


def run_once(
    conn: Connection,
    scope: str,
    key: str,
    fingerprint: str,
    now: datetime,
    status: int,
    command: Callable[[Connection], BaseModel | dict[str, Any]],
) -> StoredAnswer:
    """Run ``command`` unless this key was seen; store and return the answer."""
    if conn.dialect.name == "postgresql":
        # Another server process may run the same key now: wait for it, then replay.
        fastsql.run(conn, LOCK_KEY_PG, {"scope_key": f"{scope}:{key}"})
    seen = fastsql.fetch_one(conn, FIND_ANSWER, {"scope": scope, "key": key})
    if seen is not None:
        seen_hash, seen_status, seen_response = seen
        if seen_hash != fingerprint:
            raise StationKitError(
                f"Idempotency-Key {key!r} was used for a different request",
                ErrorCode.IDEMPOTENCY_KEY_REUSED,
            )
        return StoredAnswer(seen_status, seen_response.encode())
    answer = _answer(conn, status, command)
    row = {
        "scope": scope,
        "key": key,
        "request_hash": fingerprint,
        "status_code": answer.status,
        "response": answer.body.decode(),
        "created_at": fastsql.db_time(conn, now),
    }
    fastsql.run(conn, STORE_ANSWER, row)
    return answer


def forget_old(conn: Connection, before: datetime, limit: int = 5000) -> int:
    """Drop stored answers older than ``before`` (a bounded batch); returns how many."""
    stale = (
        select(t.idempotency.c.scope, t.idempotency.c.key)
        .where(t.idempotency.c.created_at < before)
        .limit(limit)
    )
    keys = conn.execute(stale).all()
    for scope, key in keys:
        conn.execute(
            delete(t.idempotency).where(t.idempotency.c.scope == scope, t.idempotency.c.key == key)
        )
    return len(keys)


def _answer(
    conn: Connection, status: int, command: Callable[[Connection], BaseModel | dict[str, Any]]
) -> StoredAnswer:
    try:
        result = command(conn)
    except StationKitError as exc:  # refused: what the command did on purpose first stays
        return StoredAnswer(status_for(exc.code), orjson.dumps(error_body(exc.code, exc.message)))
    if isinstance(result, BaseModel):
        return StoredAnswer(status, result.model_dump_json(by_alias=True).encode())
    # times as pydantic writes them (UTC as "Z"), whichever way an answer was built
    return StoredAnswer(status, orjson.dumps(result, option=orjson.OPT_UTC_Z))
