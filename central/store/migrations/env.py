"""Alembic's environment for central's store: it runs on the connection StationKit hands it.

``central.store.migrations`` opens the connection, its transaction and the
store's layout lock, and passes the connection in
``config.attributes["connection"]``; there is no offline (``--sql``) mode.
Autogenerate compares the store with ``central.store.tables.metadata`` and
writes SQLite-safe batch operations when it compares against SQLite.
"""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import Connection

from central.store.tables import metadata
from central.store.types import UtcDateTime


def render_item(kind: str, item: Any, _context: AutogenContext) -> str | Literal[False]:
    """Write a stored type as the plain type it lays out, not as StationKit's class."""
    if kind == "type" and isinstance(item, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run() -> None:
    """Run the revisions (or compare, for autogenerate) on StationKit's connection."""
    connection = context.config.attributes.get("connection")
    if context.is_offline_mode() or not isinstance(connection, Connection):
        raise RuntimeError("central's store migrates through `stationkit central migrate`")
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


run()
