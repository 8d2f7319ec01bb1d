"""The scripted demo day behind ``stationkit demo`` (and ``make demo``).

Central runs on SQLite as a separate process, as in production, and the demo
talks to it over HTTP only. It loads the demo timetable for the next two
service dates (China time), registers a TVM, a ticket window and an internet
channel, and plays a short day: the operator's pre-allocation run and a
temporary quota adjustment, availability queries, real-name sales paid by
card, cash and mobile, an overlapping-journey refusal, a cancelled hold, the
quota view of different selling stations with a remote-station ticket, a
class sold out, standing tickets once the seats run out, refunds, a change,
and an offline check of a ticket token. It ends with a summary that is
checked against central's own sales statistics and audit trail.

Stations, fares and seat counts all come from the timetable file: the script
picks trains, stops and classes by their role in it (a station quota shared
with a group, the smallest class, a class with standing places, ...).

The package: ``client`` (HTTP to central), ``timetable`` (runs and roles),
``books`` (passengers, ledger, shared state), ``report`` (printing and the
summary), ``operations``, ``selling`` and ``after_sale`` (the scenes), and
``day`` (starting central and playing the scenes in order).
"""

from stationkit.demo.day import run_demo

__all__ = ["run_demo"]
