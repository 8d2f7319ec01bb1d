"""Crash test: SIGKILL central while gates upload their journals; nothing is stored twice.

Gates enrolled at one station upload their journals batch by batch, as the
gate runtime does: a batch that gets no answer (central died, or is
restarting) is sent again until one comes. The test kills every process of
central with SIGKILL at random moments and starts it again on the same
store. Afterwards every gate sends every batch once more. Then:

- every passage is stored exactly once, as its gate journaled it, and the
  resend of every batch answers all its passages as duplicates;
- anomalies are not duplicated: one per double admission (a ticket admitted
  n times the same way is n - 1 anomalies, whatever the order the uploads
  came in) and one per forged ticket, each naming a passage once;
- the resend's answers report again exactly the conflicts central recorded
  for each gate's passages (a lost answer loses no conflict);
- each gate's counts are its last totals, whichever sends got through.

A batch central stored just before a kill, whose answer was lost, comes back
as duplicates on its retry; the summary the test prints counts them. Seeded
journals and kill delays; thread timing is not seeded, which is the point of
a crash test.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from server_fixtures import (
    STORE_KINDS,
    ApiClient,
    central_servers,
    server_log,
    store_database,
)
from sqlalchemy import create_engine, select
from sqlalchemy.pool import NullPool
from units_fixtures import credential

from central.store import tables as t
from stationkit.processes import CentralProcess

pytestmark = pytest.mark.slow

SEED = 1_307
STATION = "QAA"
GATES = 6
BATCH_SIZE = (1, 12)  # small batches from many gates: some are always between commit and answer
TICKETS = 4_000  # the pool the gates admit from: a few tickets come up twice or more
FORGED_SHARE = 0.02
KILLS = 5
KILL_DELAY_S = (0.3, 1.0)
DOWN_TIME_S = (0.0, 0.3)
CALL_TIMEOUT_S = 5.0
RETRY_PAUSE_S = 0.1
SLOT = timedelta(minutes=15)


@dataclass
class Batch:
    """One upload a gate sends: passages and its running totals per slot."""

    passages: list[dict[str, Any]]
    counts: list[dict[str, Any]]

    def body(self) -> dict[str, Any]:
        return {"passages": self.passages, "counts": self.counts}


@dataclass
class GateJournal:
    """A gate's journal, written batch by batch as the storm goes, and central's answers."""

    name: str
    token: str
    rng: random.Random
    at: datetime  # the gate's clock, moving on with every passage
    batches: list[Batch] = field(default_factory=list)
    totals: Counter[tuple[datetime, str]] = field(default_factory=Counter)
    answers: list[dict[str, Any]] = field(default_factory=list)
    unanswered: int = 0
    failures: list[str] = field(default_factory=list)

    def next_batch(self) -> Batch:
        """A few more passages: admissions from the shared pool, now and then a forged one."""
        passages = []
        for _ in range(self.rng.randint(*BATCH_SIZE)):
            self.at += timedelta(seconds=self.rng.uniform(0.5, 3.0))
            forged = self.rng.random() < FORGED_SHARE
            ticket = None if forged else f"{self.rng.randrange(1, TICKETS + 1):016x}"
            passages.append(_passage(ticket, self.at, forged))
            self.totals[(_slot(self.at), "refused" if forged else "admitted")] += 1
        batch = Batch(passages, _counts(self.totals))
        self.batches.append(batch)
        return batch

    def passages(self) -> list[dict[str, Any]]:
        return [p for batch in self.batches for p in batch.passages]


def _passage(ticket_id: str | None, at: datetime, forged: bool) -> dict[str, Any]:
    return {
        "passage_id": str(uuid.uuid4()),
        "ticket_id": ticket_id,
        "direction": "entry",
        "kind": "refused" if forged else "admitted",
        "reason": "bad_signature" if forged else None,
        "at": at.isoformat(),
        "mode": "in_service",
    }


def _slot(at: datetime) -> datetime:
    return at - timedelta(minutes=at.minute % 15, seconds=at.second, microseconds=at.microsecond)


def _counts(totals: Counter[tuple[datetime, str]]) -> list[dict[str, Any]]:
    return [
        {
            "slot_start": slot.isoformat(),
            "slot_minutes": SLOT // timedelta(minutes=1),
            "direction": "entry",
            "kind": kind,
            "count": count,
        }
        for (slot, kind), count in sorted(totals.items())
    ]


# ----------------------------------------------------------------- the gates


def upload(http: httpx.Client, journal: GateJournal, batch: Batch) -> dict[str, Any] | None:
    """Send one batch once; central's answer, or None when none came."""
    headers = {"Authorization": f"Bearer {journal.token}"}
    try:
        response = http.post("/v1/passages", json=batch.body(), headers=headers)
    except httpx.TransportError:
        return None
    if response.status_code != 200:
        journal.failures.append(f"{journal.name}: {response.status_code} {response.text}")
        return None
    answer: dict[str, Any] = response.json()
    return answer


def run_gate(url: str, journal: GateJournal, stop: threading.Event) -> None:
    """Journal and upload until told to stop; a batch without an answer is sent again
    until one comes, as a gate does (central is started again after every kill)."""
    try:
        with httpx.Client(base_url=url, timeout=CALL_TIMEOUT_S) as http:
            while not stop.is_set():
                batch = journal.next_batch()
                while (answer := upload(http, journal, batch)) is None and not journal.failures:
                    journal.unanswered += 1
                    time.sleep(RETRY_PAUSE_S)  # central is down or restarting: do not spin
                if answer is None:
                    return
                journal.answers.append(answer)
    except Exception as exc:  # a thread's failure must fail the test, not vanish
        journal.failures.append(f"{journal.name} crashed: {type(exc).__name__}: {exc}")


def enrol_gates(server: CentralProcess, start: datetime) -> list[GateJournal]:
    rng = random.Random(SEED)
    journals = []
    with ApiClient(server.url) as operator, httpx.Client(base_url=server.url) as unit:
        for n in range(GATES):
            name = f"gate-{STATION.lower()}-{n}"
            body = {"device_id": name, "kind": "gate", "station": STATION}
            registered = operator.post("/v1/devices", body, uuid.uuid4().hex)
            assert registered.status_code == 201, registered.text
            token, digest = credential()
            code = registered.json()["enrolment_code"]
            enrolled = unit.post(
                "/v1/enrolments", json={"enrolment_code": code, "credential_hash": digest}
            )
            assert enrolled.status_code == 200, enrolled.text
            journals.append(GateJournal(name, token, random.Random(rng.random()), start))
    return journals


def storm_with_crashes(server: CentralProcess, journals: list[GateJournal]) -> None:
    """Gates upload while central is killed ``KILLS`` times; started again after each."""
    rng = random.Random(SEED + 1)
    stop = threading.Event()
    threads = [
        threading.Thread(target=run_gate, args=(server.url, journal, stop)) for journal in journals
    ]
    for thread in threads:
        thread.start()
    try:
        for _ in range(KILLS):
            time.sleep(rng.uniform(*KILL_DELAY_S))
            server.kill()
            time.sleep(rng.uniform(*DOWN_TIME_S))
            server.start()
        time.sleep(KILL_DELAY_S[0])  # the gates' retries get through
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=CALL_TIMEOUT_S * 6)
    assert not any(thread.is_alive() for thread in threads), "a gate hung"
    failures = [f for journal in journals for f in journal.failures]
    assert not failures, "\n".join(failures[:10]) + f"\nserver log:\n{server_log(server)}"


def resend_everything(url: str, journal: GateJournal) -> list[dict[str, Any]]:
    """Every batch once more; each answer."""
    with httpx.Client(base_url=url, timeout=CALL_TIMEOUT_S) as http:
        answers = [upload(http, journal, batch) for batch in journal.batches]
    assert all(answer is not None for answer in answers), journal.failures
    return [answer for answer in answers if answer is not None]


# ----------------------------------------------------------------- the checks


@dataclass
class Stored:
    passages: dict[str, Any]
    anomalies: list[Any]
    counts: dict[tuple[str, datetime, str], int]


def read_stored(db_url: str) -> Stored:
    engine = create_engine(db_url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            passages = conn.execute(select(t.passages)).all()
            anomalies = conn.execute(select(t.anomalies)).all()
            counts = conn.execute(select(t.passage_counts)).all()
    finally:
        engine.dispose()
    by_id = {row.passage_id: row for row in passages}
    assert len(by_id) == len(passages)
    return Stored(
        by_id,
        list(anomalies),
        {(row.device_id, row.slot_start, row.kind): row._mapping["count"] for row in counts},
    )


def assert_every_passage_once(journals: list[GateJournal], stored: Stored) -> None:
    journaled = {p["passage_id"]: (j.name, p) for j in journals for p in j.passages()}
    assert len(journaled) == sum(len(j.passages()) for j in journals)
    assert stored.passages.keys() == journaled.keys()
    wrong = [
        f"{pid}: journaled by {name} {p}, stored {row}"
        for pid, (name, p) in journaled.items()
        if (row := stored.passages[pid]).device_id != name
        or row.ticket_id != p["ticket_id"]
        or row.at != datetime.fromisoformat(p["at"])
        or row.is_annulled
    ]
    assert not wrong, "\n".join(wrong[:10])


def assert_anomalies_once(journals: list[GateJournal], stored: Stored) -> None:
    admissions: Counter[str] = Counter()
    forged = 0
    for passage in (p for j in journals for p in j.passages()):
        if passage["kind"] == "admitted":
            admissions[passage["ticket_id"]] += 1
        else:
            forged += 1
    kinds = Counter(row.kind for row in stored.anomalies)
    doubles = sum(n - 1 for n in admissions.values())
    assert kinds == Counter({"double_admission": doubles, "forged_ticket": forged})
    per_passage = Counter(row.passage_id for row in stored.anomalies)
    assert max(per_passage.values()) == 1, "a passage has two anomalies"
    per_ticket = Counter(row.ticket_id for row in stored.anomalies if row.ticket_id)
    assert per_ticket == Counter({k: n - 1 for k, n in admissions.items() if n > 1})
    for row in stored.anomalies:
        assert stored.passages[row.passage_id].device_id == row.device_id


def assert_resend_reports_the_recorded_conflicts(
    journal: GateJournal, answers: list[dict[str, Any]], stored: Stored
) -> None:
    for batch, answer in zip(journal.batches, answers, strict=True):
        assert (answer["accepted"], answer["duplicates"]) == (0, len(batch.passages))
    reported = sorted((c["passage_id"], c["kind"]) for a in answers for c in a["conflicts"])
    recorded = sorted(
        (row.passage_id, row.kind) for row in stored.anomalies if row.device_id == journal.name
    )
    assert reported == recorded


def assert_last_totals(journals: list[GateJournal], stored: Stored) -> None:
    expected = {
        (j.name, datetime.fromisoformat(c["slot_start"]), c["kind"]): c["count"]
        for j in journals
        for c in j.batches[-1].counts
    }
    assert stored.counts == expected


@pytest.mark.parametrize("writer_process", [False, True], ids=["one-process", "writer-process"])
@pytest.mark.parametrize("store_kind", STORE_KINDS)
def test_sigkill_during_passage_uploads_stores_each_passage_once(
    store_kind: str, writer_process: bool, tmp_path: Path
) -> None:
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    with (
        store_database(store_kind, tmp_path) as db_url,
        central_servers(db_url, tmp_path / "central", 1, writer_process) as servers,
    ):
        server = servers[0]
        journals = enrol_gates(server, start)
        storm_with_crashes(server, journals)
        resent = {journal.name: resend_everything(server.url, journal) for journal in journals}
        stored = read_stored(db_url)
        assert_every_passage_once(journals, stored)
        assert_anomalies_once(journals, stored)
        for journal in journals:
            assert_resend_reports_the_recorded_conflicts(journal, resent[journal.name], stored)
        assert_last_totals(journals, stored)
        answered = sum(len(j.answers) for j in journals)
        in_doubt = sum(j.unanswered for j in journals)
        # a batch stored before its answer was lost comes back as duplicates on its resend
        lost = sum(1 for j in journals for a in j.answers if a["duplicates"])
        print(
            f"{store_kind}: {KILLS} kills, {answered} uploads answered, {in_doubt} unanswered, "
            f"{lost} stored before their answer was lost; {len(stored.passages)} passages, "
            f"{len(stored.anomalies)} anomalies"
        )
        assert in_doubt > 0, "no upload was cut off: the kills missed the storm"
        assert [len(j.answers) for j in journals] == [len(j.batches) for j in journals]
