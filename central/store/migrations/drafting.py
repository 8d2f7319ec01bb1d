"""Drafting the next store revision from what ``central.store.tables`` declares.

A maintainer changes ``tables.py``, then runs ``python -m
central.store.migrations revision -m "what changes"``: a scratch SQLite store
is laid out by running every revision from empty, Alembic compares it with
the declared tables, and the difference is written as the next numbered
revision file (ruff-formatted) for review. When the two agree nothing is
written. The draft is a start, not a result: docs/operations.md says what
to check.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.operations.ops import MigrationScript
from alembic.script import Script, ScriptDirectory

from central.store.database import connect
from central.store.migrations import VERSIONS, alembic_config, layout_lock


def draft_revision(message: str, into: Path = VERSIONS) -> Path | None:
    """Write the next revision into ``into``; None when the revisions match the tables."""
    config = _drafting_config(into)
    with tempfile.TemporaryDirectory(prefix="stationkit-draft-") as scratch:
        engine = connect(f"sqlite:///{Path(scratch) / 'store.db'}")
        try:
            with layout_lock(engine) as conn:
                config.attributes["connection"] = conn
                command.upgrade(config, "head")
                written = command.revision(
                    config,
                    message,
                    autogenerate=True,
                    rev_id=next_revision_id(config),
                    version_path=str(into),
                    process_revision_directives=_skip_when_empty,
                )
        finally:
            engine.dispose()
    return Path(written.path) if isinstance(written, Script) else None


def next_revision_id(config: Config) -> str:
    """The number after the newest revision's, as four digits."""
    numbers = [int(rev.revision) for rev in ScriptDirectory.from_config(config).walk_revisions()]
    return f"{max(numbers, default=0) + 1:04d}"


def _drafting_config(into: Path) -> Config:
    config = alembic_config([into] if into.resolve() != VERSIONS else [])
    config.set_section_option("post_write_hooks", "hooks", "ruff_fix, ruff_format")
    for name, options in (("ruff_fix", "check --fix"), ("ruff_format", "format")):
        config.set_section_option("post_write_hooks", f"{name}.type", "module")
        config.set_section_option("post_write_hooks", f"{name}.module", "ruff")
        config.set_section_option(
            "post_write_hooks", f"{name}.options", f"{options} REVISION_SCRIPT_FILENAME"
        )
    return config


def _skip_when_empty(_context: Any, _revision: Any, directives: list[MigrationScript]) -> None:
    upgrade_ops = directives[0].upgrade_ops
    if upgrade_ops is None or upgrade_ops.is_empty():
        directives.clear()
