"""The writer process: the one place a split server changes the store.

HTTP processes parse, authenticate and validate requests, then send the
writer process named commands (``central.writer.commands``) over a Unix socket.
This process owns the train-run inventories and the store's write lock and
runs a plain single-threaded loop: take every request that has arrived on
any connection, run them as one transaction (group commit), answer them
all, and run the housekeeping chores when they are due. One thread means no
interpreter-lock hand-offs on the hot path: while this process commits, the
HTTP processes go on parsing on the other cores, and whatever arrives
meanwhile forms the next batch. No answer leaves before its commit.
"""

from __future__ import annotations

import logging
import os
import selectors
import signal
import socket
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from types import FrameType
from typing import Any

from sqlalchemy import Connection

from central.operating.housekeeping import report
from central.sales.context import Clock, SalesContext, system_clock
from central.settings import CentralSettings
from central.signing import KeyStore
from central.store.database import open_database
from central.store.run_cache import RunCache
from central.writer.batch import BatchRunner
from central.writer.commands import Chores, from_wire, perform
from central.writer.frames import FrameError, FrameReader, encode
from protocol.errors import ErrorCode, StationKitError

log = logging.getLogger(__name__)
READ_CHUNK = 256 * 1024
STORE_FAILED = "the store could not run this request; retry it with the same Idempotency-Key"


@dataclass
class Peer:
    """One HTTP process's connection: what it sent so far, what we still owe it."""

    sock: socket.socket
    reader: FrameReader = field(default_factory=FrameReader)
    outbox: bytearray = field(default_factory=bytearray)


Pending = tuple[Peer, Any, dict[str, Any]]  # who asked, their request id, the request


class WriterServer:
    """Serves writer requests on a Unix socket until stopped."""

    def __init__(
        self, settings: CentralSettings, socket_path: Path, clock: Clock = system_clock
    ) -> None:
        self.engine = open_database(settings.database_url)
        cache = RunCache()
        keys = KeyStore(Path(settings.keys_dir))
        self.ctx = SalesContext(settings, keys, cache, settings.refund_policy(), clock)
        self.runner = BatchRunner(self.engine, cache)
        self.batch_max = settings.writer_batch
        self.interval = settings.housekeeping_seconds
        self.path = socket_path
        self.selector = selectors.DefaultSelector()
        self.listener = _listen(socket_path)
        self.selector.register(self.listener, selectors.EVENT_READ, None)
        self._wake_reader, self._wake_writer = socket.socketpair()
        self._wake_reader.setblocking(False)
        self.selector.register(self._wake_reader, selectors.EVENT_READ, "wake")
        self.stopping = False

    def serve_forever(self) -> None:
        """Answer requests and keep house until ``stop``; then close everything."""
        next_chores = time.monotonic() + self.interval
        parent = os.getppid()
        try:
            while not self.stopping and os.getppid() == parent:  # orphaned: serve is gone
                timeout = min(1.0, max(0.0, next_chores - time.monotonic()))
                pending = self._receive(self.selector.select(timeout))
                if pending:
                    self._answer(pending)
                if time.monotonic() >= next_chores:
                    self._keep_house()
                    next_chores = time.monotonic() + self.interval
        finally:
            self.close()

    def stop(self, *_: object) -> None:
        """Finish the batch in hand, then stop (safe from a signal handler)."""
        self.stopping = True
        self._wake_writer.send(b"x")  # wakes the loop's select at once

    def close(self) -> None:
        """Close every connection and the store."""
        for key in list(self.selector.get_map().values()):
            key.fileobj.close()  # type: ignore[union-attr]
        self.selector.close()
        self._wake_writer.close()
        self.path.unlink(missing_ok=True)
        self.runner.close()
        self.engine.dispose()

    def _receive(self, events: list[tuple[selectors.SelectorKey, int]]) -> list[Pending]:
        pending: list[Pending] = []
        for key, mask in events:
            if key.data is None:
                self._accept()
                continue
            if key.data == "wake":
                continue
            peer: Peer = key.data
            if mask & selectors.EVENT_WRITE:
                self._flush(peer)
            if mask & selectors.EVENT_READ:
                pending.extend(self._read(peer))
        return pending

    def _accept(self) -> None:
        sock, _ = self.listener.accept()
        sock.setblocking(False)
        self.selector.register(sock, selectors.EVENT_READ, Peer(sock))

    def _read(self, peer: Peer) -> list[Pending]:
        try:
            data = peer.sock.recv(READ_CHUNK)
            if not data:
                raise ConnectionResetError("peer closed")
            messages = peer.reader.feed(data)
        except BlockingIOError:
            return []
        except (OSError, FrameError) as exc:
            self._drop(peer, exc)
            return []
        return [(peer, message.get("id"), message) for message in messages]

    def _answer(self, pending: list[Pending]) -> None:
        for start in range(0, len(pending), self.batch_max):
            batch = pending[start : start + self.batch_max]
            commands = [partial(self._perform, request) for _, _, request in batch]
            for (peer, request_id, _), (value, error) in zip(
                batch, self.runner.run(commands), strict=True
            ):
                peer.outbox += encode(_reply(request_id, value, error))
        for peer in {peer.sock.fileno(): peer for peer, _, _ in pending}.values():
            self._flush(peer)

    def _flush(self, peer: Peer) -> None:
        try:
            sent = peer.sock.send(peer.outbox) if peer.outbox else 0
        except BlockingIOError:
            sent = 0
        except OSError as exc:
            self._drop(peer, exc)
            return
        del peer.outbox[:sent]
        events = selectors.EVENT_READ | (selectors.EVENT_WRITE if peer.outbox else 0)
        self.selector.modify(peer.sock, events, peer)

    def _drop(self, peer: Peer, why: BaseException) -> None:
        log.info("HTTP process connection closed: %s", why)
        if peer.sock.fileno() >= 0:
            self.selector.unregister(peer.sock)
            peer.sock.close()

    def _perform(self, request: dict[str, Any], conn: Connection) -> Any:
        return perform(conn, self.ctx, from_wire(request), request.get("once"))

    def _keep_house(self) -> None:
        [(done, error)] = self.runner.run(
            [partial(perform, ctx=self.ctx, command=Chores(), once=None)]
        )
        if error is None:
            report(done["expired"], done["done"])
        else:
            log.error("housekeeping failed (%s); retrying at the next interval", error)


def _reply(request_id: Any, value: Any, error: BaseException | None) -> dict[str, Any]:
    if error is None:
        return {"id": request_id, "ok": value}
    if isinstance(error, StationKitError):
        return {"id": request_id, "error": {"code": error.code, "message": error.message}}
    return {"id": request_id, "error": {"code": ErrorCode.STORE_BUSY, "message": STORE_FAILED}}


def _listen(path: Path) -> socket.socket:
    """A Unix socket only this user may connect to (a stale one from a crash is replaced)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old_mask = os.umask(0o177)
    try:
        listener.bind(str(path))
    finally:
        os.umask(old_mask)
    listener.listen(64)
    listener.setblocking(False)
    return listener


def serve(settings: CentralSettings, socket_path: Path) -> None:
    """Run the writer process until SIGTERM or SIGINT."""
    server = WriterServer(settings, socket_path)

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        server.stop()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    log.info("writer process serving on %s", socket_path)
    server.serve_forever()
