"""What the demo prints: its story lines, tables, and the closing summary.

Every line of the story goes through ``say``; places, fares and availability
tables are formatted here. The summary scene prints the demo's own books,
checks them against central's sales statistics by channel (a mismatch fails
the demo) and lists the audit trail by action.
"""

from __future__ import annotations

from collections import Counter

from protocol.money import format_yuan
from stationkit.demo.books import Demo, Ledger
from stationkit.demo.client import DemoError, Json
from stationkit.demo.timetable import Run


def say(text: str) -> None:
    """One line of the demo's story."""
    print(text, flush=True)


def section(title: str) -> None:
    """A heading between scenes."""
    say(f"\n== {title} ==")


def yuan(fen: int) -> str:
    """Fen as ``¥123.50``."""
    return f"¥{format_yuan(fen)}"


def place(ticket: Json) -> str:
    """``coach 4 seat 12`` or ``standing (无座)``."""
    if ticket.get("seat") is None:
        return "standing (无座)"
    return f"coach {ticket['coach']} seat {ticket['seat']}"


def places(tickets: list[Json]) -> str:
    """The places of several tickets, comma-separated."""
    return ", ".join(place(t) for t in tickets)


def availability_table(demo: Demo, journeys: list[tuple[Run, int, int]]) -> None:
    """A compact table: train, date, class, seats, standing, price, OD."""
    say(f"  {'train':<6} {'date':<10} {'class':<5} {'seats':>5} {'standing':>8} {'price':>10}  OD")
    for run, a, b in journeys:
        for c in demo.availability(run, a, b):
            say(
                f"  {run.train:<6} {run.date:<10} {c['class']:<5} {c['seats']:>5} "
                f"{c['standing']:>8} {yuan(c['price_fen']):>10}  {run.od(a, b)}"
            )


def summary(demo: Demo) -> None:
    """The demo's own books, checked against central's statistics, and the audit trail."""
    books = demo.ledger
    say(
        f"tickets  sold {books.sold}, refunded {books.refunded}, changed {books.changed}, "
        f"cancelled holds {books.cancelled}; valid now {sum(books.tickets.values())}"
    )
    say(f"money    taken net {yuan(sum(books.money.values()))}")
    for channel in sorted(books.money):
        say(money_row(channel, books.tickets[channel], books.money[channel]))
    stats = demo.api.get("/v1/stats/sales")
    check_stats(books, stats)
    say(
        f"stats    GET /v1/stats/sales agrees by channel; {len(stats['by_od'])} OD pairs, "
        f"{len(stats['by_station'])} selling points, {len(stats['by_hour'])} hour(s)"
    )
    for row in stats["by_station"]:
        say(money_row(row["key"], row["tickets"], row["revenue_fen"]))
    audit_trail(demo)


def audit_trail(demo: Demo) -> None:
    """One line: how many audit records central keeps, by action."""
    records = demo.api.get("/v1/audit", {"limit": "1000"})
    actions = Counter(r["action"] for r in records)
    listed = ", ".join(f"{action} {n}" for action, n in sorted(actions.items()))
    say(f"audit    {len(records)} records: {listed}")


def money_row(key: str, tickets: int, fen: int) -> str:
    """An indented line: key, valid tickets, net money."""
    return f"         {key:<8} {tickets:>4} tickets {yuan(fen):>12}"


def check_stats(books: Ledger, stats: Json) -> None:
    """Central's tickets and money per channel must equal the demo's own books."""
    theirs = {row["key"]: (row["tickets"], row["revenue_fen"]) for row in stats["by_channel"]}
    ours = {c: (books.tickets[c], books.money[c]) for c in books.money}
    if theirs != ours:
        raise DemoError(f"sales statistics by channel {theirs} differ from the demo's books {ours}")
