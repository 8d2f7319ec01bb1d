"""Emergency selling (应急售票): TVM signing keys, seat blocks and their offline sales.

Revision 0004, after 0003. New tables only, nothing existing changes: the
keys TVMs sign offline tickets with (published to their station's gates),
the seat blocks leased to TVMs with their seats, and the offline sales they
uploaded (once per ticket id, issued or refused).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Four new tables and their indexes."""
    op.create_table(
        "block_sales",
        sa.Column("ticket_id", sa.String(length=16), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("block_id", sa.String(length=24), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("ticket_id"),
    )
    op.create_table(
        "unit_keys",
        sa.Column("unit_key_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("station", sa.String(length=3), nullable=False),
        sa.Column("public_key", sa.String(length=64), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("replaced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("publish_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("unit_key_id"),
    )
    with op.batch_alter_table("unit_keys", schema=None) as batch_op:
        batch_op.create_index("ix_unit_keys_device", ["device_id"], unique=False)
        batch_op.create_index("ix_unit_keys_station", ["station"], unique=False)

    op.create_table(
        "seat_blocks",
        sa.Column("block_id", sa.String(length=24), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("station", sa.String(length=3), nullable=False),
        sa.Column("board", sa.Integer(), nullable=False),
        sa.Column("seat_class", sa.String(length=2), nullable=False),
        sa.Column("return_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("returned_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["train_runs.run_id"],
        ),
        sa.PrimaryKeyConstraint("block_id"),
    )
    with op.batch_alter_table("seat_blocks", schema=None) as batch_op:
        batch_op.create_index("ix_seat_blocks_device", ["device_id", "status"], unique=False)
        batch_op.create_index("ix_seat_blocks_due", ["status", "return_at"], unique=False)

    op.create_table(
        "block_seats",
        sa.Column("block_id", sa.String(length=24), nullable=False),
        sa.Column("seat_no", sa.Integer(), nullable=False),
        sa.Column("coach", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("ticket_id", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["block_id"],
            ["seat_blocks.block_id"],
        ),
        sa.PrimaryKeyConstraint("block_id", "seat_no"),
    )


def downgrade() -> None:
    raise NotImplementedError("forward only: restore the backup taken before migrating")
