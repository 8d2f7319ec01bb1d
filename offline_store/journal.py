"""The passage journal: the gate's outbox, written before the gate acts.

:meth:`PassageJournal.append` commits the passage and its slot count in one
transaction and returns only once the log is fsynced, so the relay may open
after it returns and a crash can lose nothing that was acknowledged.
Appending the same passage id again returns the first row and counts
nothing twice. The anti-passback question (has this ticket an admitted,
not-annulled passage this way?) is two index lookups. The sync task reads
pending rows in append order, page by page, and marks them uploaded with
central's answer; marking is idempotent, and a crash between an upload and
its mark only means the rows are sent again (central deduplicates by
passage id).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from offline_store.columns import (
    check_limit,
    from_json,
    from_millis,
    optional_from_millis,
    optional_millis,
    ticket_id_of,
    ticket_key,
    to_json,
    to_millis,
)
from offline_store.connection import StoreConnection, query, query_one, write_transaction
from offline_store.counters import DEFAULT_SLOT_MINUTES, PassageCounters
from offline_store.passages import (
    MAX_ANSWER_BYTES,
    MAX_DETAIL_BYTES,
    Direction,
    NewPassage,
    Passage,
    PassageKind,
    UnitMode,
    UploadAnswer,
    UploadState,
    check_passage_id,
    new_passage_id,
)
from protocol.ids import TicketId

DEFAULT_PAGE = 100
DEFAULT_PURGE_LIMIT = 10_000

_COLUMNS = (
    "seq, passage_id, ticket_id, direction, kind, reason, unit_time_ms, central_time_ms, mode,"
    " detail, annuls, upload_state, uploaded_at_ms, upload_answer"
)
INSERT_SQL = """
INSERT INTO passages (passage_id, ticket_id, direction, kind, reason, unit_time_ms,
                      central_time_ms, mode, detail, annuls)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (passage_id) DO NOTHING"""
GET_SQL = f"SELECT {_COLUMNS} FROM passages WHERE passage_id = ?"
ADMITTED_SQL = f"""
SELECT {_COLUMNS} FROM passages AS p
WHERE p.ticket_id = ? AND p.direction = ? AND p.kind = 'admitted'
  AND NOT EXISTS (SELECT 1 FROM passages AS a WHERE a.annuls = p.passage_id)
ORDER BY p.seq DESC LIMIT 1"""
ANNULMENT_SQL = "SELECT passage_id FROM passages WHERE annuls = ?"
PENDING_SQL = f"""
SELECT {_COLUMNS} FROM passages WHERE upload_state = 'pending' AND seq > ?
ORDER BY seq LIMIT ?"""
MARK_SQL = """
UPDATE passages SET upload_state = 'uploaded', uploaded_at_ms = ?, upload_answer = ?
WHERE passage_id = ? AND upload_state = 'pending'"""
# an admitted passage outlives its annulment: the annulment's reference must not dangle
PURGE_SQL = """
DELETE FROM passages WHERE seq IN (
    SELECT seq FROM passages AS p
    WHERE p.upload_state = 'uploaded' AND p.unit_time_ms < ?
      AND NOT EXISTS (SELECT 1 FROM passages AS a WHERE a.annuls = p.passage_id)
    ORDER BY p.seq LIMIT ?)"""


class PassageJournal:
    """The passage journal and its counters, on one connection."""

    def __init__(self, conn: StoreConnection, *, slot_minutes: int = DEFAULT_SLOT_MINUTES) -> None:
        self._conn = conn
        self.counters = PassageCounters(conn, slot_minutes=slot_minutes)

    def append(self, passage: NewPassage) -> Passage:
        """Journal ``passage`` and count it; on disk when this returns.

        Annulments go through :meth:`annul`. A passage id already journaled
        returns the stored row if it is the same passage, else ValueError.
        """
        if not isinstance(passage, NewPassage):
            raise ValueError(f"expected a NewPassage, got {type(passage).__name__}")
        if passage.kind is PassageKind.ANNULLED:
            raise ValueError("an annulment names the passage it cancels: use annul()")
        with write_transaction(self._conn):
            return self._insert(passage, annuls=None)

    def annul(
        self,
        admitted_id: str,
        *,
        reason: str,
        unit_time: dt.datetime,
        mode: UnitMode,
        central_time: dt.datetime | None = None,
        detail: Mapping[str, object] | None = None,
        passage_id: str | None = None,
    ) -> Passage:
        """Cancel the admitted passage ``admitted_id`` (its passenger never went through).

        The annulment is a journal row of its own, for the same ticket and
        direction, uploaded like any other. Repeating a call with the same
        ``passage_id`` returns the first annulment; annulling a passage that
        is not an admitted one, or is annulled already, is a ValueError.
        """
        check_passage_id(admitted_id)
        with write_transaction(self._conn):
            previous = None if passage_id is None else self.get(passage_id)
            if previous is not None:
                return _repeated_annulment(previous, admitted_id)
            admitted = self._admitted_to_annul(admitted_id)
            annulment = NewPassage(
                direction=admitted.direction,
                kind=PassageKind.ANNULLED,
                reason=reason,
                unit_time=unit_time,
                mode=mode,
                ticket_id=admitted.ticket_id,
                central_time=central_time,
                detail=detail or {},
                passage_id=passage_id or new_passage_id(),
            )
            return self._insert(annulment, annuls=admitted_id)

    def get(self, passage_id: str) -> Passage | None:
        """The journaled passage ``passage_id``, or None."""
        return query_one(self._conn, GET_SQL, (passage_id,), _passage)

    def admitted_passage(self, ticket_id: str, direction: Direction) -> Passage | None:
        """The latest admitted, not annulled passage of ``ticket_id`` this way, or None."""
        args = (ticket_key(ticket_id), Direction(direction).value)
        return query_one(self._conn, ADMITTED_SQL, args, _passage)

    def has_admitted(self, ticket_id: str, direction: Direction) -> bool:
        """Anti-passback: True if ``ticket_id`` already went through this way."""
        return self.admitted_passage(ticket_id, direction) is not None

    def pending(self, limit: int = DEFAULT_PAGE, after_seq: int = 0) -> list[Passage]:
        """Passages central has not acknowledged, in append order, at most ``limit``."""
        return query(self._conn, PENDING_SQL, (int(after_seq), check_limit(limit)), _passage)

    def mark_uploaded(self, answers: Iterable[UploadAnswer], at: dt.datetime) -> int:
        """Record central's answers; returns how many passages were newly marked.

        Idempotent: an already uploaded passage keeps its first answer and time.
        """
        at_ms = to_millis("at", at)
        rows = [(at_ms, _answer_json(answer), answer.passage_id) for answer in answers]
        with write_transaction(self._conn) as conn:
            return sum(conn.execute(MARK_SQL, row).rowcount for row in rows)

    def purge_uploaded_before(self, cutoff: dt.datetime, limit: int = DEFAULT_PURGE_LIMIT) -> int:
        """Delete at most ``limit`` uploaded passages older than ``cutoff``; returns how many.

        Keep ``cutoff`` older than any ticket's validity: purged passages no
        longer answer the anti-passback question.
        """
        args = (to_millis("cutoff", cutoff), check_limit(limit))
        with write_transaction(self._conn) as conn:
            return conn.execute(PURGE_SQL, args).rowcount

    def _admitted_to_annul(self, admitted_id: str) -> Passage:
        """The admitted passage ``admitted_id``, if it exists and stands; else ValueError."""
        admitted = self.get(admitted_id)
        if admitted is None or admitted.kind is not PassageKind.ADMITTED:
            raise ValueError(f"passage {admitted_id} is not an admitted passage of this journal")
        row = self._conn.execute(ANNULMENT_SQL, (admitted_id,)).fetchone()
        if row is not None:
            raise ValueError(f"passage {admitted_id} is already annulled by {row[0]}")
        return admitted

    def _insert(self, passage: NewPassage, annuls: str | None) -> Passage:
        """Insert the row and count it, or return the same passage journaled before."""
        cursor = self._conn.execute(INSERT_SQL, _row(passage, annuls))
        if cursor.rowcount == 0:
            return self._same_as_before(passage, annuls)
        self.counters.add(passage)
        assert cursor.lastrowid is not None
        return _journaled(cursor.lastrowid, passage, annuls)

    def _same_as_before(self, passage: NewPassage, annuls: str | None) -> Passage:
        """The stored row of a repeated passage id, if it is the same passage."""
        stored = self.get(passage.passage_id)
        assert stored is not None  # the insert met it
        if _journaled(stored.seq, passage, annuls) != _without_upload(stored):
            raise ValueError(f"passage id {passage.passage_id} is journaled with other content")
        return stored


def _row(passage: NewPassage, annuls: str | None) -> tuple[object, ...]:
    """The column values of an insert."""
    ticket = None if passage.ticket_id is None else ticket_key(passage.ticket_id)
    return (
        passage.passage_id, ticket, passage.direction.value, passage.kind.value, passage.reason,
        to_millis("unit_time", passage.unit_time),
        optional_millis("central_time", passage.central_time), passage.mode.value,
        to_json("detail", passage.detail, MAX_DETAIL_BYTES), annuls,
    )  # fmt: skip


def _journaled(seq: int, passage: NewPassage, annuls: str | None) -> Passage:
    """The Passage a fresh insert stored, without reading it back."""
    return Passage(
        seq=seq, passage_id=passage.passage_id, ticket_id=passage.ticket_id,
        direction=passage.direction, kind=passage.kind, reason=passage.reason,
        unit_time=passage.unit_time, central_time=passage.central_time, mode=passage.mode,
        detail=from_json(to_json("detail", passage.detail, MAX_DETAIL_BYTES)) or {},
        annuls=annuls, upload_state=UploadState.PENDING, uploaded_at=None, upload_answer=None,
    )  # fmt: skip


def _without_upload(stored: Passage) -> Passage:
    """``stored`` as it was when appended (upload state aside), for comparison."""
    return replace(stored, upload_state=UploadState.PENDING, uploaded_at=None, upload_answer=None)


def _repeated_annulment(previous: Passage, admitted_id: str) -> Passage:
    """The annulment journaled before under the same passage id, if it cancels the same one."""
    if previous.annuls != admitted_id:
        raise ValueError(f"passage id {previous.passage_id} is journaled with other content")
    return previous


def _answer_json(answer: UploadAnswer) -> str | None:
    """Central's answer as JSON text, or None."""
    if not isinstance(answer, UploadAnswer):
        raise ValueError(f"expected an UploadAnswer, got {type(answer).__name__}")
    return None if answer.answer is None else to_json("answer", answer.answer, MAX_ANSWER_BYTES)


def _passage(row: Sequence[Any]) -> Passage:
    """A Passage from one row of ``_COLUMNS``."""
    (seq, passage_id, ticket, direction, kind, reason, unit_ms, central_ms, mode, detail,
     annuls, state, uploaded_ms, answer) = row  # fmt: skip
    return Passage(
        seq=seq, passage_id=passage_id,
        ticket_id=None if ticket is None else TicketId(ticket_id_of(ticket)),
        direction=Direction(direction), kind=PassageKind(kind), reason=reason,
        unit_time=from_millis(unit_ms), central_time=optional_from_millis(central_ms),
        mode=UnitMode(mode), detail=from_json(detail) or {}, annuls=annuls,
        upload_state=UploadState(state), uploaded_at=optional_from_millis(uploaded_ms),
        upload_answer=from_json(answer),
    )  # fmt: skip
