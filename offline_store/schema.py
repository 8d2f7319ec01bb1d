"""The store's schema, as the ordered list of migration steps that builds it.

Version 1 holds what a ticket gate needs: the ticket cache and revocations
from central's station feed, the verification keys, the passage journal and
its per-slot counters (the outbox), sync cursors, the device's enrolment and
the unit's mode and facts. Version 2 adds what a ticket vending machine keeps:
its sales journal, its emergency seat blocks and the key it signs block
tickets with. Version 3 scopes a TVM's key to its station; version 4 keeps the
gate group a ticket's train checks in at. A step is never edited once shipped,
so its SQL is written out literally rather than built from the code's enums.

Sizes are chosen for ten million cached tickets on an SD card: ticket ids are
the integer row id, instants are integers, the token is kept in its 109-byte
binary form, and the holder-tag index covers only the tickets that carry a tag.
The arrival index is by day so that a feed page, whose tickets arrive on a
few days and whose ids grow with the time of sale, extends a few runs of that
index instead of touching a random page of it per ticket: on a large cache
that is most of the bytes a page would write. The holder-tag index cannot
have that locality (tags are hashes) and is the main write cost of a page.
"""

from __future__ import annotations

from offline_store.connection import APPLICATION_ID
from offline_store.migrations import Migration

_TICKETS = """
CREATE TABLE tickets (
    ticket_id INTEGER PRIMARY KEY,  -- the token's 8-byte id as a signed 64-bit integer
    event_id INTEGER NOT NULL,      -- the station feed event it came from
    train TEXT NOT NULL,
    service_day INTEGER NOT NULL,   -- days since 2000-01-01, as in the token
    from_station TEXT NOT NULL,
    to_station TEXT NOT NULL,
    departs_at INTEGER NOT NULL,    -- seconds since 1970-01-01 UTC
    arrives_at INTEGER NOT NULL,
    seat_class TEXT NOT NULL,
    coach INTEGER,                  -- coach and seat NULL: standing
    seat INTEGER,
    key_id INTEGER NOT NULL,
    holder_tag BLOB,                -- 16 bytes, keyed hash of the holder's ID number
    token BLOB NOT NULL             -- the signed token, 109 bytes
)"""

_REVOCATIONS = """
CREATE TABLE revocations (
    ticket_id INTEGER PRIMARY KEY,  -- no foreign key: a revocation may come before its ticket
    event_id INTEGER NOT NULL,
    reason TEXT NOT NULL,
    revoked_at INTEGER NOT NULL,    -- seconds since 1970-01-01 UTC
    arrives_at INTEGER NOT NULL     -- the ticket's arrival, to purge both together
)"""

_KEYS = """
CREATE TABLE verify_keys (
    key_id INTEGER PRIMARY KEY CHECK (key_id BETWEEN 0 AND 255),
    public_key BLOB NOT NULL CHECK (length(public_key) = 32)
)"""

_HOLDER_TAG_KEY = """
CREATE TABLE holder_tag_key (
    slot INTEGER PRIMARY KEY CHECK (slot = 1),
    key_id INTEGER NOT NULL,
    key BLOB NOT NULL CHECK (length(key) BETWEEN 1 AND 1024)
)"""

_PASSAGES = """
CREATE TABLE passages (
    seq INTEGER PRIMARY KEY,        -- append order, which is the upload order
    passage_id TEXT NOT NULL UNIQUE,  -- a UUID: central's idempotency key
    ticket_id INTEGER,              -- NULL: no ticket (emergency open, unreadable token)
    direction TEXT NOT NULL CHECK (direction IN ('entry', 'exit')),
    kind TEXT NOT NULL CHECK (kind IN ('admitted', 'annulled', 'emergency', 'refused')),
    reason TEXT NOT NULL,
    unit_time_ms INTEGER NOT NULL,  -- the unit's clock, ms since 1970-01-01 UTC
    central_time_ms INTEGER,        -- the same instant corrected to central's clock, if known
    mode TEXT NOT NULL
        CHECK (mode IN ('in_service', 'flow_control', 'out_of_service', 'emergency_open')),
    detail TEXT NOT NULL CHECK (json_valid(detail)),
    annuls TEXT REFERENCES passages (passage_id),  -- the admitted passage an annulment cancels
    upload_state TEXT NOT NULL DEFAULT 'pending' CHECK (upload_state IN ('pending', 'uploaded')),
    uploaded_at_ms INTEGER,
    upload_answer TEXT CHECK (upload_answer IS NULL OR json_valid(upload_answer)),
    CHECK ((kind = 'annulled') = (annuls IS NOT NULL))
)"""

_PASSAGE_COUNTS = """
CREATE TABLE passage_counts (
    slot_start INTEGER NOT NULL,    -- seconds since 1970-01-01 UTC, a multiple of slot_seconds
    slot_seconds INTEGER NOT NULL,
    direction TEXT NOT NULL CHECK (direction IN ('entry', 'exit')),
    kind TEXT NOT NULL CHECK (kind IN ('admitted', 'annulled', 'emergency', 'refused')),
    count INTEGER NOT NULL CHECK (count >= 0),
    uploaded_count INTEGER NOT NULL DEFAULT 0,  -- the count central last acknowledged
    PRIMARY KEY (slot_start, slot_seconds, direction, kind)
) WITHOUT ROWID"""

_CURSORS = """
CREATE TABLE sync_cursors (
    name TEXT PRIMARY KEY,
    value NOT NULL CHECK (typeof(value) IN ('integer', 'text'))
)"""

_IDENTITY = """
CREATE TABLE device_identity (
    slot INTEGER PRIMARY KEY CHECK (slot = 1),
    device_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    station TEXT NOT NULL,
    central_url TEXT NOT NULL,
    credential TEXT NOT NULL,       -- the bearer token: why the file is mode 0600
    enrolled_at_ms INTEGER NOT NULL
)"""

_MODE = """
CREATE TABLE unit_mode (
    slot INTEGER PRIMARY KEY CHECK (slot = 1),
    mode TEXT NOT NULL
        CHECK (mode IN ('in_service', 'flow_control', 'out_of_service', 'emergency_open')),
    changed_at_ms INTEGER NOT NULL
)"""

_FACTS = """
CREATE TABLE unit_facts (
    key TEXT PRIMARY KEY,
    value NOT NULL CHECK (typeof(value) IN ('integer', 'real', 'text'))
)"""

_TICKETS_READABLE = """
CREATE VIEW tickets_readable AS
SELECT printf('%016x', t.ticket_id) AS ticket_id, t.event_id, t.train,
       date('2000-01-01', '+' || t.service_day || ' days') AS service_date,
       t.from_station, t.to_station,
       datetime(t.departs_at, 'unixepoch') AS departs_utc,
       datetime(t.arrives_at, 'unixepoch') AS arrives_utc,
       t.seat_class, t.coach, t.seat, t.key_id, hex(t.holder_tag) AS holder_tag,
       r.reason AS revoked_reason
FROM tickets AS t LEFT JOIN revocations AS r ON r.ticket_id = t.ticket_id"""

_PASSAGES_READABLE = """
CREATE VIEW passages_readable AS
SELECT seq, passage_id, printf('%016x', ticket_id) AS ticket_id, direction, kind, reason,
       strftime('%Y-%m-%d %H:%M:%f', unit_time_ms / 1000.0, 'unixepoch') AS unit_time_utc,
       mode, detail, annuls, upload_state
FROM passages"""

VERSION_1 = Migration(
    version=1,
    summary="gate: ticket cache, revocations, keys, passage journal, counters, unit state",
    statements=(
        f"PRAGMA application_id = {APPLICATION_ID}",
        _TICKETS,
        "CREATE INDEX tickets_by_holder ON tickets (holder_tag) WHERE holder_tag IS NOT NULL",
        # by UTC day, not instant: a feed page then adds to the end of a few days' runs
        # (ticket ids grow with sale time) instead of a page write per ticket
        "CREATE INDEX tickets_by_arrival_day ON tickets (arrives_at / 86400)",
        _REVOCATIONS,
        "CREATE INDEX revocations_by_arrival_day ON revocations (arrives_at / 86400)",
        _KEYS,
        _HOLDER_TAG_KEY,
        _PASSAGES,
        "CREATE INDEX passages_admitted ON passages (ticket_id, direction) WHERE kind = 'admitted'",
        "CREATE UNIQUE INDEX passages_annulments ON passages (annuls) WHERE annuls IS NOT NULL",
        "CREATE INDEX passages_pending ON passages (seq) WHERE upload_state = 'pending'",
        _PASSAGE_COUNTS,
        "CREATE INDEX passage_counts_pending ON passage_counts (slot_start)"
        " WHERE count != uploaded_count",
        _CURSORS,
        _IDENTITY,
        _MODE,
        _FACTS,
        _TICKETS_READABLE,
        _PASSAGES_READABLE,
    ),
)

_SALES = """
CREATE TABLE sales (
    sale_id TEXT PRIMARY KEY,          -- made by the TVM before anything else happens
    kind TEXT NOT NULL,                -- purchase, refund, change, offline
    state TEXT NOT NULL,               -- where it stands: see offline_store.sales.SaleState
    is_open INTEGER NOT NULL,          -- 1 until a final state: what a restart resumes
    order_id TEXT,                     -- central's order, once held
    amount_fen INTEGER NOT NULL,
    transaction_id TEXT,               -- the POS's, journaled before the charge is asked
    reversal_id TEXT,
    payment TEXT,                      -- JSON: method, masked card, acquirer, authorisation
    tickets TEXT,                      -- JSON: the issued tickets, with their tokens
    printed INTEGER NOT NULL,          -- how many of those tickets have printed
    detail TEXT NOT NULL,              -- JSON: the journey, the passengers masked, notes
    created_at INTEGER NOT NULL,       -- milliseconds since 1970-01-01 UTC
    updated_at INTEGER NOT NULL
)"""
_SALE_STEPS = """
CREATE TABLE sale_steps (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    sale_id TEXT NOT NULL REFERENCES sales (sale_id),
    at INTEGER NOT NULL,
    state TEXT NOT NULL,
    detail TEXT NOT NULL
)"""
_BLOCKS = """
CREATE TABLE blocks (
    block_id TEXT PRIMARY KEY,
    view TEXT NOT NULL,                -- central's BlockView, JSON
    is_active INTEGER NOT NULL,
    return_at INTEGER NOT NULL         -- milliseconds since 1970-01-01 UTC
)"""
_BLOCK_SALES = """
CREATE TABLE block_sales (
    ticket_id TEXT PRIMARY KEY,
    block_id TEXT NOT NULL,
    coach INTEGER NOT NULL,
    seat INTEGER NOT NULL,
    sale TEXT NOT NULL,                -- the BlockSale to upload, JSON (with the ID number
                                       -- central's real-name rule needs; masked once uploaded)
    uploaded_at INTEGER,
    answer TEXT
)"""
_UNIT_KEY = """
CREATE TABLE unit_key (
    only_row INTEGER PRIMARY KEY CHECK (only_row = 1),
    private_key BLOB NOT NULL,         -- the Ed25519 seed the TVM signs block tickets with
    key_id INTEGER                     -- central's id for it, once registered
)"""

VERSION_2 = Migration(
    version=2,
    summary="ticket vending machine: sales journal, emergency seat blocks, its signing key",
    statements=(
        _SALES,
        "CREATE INDEX sales_open ON sales (created_at) WHERE is_open = 1",
        _SALE_STEPS,
        "CREATE INDEX sale_steps_by_sale ON sale_steps (sale_id, seq)",
        _BLOCKS,
        _BLOCK_SALES,
        # a block seat is sold once, offline; the journey's remainder returns through central
        "CREATE UNIQUE INDEX block_sales_seat ON block_sales (block_id, coach, seat)",
        "CREATE INDEX block_sales_pending ON block_sales (ticket_id) WHERE uploaded_at IS NULL",
        _UNIT_KEY,
    ),
)

VERSION_3 = Migration(
    version=3,
    summary="gate: keys scoped to a station (a TVM's key signs only tickets boarding there)",
    statements=(
        # NULL: central's key, any ticket; a station code: a unit key, tickets boarding there
        "ALTER TABLE verify_keys ADD COLUMN scope TEXT CHECK (scope IS NULL OR length(scope) > 0)",
    ),
)

_TICKETS_READABLE_4 = """
CREATE VIEW tickets_readable AS
SELECT printf('%016x', t.ticket_id) AS ticket_id, t.event_id, t.train,
       date('2000-01-01', '+' || t.service_day || ' days') AS service_date,
       t.from_station, t.to_station,
       datetime(t.departs_at, 'unixepoch') AS departs_utc,
       datetime(t.arrives_at, 'unixepoch') AS arrives_utc,
       t.seat_class, t.coach, t.seat, t.key_id, hex(t.holder_tag) AS holder_tag,
       t.gate_group, r.reason AS revoked_reason
FROM tickets AS t LEFT JOIN revocations AS r ON r.ticket_id = t.ticket_id"""

VERSION_4 = Migration(
    version=4,
    summary="gate: the gate group a cached ticket's train checks in at where it boards",
    statements=(
        # NULL: not known (an event from before central sent it, a TVM's offline sale)
        "ALTER TABLE tickets ADD COLUMN gate_group TEXT"
        " CHECK (gate_group IS NULL OR length(gate_group) BETWEEN 1 AND 16)",
        "DROP VIEW tickets_readable",
        _TICKETS_READABLE_4,
    ),
)

MIGRATIONS: tuple[Migration, ...] = (VERSION_1, VERSION_2, VERSION_3, VERSION_4)
