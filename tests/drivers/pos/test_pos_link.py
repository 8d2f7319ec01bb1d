"""The register's Concert link against a hand-played terminal on a real pty (and over TCP).

The test plays the terminal byte by byte while the link runs in a thread,
so every retry, NAK and timeout rule is checked on the wire.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from drivers.errors import (
    DeviceTimeout,
    DeviceUnavailable,
    DriverErrorCode,
    LinkLost,
    ProtocolError,
)
from drivers.pos.framing import Control, encode_frame
from drivers.pos.link import ConcertLink, LinkTiming, PyserialPort, RequestNotDelivered
from drivers.pos.simulator.line import SimLine

ENQ, ACK, NAK, EOT = (c.byte for c in (Control.ENQ, Control.ACK, Control.NAK, Control.EOT))
TIMING = LinkTiming(ack_timeout_s=0.2, frame_timeout_s=0.4, max_attempts=3)
RECORD = b"0100001250110156ABCDEFGHIJA010B010"
WAIT_S = 5.0


class Peer:
    """The terminal's end, played by hand: read what the register sent, write what we choose."""

    def __init__(self, read: Callable[[float], bytes], write: Callable[[bytes], None]) -> None:
        self._read = read
        self.write = write
        self.seen = b""

    def expect(self, wanted: bytes, timeout: float = WAIT_S) -> None:
        """Read until the register has sent ``wanted`` (in order, after what was taken before)."""
        deadline = threading.Event()
        timer = threading.Timer(timeout, deadline.set)
        timer.start()
        try:
            while wanted not in self.seen:
                if deadline.is_set():
                    raise AssertionError(f"never saw {wanted!r}; saw {self.seen!r}")
                self.seen += self._read(0.05)
        finally:
            timer.cancel()
        self.seen = self.seen[self.seen.index(wanted) + len(wanted) :]

    def quiet_for(self, seconds: float) -> bytes:
        """Everything the register sends in ``seconds``."""
        end = threading.Event()
        threading.Timer(seconds, end.set).start()
        while not end.is_set():
            self.seen += self._read(0.05)
        taken, self.seen = self.seen, b""
        return taken


@pytest.fixture
def line(tmp_path: Path) -> Iterator[SimLine]:
    sim_line = SimLine(tmp_path / "terminal")
    yield sim_line
    sim_line.close()


@pytest.fixture
def peer(line: SimLine) -> Peer:
    return Peer(line.read, line.write)


@pytest.fixture
def link(line: SimLine) -> Iterator[ConcertLink]:
    concert = ConcertLink(lambda: PyserialPort(str(line.link_path), 9600), TIMING)
    yield concert
    concert.close()


@pytest.fixture
def background() -> Iterator[Callable[..., Future[Any]]]:
    with ThreadPoolExecutor(max_workers=1) as pool:
        yield pool.submit


def test_a_session_goes_enq_ack_frame_ack_eot(
    link: ConcertLink, peer: Peer, background: Callable[..., Future[Any]]
) -> None:
    sending = background(link.send, RECORD)
    peer.expect(ENQ)
    peer.write(ACK)
    peer.expect(encode_frame(RECORD))
    peer.write(ACK)
    peer.expect(EOT)
    assert sending.result(WAIT_S) is None


def test_an_unanswered_enq_is_tried_three_times_then_nothing_was_delivered(
    link: ConcertLink, peer: Peer, background: Callable[..., Future[Any]]
) -> None:
    sending = background(link.send, RECORD)
    with pytest.raises(RequestNotDelivered) as failed:
        sending.result(WAIT_S)
    assert failed.value.code is DriverErrorCode.TIMEOUT
    assert peer.quiet_for(0.1) == ENQ * 3
    assert link.counters.enq_retries == 2


def test_a_naked_frame_is_sent_again(
    link: ConcertLink, peer: Peer, background: Callable[..., Future[Any]]
) -> None:
    sending = background(link.send, RECORD)
    peer.expect(ENQ)
    peer.write(ACK)
    for _ in range(2):
        peer.expect(encode_frame(RECORD))
        peer.write(NAK)
    peer.expect(encode_frame(RECORD))
    peer.write(ACK)
    peer.expect(EOT)
    sending.result(WAIT_S)
    assert link.counters.naks_received == 2


def test_a_frame_naked_every_time_was_certainly_not_delivered(
    link: ConcertLink, peer: Peer, background: Callable[..., Future[Any]]
) -> None:
    sending = background(link.send, RECORD)
    peer.expect(ENQ)
    peer.write(ACK)
    for _ in range(3):
        peer.expect(encode_frame(RECORD))
        peer.write(NAK)
    peer.expect(EOT)
    with pytest.raises(RequestNotDelivered) as failed:
        sending.result(WAIT_S)
    assert failed.value.code is DriverErrorCode.PROTOCOL


def test_silence_after_the_frame_is_a_doubt_and_the_frame_is_not_repeated(
    link: ConcertLink, peer: Peer, background: Callable[..., Future[Any]]
) -> None:
    sending = background(link.send, RECORD)
    peer.expect(ENQ)
    peer.write(ACK)
    peer.expect(encode_frame(RECORD))
    with pytest.raises(DeviceTimeout) as failed:
        sending.result(WAIT_S)
    assert not isinstance(failed.value, RequestNotDelivered)
    assert peer.quiet_for(0.1) == EOT


def test_the_terminals_enq_while_we_claim_the_line_is_ignored(
    link: ConcertLink, peer: Peer, background: Callable[..., Future[Any]]
) -> None:
    sending = background(link.send, RECORD)
    peer.expect(ENQ)
    peer.write(ENQ + ACK)
    peer.expect(encode_frame(RECORD))
    peer.write(ACK)
    sending.result(WAIT_S)


def test_bytes_left_on_the_line_before_a_session_are_forgotten(
    link: ConcertLink, peer: Peer, line: SimLine, background: Callable[..., Future[Any]]
) -> None:
    peer.write(ACK + ENQ + encode_frame(b"STALE")[:-2])  # a late session nobody listened to
    sending = background(link.send, RECORD)
    peer.expect(ENQ)
    assert b"\x02" not in peer.seen + peer.quiet_for(0.05)  # the stale ACK did not count
    peer.write(ACK)
    peer.expect(encode_frame(RECORD))
    peer.write(ACK)
    sending.result(WAIT_S)


def test_an_answer_with_a_bad_lrc_is_naked_and_the_repeat_taken(
    link: ConcertLink, peer: Peer, background: Callable[..., Future[Any]]
) -> None:
    receiving = background(link.receive, 2.0)
    peer.write(ENQ)
    peer.expect(ACK)
    frame = encode_frame(RECORD)
    peer.write(frame[:-1] + bytes([frame[-1] ^ 1]))
    peer.expect(NAK)
    peer.write(frame)
    peer.expect(ACK)
    peer.write(EOT)
    assert receiving.result(WAIT_S) == RECORD
    assert (link.counters.naks_sent, link.counters.faults) == (1, {"bad_lrc": 1})


def test_an_answer_split_and_surrounded_by_noise_is_taken(
    link: ConcertLink, peer: Peer, background: Callable[..., Future[Any]]
) -> None:
    receiving = background(link.receive, 2.0)
    peer.write(b"\xff\x00noise" + ENQ)
    peer.expect(ACK)
    frame = encode_frame(RECORD)
    for piece in (frame[:3], frame[3:20], frame[20:]):
        peer.write(piece)
    peer.expect(ACK)
    peer.write(EOT)
    assert receiving.result(WAIT_S) == RECORD


def test_a_missing_eot_does_not_lose_an_acknowledged_answer(
    link: ConcertLink, peer: Peer, background: Callable[..., Future[Any]]
) -> None:
    receiving = background(link.receive, 2.0)
    peer.write(ENQ)
    peer.expect(ACK)
    peer.write(encode_frame(RECORD))
    peer.expect(ACK)
    assert receiving.result(WAIT_S) == RECORD
    assert link.counters.missing_eot == 1


def test_no_good_frame_in_three_tries_is_a_protocol_error(
    link: ConcertLink, peer: Peer, background: Callable[..., Future[Any]]
) -> None:
    receiving = background(link.receive, 2.0)
    peer.write(ENQ)
    peer.expect(ACK)
    for _ in range(3):
        peer.write(encode_frame(RECORD)[:-1] + b"\x00")
        peer.expect(NAK)
    with pytest.raises(ProtocolError):
        receiving.result(WAIT_S)


def test_no_session_in_time_is_a_timeout(link: ConcertLink) -> None:
    with pytest.raises(DeviceTimeout):
        link.receive(0.2)


def test_a_dropped_line_is_lost_and_the_next_session_reopens_the_path(
    link: ConcertLink, peer: Peer, line: SimLine, background: Callable[..., Future[Any]]
) -> None:
    receiving = background(link.receive, 2.0)
    peer.quiet_for(0.1)
    line.drop()
    with pytest.raises(LinkLost):
        receiving.result(WAIT_S)
    assert not link.is_open
    sending = background(link.send, RECORD)
    fresh = Peer(line.read, line.write)
    fresh.expect(ENQ)
    fresh.write(ACK)
    fresh.expect(encode_frame(RECORD))
    fresh.write(ACK)
    sending.result(WAIT_S)
    assert link.counters.reopened == 1


def test_abort_ends_a_waiting_read_at_once(
    link: ConcertLink, background: Callable[..., Future[Any]]
) -> None:
    receiving = background(link.receive, 60.0)
    link.abort()
    with pytest.raises(LinkLost):
        receiving.result(WAIT_S)


def test_a_missing_device_fails_at_start_with_a_clear_error(tmp_path: Path) -> None:
    missing = str(tmp_path / "ttyACM9")
    with pytest.raises(DeviceUnavailable, match="cannot open the payment terminal"):
        ConcertLink(lambda: PyserialPort(missing, 9600), TIMING)


def test_a_socket_url_carries_the_same_sessions(
    background: Callable[..., Future[Any]],
) -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        connecting = background(
            ConcertLink, lambda: PyserialPort(f"socket://127.0.0.1:{port}", 9600), TIMING
        )
        conn, _ = server.accept()
        link: ConcertLink = connecting.result(WAIT_S)
        with conn:
            peer = Peer(lambda t: _recv(conn, t), conn.sendall)
            with ThreadPoolExecutor(max_workers=1) as pool:
                sending = pool.submit(link.send, RECORD)
                peer.expect(ENQ)
                peer.write(ACK)
                peer.expect(encode_frame(RECORD))
                peer.write(ACK)
                peer.expect(EOT)
                sending.result(WAIT_S)
        link.close()


def _recv(conn: socket.socket, timeout: float) -> bytes:
    conn.settimeout(timeout)
    try:
        return conn.recv(1024)
    except TimeoutError:
        return b""


def test_an_abandoned_frame_does_not_swallow_the_next_session(
    link: ConcertLink, peer: Peer, background: Callable[..., Future[Any]]
) -> None:
    receiving = background(link.receive, 3.0)
    peer.write(b"\x02half a frame, then the cable was pulled")
    peer.quiet_for(TIMING.frame_timeout_s + 0.2)
    peer.write(ENQ)
    peer.expect(ACK)
    peer.write(encode_frame(RECORD))
    peer.expect(ACK)
    peer.write(EOT)
    assert receiving.result(WAIT_S) == RECORD
    assert link.counters.faults == {"interrupted": 1}


def test_a_line_cut_right_after_the_ack_leaves_a_doubt_not_a_crash(
    link: ConcertLink, peer: Peer, line: SimLine, background: Callable[..., Future[Any]]
) -> None:
    for _ in range(20):  # the cut lands before, during or after our EOT: never a crash
        sending = background(link.send, RECORD)
        peer.expect(ENQ)
        peer.write(ACK)
        peer.expect(encode_frame(RECORD))
        peer.write(ACK)
        line.drop()
        try:
            sending.result(WAIT_S)
        except LinkLost as lost:
            assert not isinstance(lost, RequestNotDelivered)
        peer = Peer(line.read, line.write)
