"""The baseline: the store as StationKit laid it out before migrations (layout 3).

Revision 0001, the first. A store made then is adopted at this revision by
``stationkit central migrate`` without running it (it records layout 3 in
``store_schema``); run on an empty database, it lays out the same tables.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Every table of layout 3, stamped as such."""
    _inventory()
    _sales()
    _operations()
    store_schema = op.create_table(
        "store_schema", sa.Column("version", sa.Integer(), primary_key=True, autoincrement=False)
    )
    op.bulk_insert(store_schema, [{"version": 3}])


def downgrade() -> None:
    raise NotImplementedError("forward only: restore the backup taken before migrating")


def _inventory() -> None:
    op.create_table(
        "train_runs",
        sa.Column("run_id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("train", sa.String(8), nullable=False),
        sa.Column("service_date", sa.String(10), nullable=False),
        sa.Column("spec", sa.Text(), nullable=False),
        sa.Column("departs_at", TIME, nullable=False),
        sa.Column("presale_opens_at", TIME, nullable=False),
        sa.Column("release_at", TIME, nullable=False),
        sa.Column("preallocated_at", TIME),
        sa.Column("released_at", TIME),
        sa.Column("created_at", TIME, nullable=False),
        sa.UniqueConstraint("train", "service_date", name="uq_train_run"),
    )
    op.create_table(
        "run_versions",
        sa.Column("run_id", sa.Integer(), sa.ForeignKey("train_runs.run_id"), primary_key=True),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("quota_version", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "quotas",
        sa.Column("run_id", sa.Integer(), sa.ForeignKey("train_runs.run_id"), primary_key=True),
        sa.Column("quota_id", sa.String(40), primary_key=True),
        sa.Column("seat_class", sa.String(2), nullable=False),
        sa.Column("purpose", sa.String(8), nullable=False),
        sa.Column("board", sa.Integer()),
        sa.Column("min_dest", sa.Integer(), nullable=False),
        sa.Column("share_mode", sa.String(8), nullable=False),
        sa.Column("share_group", sa.String(40)),
        sa.Column("sharers", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
    )
    op.create_table(
        "seats",
        sa.Column("run_id", sa.Integer(), sa.ForeignKey("train_runs.run_id"), primary_key=True),
        sa.Column("seat_no", sa.Integer(), primary_key=True),
        sa.Column("coach", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("seat_class", sa.String(2), nullable=False),
        sa.Column("quota_id", sa.String(40), nullable=False),
        sa.Column("sold", sa.BigInteger(), nullable=False),
        sa.Column("blocked", sa.BigInteger(), nullable=False),
        sa.Column("splits", sa.Integer(), nullable=False),
        sa.Column("journeys", sa.Text(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "standing",
        sa.Column("run_id", sa.Integer(), sa.ForeignKey("train_runs.run_id"), primary_key=True),
        sa.Column("seat_class", sa.String(2), primary_key=True),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("sold", sa.Text(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
    )


def _sales() -> None:
    op.create_table(
        "orders",
        sa.Column("order_id", sa.String(32), primary_key=True),
        sa.Column("run_id", sa.Integer(), sa.ForeignKey("train_runs.run_id"), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("station", sa.String(3)),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("expires_at", TIME, nullable=False),
        sa.Column("total_fen", sa.BigInteger(), nullable=False),
        sa.Column("payment_method", sa.String(10)),
        sa.Column("payment_reference", sa.String(64)),
        sa.Column("acquirer", sa.String(40)),
        sa.Column("card_masked", sa.String(32)),
        sa.Column("paid_at", TIME),
    )
    op.create_index("ix_orders_expiry", "orders", ["status", "expires_at"])
    op.create_table(
        "tickets",
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("ticket_id", sa.String(16), nullable=False, unique=True),
        sa.Column("order_id", sa.String(32), sa.ForeignKey("orders.order_id"), nullable=False),
        sa.Column("run_id", sa.Integer(), sa.ForeignKey("train_runs.run_id"), nullable=False),
        sa.Column("seat_class", sa.String(2), nullable=False),
        sa.Column("board", sa.Integer(), nullable=False),
        sa.Column("dest", sa.Integer(), nullable=False),
        sa.Column("seat_no", sa.Integer()),
        sa.Column("coach", sa.Integer()),
        sa.Column("number", sa.Integer()),
        sa.Column("quota_id", sa.String(40)),
        sa.Column("fit", sa.String(8)),
        sa.Column("is_remote", sa.Boolean(), nullable=False),
        sa.Column("passenger_name", sa.String(40), nullable=False),
        sa.Column("id_masked", sa.String(32), nullable=False),
        sa.Column("id_key", sa.String(64), nullable=False),
        sa.Column("name_hash", sa.String(16), nullable=False),
        sa.Column("id_hash", sa.String(16), nullable=False),
        sa.Column("price_fen", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("departs_at", TIME, nullable=False),
        sa.Column("arrives_at", TIME, nullable=False),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("station", sa.String(3)),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("issued_at", TIME),
        sa.Column("closed_at", TIME),
        sa.Column("fee_fen", sa.BigInteger()),
        sa.Column("refund_fen", sa.BigInteger()),
        sa.Column("replaced_by", sa.String(16)),
        sa.Column("token", sa.Text()),
    )
    op.create_index("ix_tickets_holder", "tickets", ["id_key", "status"])
    op.create_index("ix_tickets_order", "tickets", ["order_id"])
    op.create_table(
        "idempotency",
        sa.Column("scope", sa.String(64), primary_key=True),
        sa.Column("key", sa.String(128), primary_key=True),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("response", sa.Text(), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
    )
    op.create_index("ix_idempotency_age", "idempotency", ["created_at"])


def _operations() -> None:
    op.create_table(
        "audit",
        sa.Column("audit_id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("at", TIME, nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("run_id", sa.Integer()),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
    )
    op.create_table(
        "devices",
        sa.Column("device_id", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("station", sa.String(3)),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
    )
    op.create_table(
        "ticket_events",
        sa.Column("event_id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("at", TIME, nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("reason", sa.String(16)),
        sa.Column("ticket_id", sa.String(16), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("board_station", sa.String(3), nullable=False),
        sa.Column("dest_station", sa.String(3), nullable=False),
        sa.Column("departs_at", TIME, nullable=False),
        sa.Column("arrives_at", TIME, nullable=False),
        sa.Column("token", sa.Text()),
    )
    op.create_index("ix_events_board", "ticket_events", ["board_station", "event_id"])
    op.create_index("ix_events_dest", "ticket_events", ["dest_station", "event_id"])
