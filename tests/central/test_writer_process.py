"""A split server: HTTP process plus writer process, and the frames between them.

The server runs as ``stationkit central serve --writer-process`` in its own
process group, as in production; the tests reach it over HTTP only, kill its
writer process alone, or kill the serve process and watch the writer follow.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from server_fixtures import (
    ApiClient,
    Train,
    central_servers,
    load_train,
    new_key,
    read_store,
    seats_available,
    service_day,
    small_train,
)

from central.writer.frames import HEADER, MAX_FRAME_BYTES, FrameError, FrameReader, encode
from stationkit.processes import CentralProcess

pytestmark = pytest.mark.slow
RESTART_TIMEOUT_S = 30.0


# ------------------------------------------------------------------ frames


def test_frames_come_out_whole_however_the_bytes_arrive() -> None:
    messages = [{"id": n, "name": "hold", "args": {"body": "x" * n}} for n in range(50)]
    stream = b"".join(encode(message) for message in messages)
    reader = FrameReader()
    received = []
    for start in range(0, len(stream), 7):  # awkward chunks split headers and bodies
        received += reader.feed(stream[start : start + 7])
    assert received == messages


@pytest.mark.parametrize(
    "stream",
    [
        HEADER.pack(MAX_FRAME_BYTES + 1),
        HEADER.pack(3) + b"{x}",
    ],
    ids=["oversized", "not-json"],
)
def test_a_broken_stream_is_refused(stream: bytes) -> None:
    with pytest.raises(FrameError):
        FrameReader().feed(stream)


# ------------------------------------------------------------------ a split server


@pytest.fixture
def split_server(tmp_path: Path) -> Iterator[tuple[CentralProcess, Train, str]]:
    db_url = f"sqlite:///{tmp_path / 'central.db'}"
    train = small_train("G7301", service_day(), stops=5, seats=20, coaches=2)
    with central_servers(db_url, tmp_path / "central", 1, writer_process=True) as servers:
        load_train(servers[0], train)
        yield servers[0], train, db_url


def test_a_split_server_sells_pays_refunds_and_reports(
    split_server: tuple[CentralProcess, Train, str],
) -> None:
    server, train, _ = split_server
    with ApiClient(server.url) as client:
        before = seats_available(client, train, 0, 4)
        held = client.post(
            "/v1/orders", train.order_body(0, 4, [("Li Lei", "110101199001011234")]), new_key()
        )
        assert held.status_code == 201, held.text
        order = held.json()
        assert seats_available(client, train, 0, 4) == before - 1
        paid = client.post(
            f"/v1/orders/{order['order_id']}/pay",
            {"method": "cash", "amount_fen": order["total_fen"], "reference": "CASH-1"},
            new_key(),
        )
        assert paid.status_code == 200, paid.text
        ticket = paid.json()["tickets"][0]
        assert ticket["token"]
        seen = client.get(f"/v1/tickets/{ticket['ticket_id']}", {})
        assert seen.status_code == 200 and seen.json()["status"] == "issued"
        assert client.get(f"/v1/orders/{order['order_id']}", {}).json()["status"] == "issued"
        refund = client.post(f"/v1/tickets/{ticket['ticket_id']}/refund", None, new_key())
        assert refund.status_code == 200, refund.text
        assert seats_available(client, train, 0, 4) == before
        matrix = client.get(f"/v1/train-runs/{train.number}/{train.day}/od-matrix", {})
        assert matrix.status_code == 200 and matrix.json()["stops"] == train.stations
        unknown = client.get(f"/v1/tickets/{'0' * 16}", {})
        assert unknown.status_code == 404
        assert unknown.json()["error"]["code"] == "unknown_ticket"


def test_a_refusal_comes_back_with_its_code(
    split_server: tuple[CentralProcess, Train, str],
) -> None:
    server, train, _ = split_server
    passenger = [("Wang Fang", "110101198803033456")]
    with ApiClient(server.url) as client:
        first = client.post("/v1/orders", train.order_body(0, 2, passenger), new_key())
        assert first.status_code == 201, first.text
        refused = client.post("/v1/orders", train.order_body(1, 3, passenger), new_key())
        assert refused.status_code == 409
        assert refused.json()["error"]["code"] == "journey_overlap"


def test_a_dead_writer_process_is_restarted_and_a_retry_gets_one_answer(
    split_server: tuple[CentralProcess, Train, str],
) -> None:
    server, train, db_url = split_server
    writer_pid = _writer_pid(server)
    os.kill(writer_pid, signal.SIGKILL)
    key = new_key()
    body = train.order_body(1, 3, [("Han Meimei", "110101199202022345")])
    statuses = []
    deadline = time.monotonic() + RESTART_TIMEOUT_S
    with ApiClient(server.url) as client:
        while time.monotonic() < deadline:
            answer = client.post("/v1/orders", body, key)
            statuses.append(answer.status_code)
            if answer.status_code != 503:
                break
            assert answer.json()["error"]["code"] == "store_busy"
            time.sleep(0.1)
        assert answer.status_code == 201, (statuses, answer.text)
        again = client.post("/v1/orders", body, key)
        assert again.status_code == 201 and again.json() == answer.json()
    assert _writer_pid(server) != writer_pid
    state = read_store(db_url, train)
    assert [t.passenger_name for t in state.tickets.values()].count("Han Meimei") == 1


def test_the_writer_process_stops_when_its_server_is_gone(
    split_server: tuple[CentralProcess, Train, str],
) -> None:
    server, _, _ = split_server
    writer_pid = _writer_pid(server)
    assert server.process is not None
    os.kill(server.process.pid, signal.SIGKILL)  # the serve process alone, not its group
    server.process.wait(timeout=10)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _alive(writer_pid):
        time.sleep(0.1)
    assert not _alive(writer_pid), "the orphaned writer process kept running"


def _writer_pid(server: CentralProcess) -> int:
    """The writer process among the serve process's children."""
    assert server.process is not None
    deadline = time.monotonic() + RESTART_TIMEOUT_S
    while time.monotonic() < deadline:
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
                command = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            if parent == server.process.pid and b"writer" in command:
                return int(entry.name)
        time.sleep(0.1)
    raise AssertionError("no writer process found")


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has exited; only its parent has not reaped it
