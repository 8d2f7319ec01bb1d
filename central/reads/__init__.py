"""The read path: queries answered from the store beside the writer, never through it.

Availability, the OD matrix, quotas, ticket and order lookups, the station
feed, audit, stats and run lists read the store on read-only connections
(SQLite WAL readers and PostgreSQL MVCC never wait for a writer) from a
worker thread, and keep inventories of their own, caught up by version, so
a query takes no write lock and never queues behind a sale.
"""
