"""Drop ``store_schema``: Alembic's version table records the store's layout now.

Revision 0002, after 0001.
"""

from __future__ import annotations

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """The old layout stamp goes; nothing reads it any more."""
    op.drop_table("store_schema")


def downgrade() -> None:
    raise NotImplementedError("forward only: restore the backup taken before migrating")
