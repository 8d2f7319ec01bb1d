"""Hand-written SQL for the selling hot path, run straight through the driver.

Building an expression for every statement costs SQLAlchemy several times
more than SQLite takes to run it; on the few statements of every sale that
matters. These statements are written once with ``:name`` parameters (the
style sqlite3 takes) and rewritten once to ``%(name)s`` for psycopg. The
same rules hold as for the rest of the store: times go in as UTC.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, CursorResult

NAMED_PARAM = re.compile(r"(?<![:\w]):(\w+)")
SQLITE_TIME_FORMAT = "%Y-%m-%d %H:%M:%S.%f"  # what SQLAlchemy's SQLite DATETIME writes


class Statement:
    """One SQL statement with named parameters, ready for either driver."""

    def __init__(self, sql: str) -> None:
        self.sql = " ".join(sql.split())
        self._pyformat = NAMED_PARAM.sub(r"%(\1)s", self.sql)

    def text_for(self, conn: Connection) -> str:
        """The statement in the paramstyle of the connection's driver."""
        return self.sql if conn.dialect.name == "sqlite" else self._pyformat


def run(conn: Connection, statement: Statement, params: Mapping[str, Any]) -> CursorResult[Any]:
    """Execute one statement."""
    return conn.exec_driver_sql(statement.text_for(conn), dict(params))


def run_many(conn: Connection, statement: Statement, rows: Sequence[Mapping[str, Any]]) -> None:
    """Execute a statement once per row, as one driver call."""
    conn.exec_driver_sql(statement.text_for(conn), [dict(row) for row in rows])


def db_time(conn: Connection, value: datetime) -> Any:
    """A timezone-aware time as the store keeps it (UTC text on SQLite)."""
    if value.tzinfo is None:
        raise ValueError("naive datetime given to the store; every time must be aware")
    if conn.dialect.name == "sqlite":
        return value.astimezone(UTC).strftime(SQLITE_TIME_FORMAT)
    return value
