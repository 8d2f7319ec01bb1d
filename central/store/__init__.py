"""Central's durable store: SQLAlchemy 2 Core over SQLite (embedded) or PostgreSQL."""
