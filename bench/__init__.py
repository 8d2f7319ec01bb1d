"""StationKit benchmarks: ``python -m bench`` (or ``make bench``) writes ``bench/results.json``.

Two parts. The engine part times the pure seat inventory in process
(allocation, availability, the full OD matrix). The HTTP part starts one
central server on a fresh durable SQLite file, loads a synthetic timetable
of 100 train runs and drives it with ``wrk`` (the Debian package ``make deps``
installs). Every figure is what was measured; the targets only label it.
"""
