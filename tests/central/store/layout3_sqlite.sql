-- The store's layout 3 on SQLite, as StationKit wrote it before migrations (commit c501f83,
-- central.store.database.open_database), from sqlite3's .schema: the baseline revision's reference.
CREATE TABLE train_runs (
	run_id INTEGER NOT NULL, 
	train VARCHAR(8) NOT NULL, 
	service_date VARCHAR(10) NOT NULL, 
	spec TEXT NOT NULL, 
	departs_at DATETIME NOT NULL, 
	presale_opens_at DATETIME NOT NULL, 
	release_at DATETIME NOT NULL, 
	preallocated_at DATETIME, 
	released_at DATETIME, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (run_id), 
	CONSTRAINT uq_train_run UNIQUE (train, service_date)
);
CREATE TABLE store_schema (
	version INTEGER NOT NULL, 
	PRIMARY KEY (version)
);
CREATE TABLE idempotency (
	scope VARCHAR(64) NOT NULL, 
	"key" VARCHAR(128) NOT NULL, 
	request_hash VARCHAR(64) NOT NULL, 
	status_code INTEGER NOT NULL, 
	response TEXT NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (scope, "key")
);
CREATE INDEX ix_idempotency_age ON idempotency (created_at);
CREATE TABLE audit (
	audit_id INTEGER NOT NULL, 
	at DATETIME NOT NULL, 
	actor VARCHAR(64) NOT NULL, 
	action VARCHAR(40) NOT NULL, 
	run_id INTEGER, 
	reason TEXT NOT NULL, 
	detail TEXT NOT NULL, 
	PRIMARY KEY (audit_id)
);
CREATE TABLE devices (
	device_id VARCHAR(64) NOT NULL, 
	kind VARCHAR(16) NOT NULL, 
	station VARCHAR(3), 
	token_hash VARCHAR(64) NOT NULL, 
	active BOOLEAN NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (device_id), 
	UNIQUE (token_hash)
);
CREATE TABLE ticket_events (
	event_id INTEGER NOT NULL, 
	at DATETIME NOT NULL, 
	kind VARCHAR(8) NOT NULL, 
	reason VARCHAR(16), 
	ticket_id VARCHAR(16) NOT NULL, 
	run_id INTEGER NOT NULL, 
	board_station VARCHAR(3) NOT NULL, 
	dest_station VARCHAR(3) NOT NULL, 
	departs_at DATETIME NOT NULL, 
	arrives_at DATETIME NOT NULL, 
	token TEXT, 
	PRIMARY KEY (event_id)
);
CREATE INDEX ix_events_dest ON ticket_events (dest_station, event_id);
CREATE INDEX ix_events_board ON ticket_events (board_station, event_id);
CREATE TABLE run_versions (
	run_id INTEGER NOT NULL, 
	version BIGINT NOT NULL, 
	quota_version BIGINT NOT NULL, 
	PRIMARY KEY (run_id), 
	FOREIGN KEY(run_id) REFERENCES train_runs (run_id)
);
CREATE TABLE quotas (
	run_id INTEGER NOT NULL, 
	quota_id VARCHAR(40) NOT NULL, 
	seat_class VARCHAR(2) NOT NULL, 
	purpose VARCHAR(8) NOT NULL, 
	board INTEGER, 
	min_dest INTEGER NOT NULL, 
	share_mode VARCHAR(8) NOT NULL, 
	share_group VARCHAR(40), 
	sharers TEXT NOT NULL, 
	position INTEGER NOT NULL, 
	PRIMARY KEY (run_id, quota_id), 
	FOREIGN KEY(run_id) REFERENCES train_runs (run_id)
);
CREATE TABLE seats (
	run_id INTEGER NOT NULL, 
	seat_no INTEGER NOT NULL, 
	coach INTEGER NOT NULL, 
	number INTEGER NOT NULL, 
	seat_class VARCHAR(2) NOT NULL, 
	quota_id VARCHAR(40) NOT NULL, 
	sold BIGINT NOT NULL, 
	blocked BIGINT NOT NULL, 
	splits INTEGER NOT NULL, 
	journeys TEXT NOT NULL, 
	version BIGINT NOT NULL, 
	PRIMARY KEY (run_id, seat_no), 
	FOREIGN KEY(run_id) REFERENCES train_runs (run_id)
);
CREATE TABLE standing (
	run_id INTEGER NOT NULL, 
	seat_class VARCHAR(2) NOT NULL, 
	capacity INTEGER NOT NULL, 
	sold TEXT NOT NULL, 
	version BIGINT NOT NULL, 
	PRIMARY KEY (run_id, seat_class), 
	FOREIGN KEY(run_id) REFERENCES train_runs (run_id)
);
CREATE TABLE orders (
	order_id VARCHAR(32) NOT NULL, 
	run_id INTEGER NOT NULL, 
	status VARCHAR(10) NOT NULL, 
	channel VARCHAR(10) NOT NULL, 
	station VARCHAR(3), 
	created_at DATETIME NOT NULL, 
	expires_at DATETIME NOT NULL, 
	total_fen BIGINT NOT NULL, 
	payment_method VARCHAR(10), 
	payment_reference VARCHAR(64), 
	acquirer VARCHAR(40), 
	card_masked VARCHAR(32), 
	paid_at DATETIME, 
	PRIMARY KEY (order_id), 
	FOREIGN KEY(run_id) REFERENCES train_runs (run_id)
);
CREATE INDEX ix_orders_expiry ON orders (status, expires_at);
CREATE TABLE tickets (
	seq INTEGER NOT NULL, 
	ticket_id VARCHAR(16) NOT NULL, 
	order_id VARCHAR(32) NOT NULL, 
	run_id INTEGER NOT NULL, 
	seat_class VARCHAR(2) NOT NULL, 
	board INTEGER NOT NULL, 
	dest INTEGER NOT NULL, 
	seat_no INTEGER, 
	coach INTEGER, 
	number INTEGER, 
	quota_id VARCHAR(40), 
	fit VARCHAR(8), 
	is_remote BOOLEAN NOT NULL, 
	passenger_name VARCHAR(40) NOT NULL, 
	id_masked VARCHAR(32) NOT NULL, 
	id_key VARCHAR(64) NOT NULL, 
	name_hash VARCHAR(16) NOT NULL, 
	id_hash VARCHAR(16) NOT NULL, 
	price_fen BIGINT NOT NULL, 
	status VARCHAR(10) NOT NULL, 
	departs_at DATETIME NOT NULL, 
	arrives_at DATETIME NOT NULL, 
	channel VARCHAR(10) NOT NULL, 
	station VARCHAR(3), 
	created_at DATETIME NOT NULL, 
	issued_at DATETIME, 
	closed_at DATETIME, 
	fee_fen BIGINT, 
	refund_fen BIGINT, 
	replaced_by VARCHAR(16), 
	token TEXT, 
	PRIMARY KEY (seq), 
	UNIQUE (ticket_id), 
	FOREIGN KEY(order_id) REFERENCES orders (order_id), 
	FOREIGN KEY(run_id) REFERENCES train_runs (run_id)
);
CREATE INDEX ix_tickets_holder ON tickets (id_key, status);
CREATE INDEX ix_tickets_order ON tickets (order_id);
