"""The units: device enrolment, gate passages, passage counts, anomalies, holder tags.

Revision 0003, after 0002. Units (gates, TVMs) enrol with a one-time code, so
a device row may have no token yet; gates upload passages and counts, and
central keeps the anomalies it finds; tickets and their feed events carry
the holder tag gates find a card holder's tickets by.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """New tables for the gates' passages; new columns for enrolment and holder tags."""
    op.create_table(
        "anomalies",
        sa.Column("anomaly_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("station", sa.String(length=3), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("ticket_id", sa.String(length=16), nullable=True),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("passage_id", sa.String(length=36), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("anomaly_id"),
    )
    with op.batch_alter_table("anomalies", schema=None) as batch_op:
        batch_op.create_index("ix_anomalies_station", ["station", "at"], unique=False)

    op.create_table(
        "passage_counts",
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("direction", sa.String(length=5), nullable=False),
        sa.Column("slot_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("slot_minutes", sa.Integer(), nullable=False),
        sa.Column("station", sa.String(length=3), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("device_id", "direction", "slot_start", "kind"),
    )
    op.create_table(
        "passages",
        sa.Column("passage_id", sa.String(length=36), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("station", sa.String(length=3), nullable=False),
        sa.Column("ticket_id", sa.String(length=16), nullable=True),
        sa.Column("direction", sa.String(length=5), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=True),
        sa.Column("annuls", sa.String(length=36), nullable=True),
        sa.Column("is_annulled", sa.Boolean(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("central_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("mode", sa.String(length=20), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("passage_id"),
    )
    with op.batch_alter_table("passages", schema=None) as batch_op:
        batch_op.create_index("ix_passages_ticket", ["ticket_id", "direction"], unique=False)

    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("gate_group", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("direction", sa.String(length=5), nullable=True))
        batch_op.add_column(sa.Column("enrolment_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("enrolment_expires_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("enrolled_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.alter_column("token_hash", existing_type=sa.VARCHAR(length=64), nullable=True)
        batch_op.create_unique_constraint("uq_devices_enrolment_hash", ["enrolment_hash"])

    with op.batch_alter_table("ticket_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("holder_tag", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("gate_group", sa.String(length=16), nullable=True))

    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("holder_tag", sa.String(length=32), nullable=True))


def downgrade() -> None:
    raise NotImplementedError("forward only: restore the backup taken before migrating")
