"""Offline sales from a block, uploaded by the TVM, on both stores.

An issued sale is a ticket like any other: visible by id with the TVM's
token, in the gates' feed, refundable by the recorded payment and
changeable; the rest of its seat is back on sale. A resend is a duplicate;
a sale that breaks the real-name rule, names a seat outside the block, a
seat already sold from it, another unit's block, or carries a token that is
not the TVM's, is refused, kept for the resend, and reported to operators.
After a block went back, a sale on one of its seats is issued while the seat
is still free, refused once it was sold.
"""

from __future__ import annotations

from typing import Any

from conftest import Api
from sqlalchemy import create_engine, func, select
from tvm_fixtures import RUN, Tvm, enrolled_tvm, leased, load_small_run, seats_left

from central.settings import CentralSettings
from central.store import tables as t
from protocol.keys import KeyRing, SigningKey, VerifyKey
from protocol.token import decode_token
from protocol.units import holder_tag

ID_NUMBER = "110101199001011234"


def block_at(
    api: Api, station: str, seats: int = 2, run_seats: int = 3
) -> tuple[Tvm, dict[str, Any]]:
    load_small_run(api, seats=run_seats)
    tvm = enrolled_tvm(api, station)
    return tvm, leased(api, tvm, seats)


def results(response: Any) -> list[tuple[str, str | None]]:
    assert response.status_code == 200, response.text
    return [(r["status"], r["reason"]) for r in response.json()["results"]]


def stored(settings: CentralSettings, table: Any, **where: Any) -> list[Any]:
    engine = create_engine(settings.database_url)
    try:
        with engine.connect() as conn:
            query = select(table).where(*(table.c[k] == v for k, v in where.items()))
            return list(conn.execute(query))
    finally:
        engine.dispose()


def count(settings: CentralSettings, table: Any) -> int:
    engine = create_engine(settings.database_url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(table)).scalar_one())
    finally:
        engine.dispose()


def feed_tickets(api: Api, station: str) -> dict[str, Any]:
    page = api.get(f"/v1/stations/{station}/feed").json()
    return {ticket["ticket_id"]: ticket for ticket in page["tickets"]} | {"_page": page}


# ----------------------------------------------------------------- issued


def test_an_offline_sale_becomes_an_issued_ticket_with_the_tvms_token(
    api: Api, settings: CentralSettings
) -> None:
    tvm, block = block_at(api, "BBB")
    assert seats_left(api, "CCC", "DDD") == 1
    sale = tvm.sale(block, "CCC")
    assert results(tvm.upload(sale)) == [("issued", None)]
    ticket = api.get(f"/v1/tickets/{sale['ticket_id']}").json()
    seat = block["seats"][0]
    assert ticket["status"] == "issued" and ticket["token"] == sale["token"]
    assert (ticket["from"], ticket["to"], ticket["class"]) == ("BBB", "CCC", "ZE")
    assert (ticket["coach"], ticket["seat"]) == (seat["coach"], seat["seat"])
    assert (ticket["passenger"], ticket["price_fen"]) == ("张三", sale["price_fen"])
    assert seats_left(api, "CCC", "DDD") == 2  # the rest of the seat is back on sale
    assert seats_left(api, "BBB", "CCC", "BBB") == 1  # the other block seat is still held
    [row] = stored(settings, t.tickets, ticket_id=sale["ticket_id"])
    assert (row.channel, row.station, row.id_masked) == ("tvm", "BBB", "1101**********1234")
    assert row.issued_at.isoformat() == "2026-11-25T12:00:00+00:00"
    [order] = stored(settings, t.orders, order_id=row.order_id)
    assert (order.status, order.payment_method, order.total_fen) == (
        "issued",
        "cash",
        row.price_fen,
    )
    assert [s["seat"] for s in tvm.blocks()[0]["seats"]] == [block["seats"][1]["seat"]]


def test_the_gates_learn_the_ticket_and_its_token_verifies_with_the_tvms_key(api: Api) -> None:
    tvm, block = block_at(api, "BBB")
    sale = tvm.sale(block, "DDD")
    tvm.upload(sale)
    for station in ("BBB", "DDD"):
        found = feed_tickets(api, station)
        ticket = found[sale["ticket_id"]]
        assert (ticket["token"], ticket["from"], ticket["to"]) == (sale["token"], "BBB", "DDD")
        tag_key = bytes.fromhex(found["_page"]["holder_tag_key"])
        assert ticket["holder_tag"] == holder_tag(tag_key, ID_NUMBER)
    assert tvm.key is not None
    ring = KeyRing([VerifyKey.from_public_hex(tvm.key.key_id, tvm.key.public_key().public_hex())])
    claims = decode_token(sale["token"], ring)
    assert claims.ticket_id == sale["ticket_id"] and claims.holder_matches(ID_NUMBER)


def test_a_block_ticket_is_refunded_by_its_recorded_payment(api: Api) -> None:
    tvm, block = block_at(api, "BBB")
    card = {
        "method": "card",
        "reference": "RRN77",
        "acquirer": "ICBC",
        "card_masked": "6228****1234",
    }
    sale = tvm.sale(block, "CCC", payment=card)
    tvm.upload(sale)
    refund = api.post(f"/v1/tickets/{sale['ticket_id']}/refund")
    assert refund.status_code == 200, refund.text
    assert (refund.json()["method"], refund.json()["acquirer"]) == ("card", "ICBC")
    assert refund.json()["refund_fen"] + refund.json()["fee_fen"] == sale["price_fen"]
    assert api.get(f"/v1/tickets/{sale['ticket_id']}").json()["status"] == "refunded"
    assert seats_left(api, "BBB", "CCC", "BBB") == 2  # its seat is sellable again, the other held
    revoked = api.get("/v1/stations/BBB/feed").json()["revocations"]
    assert [r["ticket_id"] for r in revoked] == [sale["ticket_id"]]


def test_a_block_ticket_can_be_changed(api: Api) -> None:
    tvm, block = block_at(api, "BBB")
    sale = tvm.sale(block, "CCC")
    tvm.upload(sale)
    body = {
        "train": block["train"],
        "date": block["date"],
        "from": "BBB",
        "to": "DDD",
        "class": "ZE",
    }
    changed = api.post(f"/v1/tickets/{sale['ticket_id']}/change", {**body, "id_number": ID_NUMBER})
    assert changed.status_code == 200, changed.text
    assert api.get(f"/v1/tickets/{sale['ticket_id']}").json()["status"] == "changed"


def test_a_resent_sale_is_a_duplicate_and_changes_nothing(
    api: Api, settings: CentralSettings
) -> None:
    tvm, block = block_at(api, "BBB")
    sale = tvm.sale(block, "CCC")
    other = tvm.sale(block, "DDD", seat=block["seats"][1], id_number="A0000001")
    assert results(tvm.upload(sale)) == [("issued", None)]
    before = count(settings, t.tickets), count(settings, t.ticket_events)
    assert results(tvm.upload(other, sale, other)) == [
        ("issued", None),
        ("duplicate", None),
        ("duplicate", None),
    ]
    assert (count(settings, t.tickets), count(settings, t.ticket_events)) == (
        before[0] + 1,
        before[1] + 1,
    )


# ----------------------------------------------------------------- refused


def anomalies(api: Api) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = api.get("/v1/anomalies", params={"date": "2026-11-25"}).json()
    return found


def test_a_sale_breaking_the_real_name_rule_is_refused_and_reported(
    api: Api, settings: CentralSettings
) -> None:
    tvm, block = block_at(api, "BBB")
    window = {
        "train": block["train"],
        "date": block["date"],
        "from": "AAA",
        "to": "CCC",
        "class": "ZE",
        "channel": "internet",
        "passengers": [{"name": "张三", "id_number": ID_NUMBER}],
    }
    assert api.post("/v1/orders", window).status_code == 201
    sale = tvm.sale(block, "DDD")
    [(status, reason)] = results(tvm.upload(sale))
    assert status == "refused" and reason is not None and "real-name" in reason
    assert api.get(f"/v1/tickets/{sale['ticket_id']}").status_code == 404
    [anomaly] = anomalies(api)
    assert (anomaly["kind"], anomaly["device_id"], anomaly["ticket_id"]) == (
        "block_sale_refused",
        tvm.device_id,
        sale["ticket_id"],
    )
    assert anomaly["detail"]["payment"]["reference"] == sale["payment"]["reference"]
    assert ID_NUMBER not in str(anomaly) and anomaly["detail"]["id_masked"] == "1101**********1234"
    audit = api.get("/v1/audit").json()[0]
    assert (audit["action"], audit["actor"], audit["reason"]) == (
        "block_sale.refused",
        tvm.device_id,
        reason,
    )
    assert len(tvm.blocks()[0]["seats"]) == 2  # the seat stays in the block
    assert results(tvm.upload(sale)) == [("refused", reason)]  # a resend: the same answer
    assert len(anomalies(api)) == 1
    assert stored(settings, t.block_sales, ticket_id=sale["ticket_id"])[0].status == "refused"


def test_two_overlapping_sales_to_one_id_number_in_one_upload(api: Api) -> None:
    tvm, block = block_at(api, "BBB")
    first = tvm.sale(block, "CCC")
    second = tvm.sale(block, "DDD", seat=block["seats"][1])
    [issued, refused] = results(tvm.upload(first, second))
    assert issued == ("issued", None) and refused[0] == "refused"


def test_sales_on_a_seat_outside_the_block_or_sold_already_are_refused(api: Api) -> None:
    tvm, block = block_at(api, "BBB", seats=1)
    held = block["seats"][0]
    outside = {"coach": 1, "seat": next(n for n in (1, 2, 3) if n != held["seat"])}
    first = tvm.sale(block, "CCC")
    again = tvm.sale(block, "DDD", id_number="B0000002")
    stray = tvm.sale(block, "DDD", seat=outside, id_number="C0000003")
    answer = results(tvm.upload(first, again, stray))
    assert answer[0] == ("issued", None)
    assert answer[1][0] == "refused" and first["ticket_id"] in str(answer[1][1])
    assert answer[2][0] == "refused" and "not in block" in str(answer[2][1])
    assert len(anomalies(api)) == 2


def test_a_sale_from_another_units_block_or_with_a_foreign_token_is_refused(api: Api) -> None:
    tvm, block = block_at(api, "BBB")
    thief = enrolled_tvm(api, "BBB")
    foreign = thief.sale(block, "CCC")
    [(status, reason)] = results(thief.upload(foreign))
    assert status == "refused" and "no block" in str(reason)
    forged = tvm.sale(block, "CCC", token=foreign["token"])  # signed with the thief's key
    [(status, reason)] = results(tvm.upload(forged))
    assert status == "refused" and "does not verify" in str(reason)
    lying = tvm.sale(block, "CCC")
    lying["seat"] = block["seats"][1]["seat"]  # the token names the first seat
    [(status, reason)] = results(tvm.upload(lying))
    assert status == "refused" and "seat" in str(reason)


def test_a_stop_not_after_the_station_is_refused(api: Api) -> None:
    tvm, block = block_at(api, "CCC")
    sale = {**tvm.sale(block, "DDD"), "to": "BBB"}
    [(status, reason)] = results(tvm.upload(sale))
    assert status == "refused" and "not a stop" in str(reason)


# ----------------------------------------------------------------- after the block went back


def test_after_return_a_still_free_seat_is_sold_and_a_taken_one_refused(api: Api) -> None:
    tvm, block = block_at(api, "BBB", seats=2, run_seats=2)
    returned = api.post(f"{RUN}/blocks/{block['block_id']}/return")
    assert returned.status_code == 200
    assert seats_left(api, "BBB", "DDD") == 2
    window = {
        "train": block["train"],
        "date": block["date"],
        "from": "BBB",
        "to": "DDD",
        "class": "ZE",
        "channel": "internet",
        "passengers": [{"name": "李四", "id_number": "D0000004"}],
    }
    held = api.post("/v1/orders", window).json()
    taken = next(s for s in block["seats"] if s["seat"] == held["tickets"][0]["seat"])
    free = next(s for s in block["seats"] if s != taken)
    late = tvm.sale(block, "CCC", seat=free)
    lost = tvm.sale(block, "CCC", seat=taken, id_number="E0000005")
    answer = results(tvm.upload(late, lost))
    assert answer[0] == ("issued", None)
    assert answer[1][0] == "refused" and "sold since" in str(answer[1][1])
    assert seats_left(api, "CCC", "DDD") == 1  # the late sale's seat: CCC-DDD is free again


def test_a_key_replaced_after_the_sale_still_verifies_it(api: Api) -> None:
    tvm, block = block_at(api, "BBB")
    sale = tvm.sale(block, "CCC")
    assert tvm.register_key(SigningKey.generate(0)).status_code == 200
    assert results(tvm.upload(sale)) == [("issued", None)]
