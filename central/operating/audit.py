"""The audit trail: every operator action, who did it, when, what and why."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from central.store import tables as t
from protocol.messages import AuditRecord


def record(
    conn: Connection,
    *,
    at: datetime,
    actor: str,
    action: str,
    run_id: int | None,
    reason: str,
    detail: dict[str, Any],
) -> int:
    """Write one audit record in the caller's transaction; returns its id."""
    result = conn.execute(
        insert(t.audit).values(
            at=at,
            actor=actor,
            action=action,
            run_id=run_id,
            reason=reason,
            detail=json.dumps(detail, ensure_ascii=False, sort_keys=True),
        )
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def recent(conn: Connection, limit: int = 100, run_id: int | None = None) -> list[AuditRecord]:
    """The newest audit records first, optionally of one run."""
    query = (
        select(t.audit, t.train_runs.c.train, t.train_runs.c.service_date)
        .select_from(t.audit.outerjoin(t.train_runs, t.audit.c.run_id == t.train_runs.c.run_id))
        .order_by(t.audit.c.audit_id.desc())
        .limit(limit)
    )
    if run_id is not None:
        query = query.where(t.audit.c.run_id == run_id)
    return [
        AuditRecord(
            audit_id=row.audit_id,
            at=row.at,
            actor=row.actor,
            action=row.action,
            train=row.train,
            date=row.service_date,
            reason=row.reason,
            detail=json.loads(row.detail),
        )
        for row in conn.execute(query)
    ]
