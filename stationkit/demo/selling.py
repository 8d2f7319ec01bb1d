"""The selling scenes of the demo day, and the hold-pay-print steps they share.

A sale is a hold (``POST /v1/orders``) and a payment of the whole order,
booked in the demo's ledger and told in one line. The scenes sell real-name
tickets at the TVM (card, with a retried payment), the ticket window (cash)
and online (mobile); show an overlapping journey refused and a hold given
up; show what three selling stations may sell of a shared station quota and
a remote-station ticket the passenger confirms; sell one class out and
another down to its standing places.
"""

from __future__ import annotations

from protocol.fields import MAX_PASSENGERS
from stationkit.demo.books import Demo, Seller
from stationkit.demo.client import DemoError, Json, new_key, refusal
from stationkit.demo.report import place, places, say, yuan
from stationkit.demo.timetable import Run, planned_class

Journey = tuple[Run, int, int, str]  # run, from stop index, to stop index, seat class
CAST = ("张伟", "王芳", "李娜", "刘洋", "陈静", "杨帆", "赵磊", "黄敏")
CARD = {"acquirer": "ABC", "card_masked": "622848******1234"}
CARD_PAYMENT: Json = {"method": "card", **CARD}


def hold(demo: Demo, seller: Seller, journey: Journey, people: list[Json]) -> Json:
    """``POST /v1/orders``: hold places for the passengers."""
    run, a, b, seat_class = journey
    body = {
        **run.journey(a, b, seat_class),
        "passengers": people,
        "channel": seller.channel,
        "station": seller.station,
    }
    order: Json = demo.api.post("/v1/orders", body, seller.token)
    return order


def payment_body(order: Json, method: Json) -> Json:
    """A payment of the whole order with one method."""
    return {"amount_fen": order["total_fen"], "reference": f"demo-{new_key()[:12]}", **method}


def submit_payment(
    demo: Demo, seller: Seller, order: Json, body: Json, key: str | None = None
) -> Json:
    """``POST /v1/orders/{id}/pay``; the issued order, booked in the ledger."""
    paid: Json = demo.api.post(f"/v1/orders/{order['order_id']}/pay", body, seller.token, key)
    if paid["status"] != "issued" or any(not t.get("token") for t in paid["tickets"]):
        raise DemoError(f"order {order['order_id']} was paid but is {paid['status']}")
    demo.ledger.paid(paid, seller.channel)
    return paid


def method_label(method: Json) -> str:
    """``card 622848******1234 (ABC)``, ``cash`` or ``mobile``."""
    if method["method"] == "card":
        return f"card {method['card_masked']} via {method['acquirer']}"
    return str(method["method"])


def report_sale(seller: Seller, journey: Journey, people: list[Json], order: Json) -> None:
    """One line for an issued order."""
    run, a, b, seat_class = journey
    names = "、".join(p["name"] for p in people)
    payment = order.get("payment") or {}
    remote = " (remote-station ticket 异地票)" if any(t["remote"] for t in order["tickets"]) else ""
    say(
        f"sold     {seller.label(run)}: {names} — {run.train} {run.date} {seat_class} "
        f"{run.od(a, b)}, {places(order['tickets'])}{remote}; "
        f"{method_label(payment)} {yuan(order['total_fen'])}"
    )


def sell(demo: Demo, seller: Seller, journey: Journey, people: list[Json], method: Json) -> Json:
    """Hold and pay, printing one line; the issued order."""
    order = hold(demo, seller, journey, people)
    paid = submit_payment(demo, seller, order, payment_body(order, method))
    report_sale(seller, journey, people, paid)
    return paid


def sell_out(demo: Demo, journey: Journey, seats: int) -> int:
    """Sell ``seats`` places online in orders of up to five; the number of orders."""
    online = demo.sellers["internet"]
    orders = 0
    while seats > 0:
        count = min(MAX_PASSENGERS, seats)
        order = hold(demo, online, journey, demo.people.many(count))
        submit_payment(demo, online, order, payment_body(order, {"method": "mobile"}))
        seats -= count
        orders += 1
    return orders


def rush(demo: Demo, journey: Journey) -> Json:
    """Sell every seat left of a class online, printing one line; what is left after."""
    run, a, b, seat_class = journey
    seats = demo.class_left(*journey)["seats"]
    orders = sell_out(demo, journey, seats)
    left = demo.class_left(*journey)
    say(
        f"rush     internet: {seats} {seat_class} seats of {run.train} {run.date} "
        f"{run.od(a, b)} sold in {orders} orders; left: seats {left['seats']}, "
        f"standing {left['standing']}"
    )
    return left


def ticket_journey(demo: Demo, ticket: Json) -> Journey:
    """The journey of a ticket as central reports it."""
    run = demo.run(ticket["train"], ticket["date"])
    return run, run.codes.index(ticket["from"]), run.codes.index(ticket["to"]), ticket["class"]


def describe(demo: Demo, ticket: Json) -> str:
    """``G111 2026-11-26 ZY 北京南 VNP → 上海虹桥 AOH coach 2 seat 3``."""
    run, a, b, seat_class = ticket_journey(demo, ticket)
    return f"{run.train} {run.date} {seat_class} {run.od(a, b)} {place(ticket)}"


# ---------------------------------------------------------------- scenes: TVM, window, internet


def tvm_sale(demo: Demo) -> None:
    """Two passengers pay by card at the TVM; the TVM retries the payment with the same key."""
    group, tvm = demo.roles.group, demo.sellers["tvm"]
    run = group.run
    journey = (run, group.sharer, run.last, run.classes_by_fare()[-1])
    riders = [demo.people.one(CAST[0]), demo.people.one(CAST[1])]
    order = hold(demo, tvm, journey, riders)
    body, key = payment_body(order, CARD_PAYMENT), new_key()
    paid = submit_payment(demo, tvm, order, body, key)
    report_sale(tvm, journey, riders, paid)
    again = demo.api.post(f"/v1/orders/{order['order_id']}/pay", body, tvm.token, key)
    if again != paid:
        raise DemoError("a payment retried with the same Idempotency-Key gave another answer")
    say("retry    the TVM resends the payment with the same Idempotency-Key: same answer")
    demo.kept["verify"] = (paid["tickets"][0], riders[0])
    demo.kept["card_refund"] = (paid["tickets"][1], riders[1])


def window_sale(demo: Demo) -> None:
    """A family pays cash at the ticket window of the origin station."""
    run = demo.roles.group.run
    fares = run.classes_by_fare()
    family = [demo.people.one(name) for name in CAST[2:5]]
    journey = (run, 0, run.last, fares[-2] if len(fares) > 1 else fares[0])
    cash = sell(demo, demo.sellers["window"], journey, family, {"method": "cash"})
    demo.kept["change"] = (cash["tickets"][0], family[0])
    demo.kept["cash_refund"] = (cash["tickets"][1], family[1])


def online_sale(demo: Demo) -> None:
    """One passenger buys the dearest class of another train online, paid by mobile."""
    run = demo.roles.planned
    journey = (run, 0, run.last, run.classes_by_fare()[0])
    sell(demo, demo.sellers["internet"], journey, [demo.people.one(CAST[5])], {"method": "mobile"})


def overlap_refusal(demo: Demo) -> None:
    """The TVM passenger tries to buy an overlapping journey online: journey_overlap."""
    ticket, rider = demo.kept["verify"]
    run, _, b, _ = ticket_journey(demo, ticket)
    journey = (run, demo.roles.group.station, b, run.classes_by_fare()[0])
    refused = refusal(
        lambda: hold(demo, demo.sellers["internet"], journey, [rider]), "journey_overlap"
    )
    say(
        f"refused  internet: {rider['name']} (same ID) — {run.train} {run.date} "
        f"{run.od(journey[1], b)}: journey_overlap ({refused.detail})"
    )


def cancelled_hold(demo: Demo) -> None:
    """A hold is given up: the seats come back at once."""
    run = demo.roles.planned
    journey = (run, 0, run.last, planned_class(run))
    before = demo.class_left(*journey)["seats"]
    order = hold(demo, demo.sellers["internet"], journey, demo.people.many(2))
    during = demo.class_left(*journey)["seats"]
    demo.api.post(f"/v1/orders/{order['order_id']}/cancel", None, demo.sellers["internet"].token)
    after = demo.class_left(*journey)["seats"]
    demo.ledger.cancelled += len(order["tickets"])
    say(
        f"held     internet: 2 × {run.train} {run.date} {journey[3]} {run.od(0, run.last)} "
        f"until {order['expires_at'][11:19]} UTC; seats {before} → {during}"
    )
    if after != before:
        raise DemoError(f"cancelled order {order['order_id']}: seats {after}, expected {before}")
    say(f"cancel   order {order['order_id']}: seats back to {after}")


# ---------------------------------------------------------------- scenes: quotas, sold out


def quota_view(demo: Demo) -> None:
    """What three selling stations may sell of the same journey (a shared station quota)."""
    group = demo.roles.group
    run = group.run
    seen = []
    for stop in (group.station, group.sharer, group.outsider):
        seller = run.codes[stop]
        classes = demo.availability(run, group.station, run.last, seller)
        seats = next(c["seats"] for c in classes if c["class"] == group.seat_class)
        seen.append(f"{run.name(seller)} {seats}")
    say(
        f"quota    {run.train} {group.seat_class} {run.od(group.station, run.last)}, seats "
        f"sellable at: {' · '.join(seen)} ({group.quota} is kept for "
        f"{run.codes[group.station]} and its group)"
    )


def remote_sale(demo: Demo) -> None:
    """The TVM sells a journey from another station of its group, by card after a warning."""
    group, tvm = demo.roles.group, demo.sellers["tvm"]
    run = group.run
    journey = (run, group.station, run.last, group.seat_class)
    rider = [demo.people.one(CAST[6])]
    order = hold(demo, tvm, journey, rider)
    refused = refusal(
        lambda: demo.api.post(
            f"/v1/orders/{order['order_id']}/pay", payment_body(order, CARD_PAYMENT), tvm.token
        ),
        "card_station_not_accepted",
    )
    say(f"warning  {tvm.label(run)}: {refused.detail}; the passenger confirms")
    body = payment_body(order, {**CARD_PAYMENT, "confirm_card_station": True})
    report_sale(tvm, journey, rider, submit_payment(demo, tvm, order, body))


def sold_out(demo: Demo) -> None:
    """Sell the smallest class out online; the next order is refused with sold_out."""
    run, seat_class = demo.roles.small
    journey = (run, 0, run.last, seat_class)
    rush(demo, journey)
    refused = refusal(
        lambda: hold(demo, demo.sellers["internet"], journey, [demo.people.one()]), "sold_out"
    )
    say(f"refused  internet: one more {seat_class} — sold out ({refused.detail})")


def standing_sale(demo: Demo) -> None:
    """Sell a class's seats out; the next passengers get standing tickets (无座)."""
    run, seat_class = demo.roles.standing
    journey = (run, 0, run.last, seat_class)
    left = rush(demo, journey)
    if left["seats"] or not left["standing"]:
        raise DemoError(f"after selling out {seat_class}: {left}, expected standing places only")
    riders = [demo.people.one(CAST[7]), demo.people.one()]
    order = sell(demo, demo.sellers["internet"], journey, riders, {"method": "mobile"})
    if any(t["seat"] is not None for t in order["tickets"]):
        raise DemoError(f"seats were sold out but order {order['order_id']} got a seat")
    demo.kept["standing"] = (order["tickets"][0], riders[0])
    after = demo.class_left(*journey)
    say(f"left     {run.train} {seat_class}: seats {after['seats']}, standing {after['standing']}")
