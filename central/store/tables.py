"""The schema of central's store.

Every table that holds inventory is keyed by ``run_id`` first, so the seat
inventory partitions (and shards, on Citus or YugabyteDB) by train run. A
seat is one row per run whatever the number of stops: its sold segments are a
bitmask, so a sale writes one seat row. A change here needs a revision in
``central.store.migrations`` (docs/operations.md says how).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from central.store.types import UtcDateTime

metadata = MetaData()

train_runs = Table(
    "train_runs",
    metadata,
    Column("run_id", Integer, primary_key=True, autoincrement=True),
    Column("train", String(8), nullable=False),
    Column("service_date", String(10), nullable=False),
    Column("spec", Text, nullable=False),  # the timetable JSON as loaded
    Column("departs_at", UtcDateTime(), nullable=False),
    Column("presale_opens_at", UtcDateTime(), nullable=False),  # automatic pre-allocation
    Column("release_at", UtcDateTime(), nullable=False),  # unsold pre-allocation goes back
    Column("preallocated_at", UtcDateTime()),
    Column("released_at", UtcDateTime()),
    Column("created_at", UtcDateTime(), nullable=False),
    UniqueConstraint("train", "service_date", name="uq_train_run"),
)

# What a process's cached inventory is compared with: every sale of a run advances
# ``version``, a quota change ``quota_version``. Kept out of train_runs, whose rows
# (with the timetable) fill a page each: here every run's counters share a page or
# two, so a batch of sales on many runs rewrites one page, not one per run. On
# PostgreSQL a seller locks the run's row here (``SELECT ... FOR UPDATE``).
run_versions = Table(
    "run_versions",
    metadata,
    Column("run_id", Integer, ForeignKey("train_runs.run_id"), primary_key=True),
    Column("version", BigInteger, nullable=False, default=0),
    Column("quota_version", BigInteger, nullable=False, default=0),
)

quotas = Table(
    "quotas",
    metadata,
    Column("run_id", Integer, ForeignKey("train_runs.run_id"), primary_key=True),
    Column("quota_id", String(40), primary_key=True),
    Column("seat_class", String(2), nullable=False),
    Column("purpose", String(8), nullable=False),
    Column("board", Integer),  # stop index; NULL for common
    Column("min_dest", Integer, nullable=False, default=0),
    Column("share_mode", String(8), nullable=False),
    Column("share_group", String(40)),
    Column("sharers", Text, nullable=False),  # JSON list of station codes
    Column("position", Integer, nullable=False),
)

seats = Table(
    "seats",
    metadata,
    Column("run_id", Integer, ForeignKey("train_runs.run_id"), primary_key=True),
    Column("seat_no", Integer, primary_key=True),
    Column("coach", Integer, nullable=False),
    Column("number", Integer, nullable=False),
    Column("seat_class", String(2), nullable=False),
    Column("quota_id", String(40), nullable=False),
    Column("sold", BigInteger, nullable=False, default=0),
    Column("blocked", BigInteger, nullable=False, default=0),
    Column("splits", Integer, nullable=False, default=0),
    # the live sales in sale order ("board-dest,..."): a refund replays the others from
    # here, in the row every sale rewrites anyway, not through an index on tickets
    Column("journeys", Text, nullable=False, default=""),
    Column("version", BigInteger, nullable=False, default=0),
)
# No index on a seat's version: every sale would rewrite two more index pages, while
# a catch-up (rare) reads the run's 1,000-odd seat rows through the primary key.

standing = Table(
    "standing",
    metadata,
    Column("run_id", Integer, ForeignKey("train_runs.run_id"), primary_key=True),
    Column("seat_class", String(2), primary_key=True),
    Column("capacity", Integer, nullable=False),
    Column("sold", Text, nullable=False),  # JSON list: places sold per segment
    Column("version", BigInteger, nullable=False, default=0),
)

orders = Table(
    "orders",
    metadata,
    Column("order_id", String(32), primary_key=True),
    Column("run_id", Integer, ForeignKey("train_runs.run_id"), nullable=False),
    Column("status", String(10), nullable=False),
    Column("channel", String(10), nullable=False),
    Column("station", String(3)),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("total_fen", BigInteger, nullable=False),
    Column("payment_method", String(10)),
    Column("payment_reference", String(64)),
    Column("acquirer", String(40)),
    Column("card_masked", String(32)),
    Column("paid_at", UtcDateTime()),
)
Index("ix_orders_expiry", orders.c.status, orders.c.expires_at)

tickets = Table(
    "tickets",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),  # sale order, for reuse replay
    Column("ticket_id", String(16), nullable=False, unique=True),
    Column("order_id", String(32), ForeignKey("orders.order_id"), nullable=False),
    Column("run_id", Integer, ForeignKey("train_runs.run_id"), nullable=False),
    Column("seat_class", String(2), nullable=False),
    Column("board", Integer, nullable=False),
    Column("dest", Integer, nullable=False),
    Column("seat_no", Integer),  # NULL = standing
    Column("coach", Integer),
    Column("number", Integer),
    Column("quota_id", String(40)),
    Column("fit", String(8)),  # why this seat: the free run it was taken from, e.g. VNP-JGK
    Column("is_remote", Boolean, nullable=False, default=False),
    Column("passenger_name", String(40), nullable=False),
    Column("id_masked", String(32), nullable=False),
    Column("id_key", String(64), nullable=False),  # keyed hash: the real-name rule, no raw ID
    Column("name_hash", String(16), nullable=False),
    Column("id_hash", String(16), nullable=False),
    Column("price_fen", BigInteger, nullable=False),
    Column("status", String(10), nullable=False),
    Column("departs_at", UtcDateTime(), nullable=False),
    Column("arrives_at", UtcDateTime(), nullable=False),
    Column("channel", String(10), nullable=False),
    Column("station", String(3)),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("issued_at", UtcDateTime()),
    Column("closed_at", UtcDateTime()),
    Column("fee_fen", BigInteger),
    Column("refund_fen", BigInteger),
    Column("replaced_by", String(16)),
    Column("token", Text),
    Column("holder_tag", String(32)),  # keyed hash gates find a card holder's tickets by
)
Index("ix_tickets_holder", tickets.c.id_key, tickets.c.status)
Index("ix_tickets_order", tickets.c.order_id)

idempotency = Table(
    "idempotency",
    metadata,
    Column("scope", String(64), primary_key=True),  # who called, so keys never collide
    Column("key", String(128), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("status_code", Integer, nullable=False),
    Column("response", Text, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
)
Index("ix_idempotency_age", idempotency.c.created_at)  # housekeeping forgets old answers

audit = Table(
    "audit",
    metadata,
    Column("audit_id", Integer, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime(), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("action", String(40), nullable=False),
    Column("run_id", Integer),
    Column("reason", Text, nullable=False),
    Column("detail", Text, nullable=False),  # JSON
)

devices = Table(
    "devices",
    metadata,
    Column("device_id", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),  # tvm, gate, window, agent, internet ...
    Column("station", String(3)),
    Column("token_hash", String(64), unique=True),  # NULL: a unit not enrolled yet
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("gate_group", String(16)),
    Column("direction", String(5)),  # a gate fixed to entry or exit; NULL: both
    Column("enrolment_hash", String(64)),  # SHA-256 of the one-time code
    Column("enrolment_expires_at", UtcDateTime()),
    Column("enrolled_at", UtcDateTime()),
    Column("last_seen_at", UtcDateTime()),
    UniqueConstraint("enrolment_hash", name="uq_devices_enrolment_hash"),
)

# What gates journaled: every admission, annulment, emergency passage and refusal,
# once per passage id whatever the retries.
passages = Table(
    "passages",
    metadata,
    Column("passage_id", String(36), primary_key=True),
    Column("device_id", String(64), nullable=False),
    Column("station", String(3), nullable=False),
    Column("ticket_id", String(16)),
    Column("direction", String(5), nullable=False),
    Column("kind", String(10), nullable=False),  # admitted, annulled, emergency, refused
    Column("reason", String(40)),
    Column("annuls", String(36)),
    Column("is_annulled", Boolean, nullable=False, default=False),
    Column("at", UtcDateTime(), nullable=False),  # the gate's clock
    Column("central_at", UtcDateTime()),  # the gate's estimate of central's clock
    Column("received_at", UtcDateTime(), nullable=False),
    Column("mode", String(20), nullable=False),
    Column("detail", Text, nullable=False),  # JSON
)
Index("ix_passages_ticket", passages.c.ticket_id, passages.c.direction)

passage_counts = Table(
    "passage_counts",
    metadata,
    Column("device_id", String(64), primary_key=True),
    Column("direction", String(5), primary_key=True),
    Column("slot_start", UtcDateTime(), primary_key=True),
    Column("kind", String(10), primary_key=True),  # admitted, annulled, emergency, refused
    Column("slot_minutes", Integer, nullable=False),
    Column("station", String(3), nullable=False),
    Column("count", Integer, nullable=False),
    Column("received_at", UtcDateTime(), nullable=False),
)

anomalies = Table(
    "anomalies",
    metadata,
    Column("anomaly_id", Integer, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime(), nullable=False),
    Column("station", String(3), nullable=False),
    Column("device_id", String(64), nullable=False),
    Column("ticket_id", String(16)),
    Column("kind", String(24), nullable=False),
    Column("passage_id", String(36)),
    Column("detail", Text, nullable=False),  # JSON
)
Index("ix_anomalies_station", anomalies.c.station, anomalies.c.at)

# The station ticket feed: what gates sync. Issued tickets come with their token;
# refunded or changed ones are revoked, so gates stop opening for them.
ticket_events = Table(
    "ticket_events",
    metadata,
    Column("event_id", Integer, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime(), nullable=False),
    Column("kind", String(8), nullable=False),  # issued | revoked
    Column("reason", String(16)),  # revoked: refunded | changed
    Column("ticket_id", String(16), nullable=False),
    Column("run_id", Integer, nullable=False),
    Column("board_station", String(3), nullable=False),
    Column("dest_station", String(3), nullable=False),
    Column("departs_at", UtcDateTime(), nullable=False),
    Column("arrives_at", UtcDateTime(), nullable=False),
    Column("token", Text),
    Column("holder_tag", String(32)),
    Column("gate_group", String(16)),  # where the train checks in at the boarding station
)
Index("ix_events_board", ticket_events.c.board_station, ticket_events.c.event_id)
Index("ix_events_dest", ticket_events.c.dest_station, ticket_events.c.event_id)

# The Ed25519 keys TVMs sign emergency tickets with, published to the gates of the
# unit's station only. A unit has one current key; a replaced one stays published
# while tickets it signed may still be used (``publish_until``). Key ids (128..254)
# are given again once no gate needs the old key, so a row, not the id, is the key.
unit_keys = Table(
    "unit_keys",
    metadata,
    Column("unit_key_id", Integer, primary_key=True, autoincrement=True),
    Column("key_id", Integer, nullable=False),  # in the token's key-id byte
    Column("device_id", String(64), nullable=False),
    Column("station", String(3), nullable=False),
    Column("public_key", String(64), nullable=False),
    Column("registered_at", UtcDateTime(), nullable=False),
    Column("replaced_at", UtcDateTime()),  # NULL: the unit's current key
    Column("publish_until", UtcDateTime()),  # a replaced key: the last validity of its tickets
)
Index("ix_unit_keys_device", unit_keys.c.device_id)
Index("ix_unit_keys_station", unit_keys.c.station)

# Emergency seat blocks (应急售票): seats of a run leased to a TVM for offline sale.
# Each block seat holds a live sale from the TVM's station to the end of the run
# (in the seat row's journeys) until it is sold from the block or given back.
seat_blocks = Table(
    "seat_blocks",
    metadata,
    Column("block_id", String(24), primary_key=True),
    Column("run_id", Integer, ForeignKey("train_runs.run_id"), nullable=False),
    Column("device_id", String(64), nullable=False),
    Column("station", String(3), nullable=False),
    Column("board", Integer, nullable=False),  # the station's stop index
    Column("seat_class", String(2), nullable=False),
    Column("return_at", UtcDateTime(), nullable=False),
    Column("valid_until", UtcDateTime(), nullable=False),  # the last validity of its tickets
    Column("status", String(10), nullable=False),  # active | returned
    Column("created_at", UtcDateTime(), nullable=False),
    Column("returned_at", UtcDateTime()),
)
Index("ix_seat_blocks_device", seat_blocks.c.device_id, seat_blocks.c.status)
Index("ix_seat_blocks_due", seat_blocks.c.status, seat_blocks.c.return_at)

block_seats = Table(
    "block_seats",
    metadata,
    Column("block_id", String(24), ForeignKey("seat_blocks.block_id"), primary_key=True),
    Column("seat_no", Integer, primary_key=True),
    Column("coach", Integer, nullable=False),
    Column("number", Integer, nullable=False),
    Column("status", String(10), nullable=False),  # held | sold | returned
    Column("ticket_id", String(16)),  # sold: the ticket sold on it from the block
)

# Every offline sale a TVM uploaded, once per ticket id: a resend answers as the first.
block_sales = Table(
    "block_sales",
    metadata,
    Column("ticket_id", String(16), primary_key=True),
    Column("device_id", String(64), nullable=False),
    Column("block_id", String(24), nullable=False),
    Column("status", String(10), nullable=False),  # issued | refused
    Column("reason", Text),  # refused: why (the operator refunds the passenger)
    Column("received_at", UtcDateTime(), nullable=False),
)
