"""Which tables and indexes an SQLite store's WAL frames belong to.

``python -m bench.wal_pages STORE [--sales N]`` reads the write-ahead log
beside a store (each frame's page number and commit mark) and names each
page's B-tree with SQLite's ``dbstat`` table. Every page a sale dirties costs
a WAL write at its commit and a copy at the next checkpoint, so a change to
the schema or the sale path is judged by these counts, which unlike timings
do not move with this machine's load. Take the store while its writer is
still open, or with ``PRAGMA wal_autocheckpoint=0``: a checkpoint empties
the log.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import struct
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

WAL_HEADER_BYTES = 32
FRAME_HEADER_BYTES = 24


@dataclass(frozen=True)
class WalPages:
    """The frames of one log: how many per B-tree, and how many commits."""

    by_tree: Counter[str]
    commits: int

    @property
    def frames(self) -> int:
        """Frames in the log."""
        return sum(self.by_tree.values())


def read_frames(wal: Path) -> tuple[list[int], int]:
    """The page number of every frame in the log, and how many frames end a commit."""
    data = wal.read_bytes() if wal.exists() else b""
    if len(data) < WAL_HEADER_BYTES:
        return [], 0
    (page_size,) = struct.unpack(">I", data[8:12])
    pages: list[int] = []
    commits = 0
    offset = WAL_HEADER_BYTES
    while offset + FRAME_HEADER_BYTES + page_size <= len(data):
        page, size_after_commit = struct.unpack(">II", data[offset : offset + 8])
        pages.append(page)
        commits += size_after_commit != 0
        offset += FRAME_HEADER_BYTES + page_size
    return pages, commits


def page_owners(store: Path) -> dict[int, str]:
    """Each page's table or index, read from a copy (the log applied, the store untouched)."""
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / "store.db"
        shutil.copy(store, copy)
        wal = store.with_name(store.name + "-wal")
        if wal.exists():
            shutil.copy(wal, copy.with_name(copy.name + "-wal"))
        with sqlite3.connect(copy) as conn:
            try:
                rows = conn.execute("SELECT pageno, name FROM dbstat").fetchall()
            except sqlite3.OperationalError as exc:
                raise SystemExit(f"this SQLite has no dbstat table ({exc})") from exc
    return {int(page): str(name) for page, name in rows}


def wal_pages(store: Path) -> WalPages:
    """Count the frames of a store's log by the B-tree their page belongs to."""
    pages, commits = read_frames(store.with_name(store.name + "-wal"))
    owners = page_owners(store)
    return WalPages(Counter(owners.get(page, "(free or new)") for page in pages), commits)


def report(found: WalPages, sales: int | None) -> str:
    """One line per B-tree: frames, per commit and, given the sales, per sale."""
    commits = max(found.commits, 1)
    lines = [f"{found.frames} frames in {found.commits} commits"]
    for name, count in found.by_tree.most_common():
        per_sale = f"{count / sales:7.2f}/sale" if sales else ""
        lines.append(f"{count:8d} {count / commits:7.2f}/commit {per_sale}  {name}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.wal_pages", description=__doc__)
    parser.add_argument("store", type=Path, help="the SQLite store (its -wal file beside it)")
    parser.add_argument("--sales", type=int, default=None, help="sales the log holds")
    args = parser.parse_args(argv)
    print(report(wal_pages(args.store), args.sales))


if __name__ == "__main__":
    main()
