"""Passages gates upload: stored once per passage id, checked against each other, anomalies kept.

A gate journals every decision before it acts and uploads its journal when
it can, so central sees passages late and more than once. Each is stored
once by its passage id (a retried upload changes nothing). A new admission
is checked against the admissions central already holds: the same ticket
admitted the same way twice (at one gate or at two, offline) is a
``double_admission``; one admitted after central had revoked it (refunded or
changed while the gate was offline) is ``admitted_revoked``; a refusal for a
forged or foreign token is a ``forged_ticket``. Each is recorded as an
anomaly for operators to follow up, and returned to the gate as a conflict.
An annulment (nobody walked through) cancels the admission it names.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection, and_, insert, select, update

from central.store import tables as t
from protocol.units import GateReason, PassageCount, PassageRecord, PassageUpload

FORGED = frozenset({GateReason.MALFORMED, GateReason.BAD_SIGNATURE, GateReason.UNKNOWN_KEY})


def record_upload(
    conn: Connection, device_id: str, station: str, upload: PassageUpload, now: datetime
) -> dict[str, Any]:
    """Store a batch of a gate's passages and counts; what was new, and the conflicts."""
    conflicts: list[dict[str, Any]] = []
    taken: set[str] = set()  # passage ids new to central in this upload
    duplicates = 0
    for passage in upload.passages:
        if passage.passage_id in taken:
            duplicates += 1  # twice in one batch: its conflicts are in the answer already
        elif _is_known(conn, passage.passage_id):
            duplicates += 1
            conflicts += _recorded_conflicts(conn, station, passage)
        else:
            _store(conn, device_id, station, passage, now)
            taken.add(passage.passage_id)
            conflicts += _check(conn, device_id, station, passage, now)
    for count in upload.counts:
        _store_count(conn, device_id, station, count, now)
    conn.execute(
        update(t.devices).where(t.devices.c.device_id == device_id).values(last_seen_at=now)
    )
    return {
        "accepted": len(taken),
        "duplicates": duplicates,
        "conflicts": conflicts,
        "central_time": now,
    }


def _is_known(conn: Connection, passage_id: str) -> bool:
    query = select(t.passages.c.passage_id).where(t.passages.c.passage_id == passage_id)
    return conn.execute(query).first() is not None


def _store(
    conn: Connection, device_id: str, station: str, passage: PassageRecord, now: datetime
) -> None:
    conn.execute(
        insert(t.passages).values(
            passage_id=passage.passage_id,
            device_id=device_id,
            station=station,
            ticket_id=passage.ticket_id,
            direction=passage.direction,
            kind=passage.kind,
            reason=passage.reason,
            annuls=passage.annuls,
            is_annulled=False,
            at=passage.at,
            central_at=passage.central_at,
            received_at=now,
            mode=passage.mode,
            detail=orjson.dumps(passage.detail).decode(),
        )
    )
    if passage.kind == "annulled" and passage.annuls is not None:
        p = t.passages.c  # a gate annuls only what it admitted itself
        conn.execute(
            update(t.passages)
            .where(p.passage_id == passage.annuls, p.device_id == device_id)
            .values(is_annulled=True)
        )


def _check(
    conn: Connection, device_id: str, station: str, passage: PassageRecord, now: datetime
) -> list[dict[str, Any]]:
    """The anomalies this passage shows, recorded; as conflicts for the gate."""
    found: list[dict[str, Any]] = []
    if passage.kind == "admitted" and passage.ticket_id is not None:
        other = _other_admission(conn, passage)
        if other is not None:
            found.append(_conflict(passage, "double_admission", other.device_id, other.at))
        revoked_at = _revoked_at(conn, passage.ticket_id)
        when = passage.central_at or passage.at
        if revoked_at is not None and revoked_at <= when:
            found.append(_conflict(passage, "admitted_revoked", None, revoked_at))
    if passage.kind == "refused" and passage.reason in FORGED:
        found.append(_conflict(passage, "forged_ticket", None, None))
    for conflict in found:
        _record_anomaly(conn, device_id, station, passage, conflict, now)
    return found


def _other_admission(conn: Connection, passage: PassageRecord) -> Any:
    p = t.passages.c
    return conn.execute(
        select(p.device_id, p.at)
        .where(
            and_(
                p.ticket_id == passage.ticket_id,
                p.direction == passage.direction,
                p.kind == "admitted",
                p.is_annulled.is_(False),
                p.passage_id != passage.passage_id,
            )
        )
        .order_by(p.at)
        .limit(1)
    ).first()


def _revoked_at(conn: Connection, ticket_id: str) -> datetime | None:
    e = t.ticket_events.c
    row = conn.execute(
        select(e.at).where(e.ticket_id == ticket_id, e.kind == "revoked").limit(1)
    ).first()
    return None if row is None else row.at


def _conflict(
    passage: PassageRecord, kind: str, other_device: str | None, other_at: datetime | None
) -> dict[str, Any]:
    return {
        "passage_id": passage.passage_id,
        "ticket_id": passage.ticket_id,
        "kind": kind,
        "other_device": other_device,
        "other_at": other_at,
    }


def _recorded_conflicts(
    conn: Connection, station: str, passage: PassageRecord
) -> list[dict[str, Any]]:
    """What central found when it first took this passage: a retry's answer says it again.

    The first answer may have been lost on the way; without this the gate
    would note "no conflict" for a passage central recorded as an anomaly.
    """
    a = t.anomalies.c
    query = (
        select(t.anomalies)
        .where(a.station == station, a.at == _anomaly_time(passage))  # ix_anomalies_station
        .where(a.passage_id == passage.passage_id)
        .order_by(a.anomaly_id)
    )
    found = []
    for row in conn.execute(query):
        detail = orjson.loads(row.detail)
        other_at = detail.get("other_at")
        found.append(
            {
                "passage_id": passage.passage_id,
                "ticket_id": row.ticket_id,
                "kind": row.kind,
                "other_device": detail.get("other_device"),
                "other_at": None if other_at is None else datetime.fromisoformat(other_at),
            }
        )
    return found


def _anomaly_time(passage: PassageRecord) -> datetime:
    """When an anomaly happened: central's time as the gate knew it, else the gate's."""
    return passage.central_at or passage.at


def _record_anomaly(
    conn: Connection,
    device_id: str,
    station: str,
    passage: PassageRecord,
    conflict: dict[str, Any],
    now: datetime,
) -> None:
    detail = {
        "direction": passage.direction,
        "reason": passage.reason,
        "gate_time": passage.at.isoformat(),
        "other_device": conflict["other_device"],
        "other_at": None if conflict["other_at"] is None else conflict["other_at"].isoformat(),
        "received_at": now.isoformat(),
    }
    conn.execute(
        insert(t.anomalies).values(
            at=_anomaly_time(passage),
            station=station,
            device_id=device_id,
            ticket_id=passage.ticket_id,
            kind=conflict["kind"],
            passage_id=passage.passage_id,
            detail=orjson.dumps(detail).decode(),
        )
    )


def _store_count(
    conn: Connection, device_id: str, station: str, count: PassageCount, now: datetime
) -> None:
    """The gate's own total for a slot replaces what central had (a retry sends it again)."""
    c = t.passage_counts.c
    key = and_(
        c.device_id == device_id,
        c.direction == count.direction,
        c.slot_start == count.slot_start,
        c.kind == count.kind,
    )
    values = {"count": count.count, "slot_minutes": count.slot_minutes, "received_at": now}
    if conn.execute(update(t.passage_counts).where(key).values(values)).rowcount == 0:
        conn.execute(
            insert(t.passage_counts).values(
                device_id=device_id,
                direction=count.direction,
                slot_start=count.slot_start,
                kind=count.kind,
                station=station,
                **values,
            )
        )


def anomalies(
    conn: Connection, station: str | None, since: datetime, until: datetime
) -> list[dict[str, Any]]:
    """Anomalies in [since, until), of one station or all, oldest first."""
    a = t.anomalies.c
    query = select(t.anomalies).where(a.at >= since, a.at < until).order_by(a.at, a.anomaly_id)
    if station is not None:
        query = query.where(a.station == station)
    return [
        {
            "anomaly_id": row.anomaly_id,
            "at": row.at,
            "station": row.station,
            "device_id": row.device_id,
            "ticket_id": row.ticket_id,
            "kind": row.kind,
            "detail": orjson.loads(row.detail),
        }
        for row in conn.execute(query)
    ]
