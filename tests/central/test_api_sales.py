"""The selling API end to end over HTTP, on a real SQLite store."""

from __future__ import annotations

import datetime as dt
from datetime import timedelta
from typing import Any

from conftest import Api, FakeClock, demo_runs, device_token, writer_of
from sqlalchemy import select

from central.store import tables as t
from central.writer.once import forget_old
from protocol.keys import KeyRing
from protocol.messages import OrderView
from protocol.token import decode_token

G = demo_runs()[0]
STOPS = [s["station"] for s in G["stops"]]


def order_body(passengers: int | list[dict[str, str]] = 1, **overrides: Any) -> dict[str, Any]:
    body = {
        "train": G["train"],
        "date": G["date"],
        "from": STOPS[0],
        "to": STOPS[-1],
        "class": "ZE",
        "channel": "tvm",
        "station": STOPS[0],
        "passengers": passengers
        if isinstance(passengers, list)
        else [
            {"name": f"旅客{n}", "id_number": f"11010119900101{n:04d}"} for n in range(passengers)
        ],
    }
    body.update(overrides)
    return body


def seats_left(api: Api, cls: str = "ZE", a: int = 0, b: int = -1) -> int:
    response = api.get(
        "/v1/availability",
        params={"train": G["train"], "date": G["date"], "from": STOPS[a], "to": STOPS[b]},
    )
    assert response.status_code == 200, response.text
    return int(next(c["seats"] for c in response.json()["classes"] if c["class"] == cls))


def test_hold_pay_issue_gives_a_verifiable_token(loaded: Api) -> None:
    before = seats_left(loaded)
    held = loaded.post("/v1/orders", order_body(2))
    assert held.status_code == 201, held.text
    order = held.json()
    assert order["status"] == "held" and len(order["tickets"]) == 2
    assert seats_left(loaded) == before - 2
    paid = loaded.post(
        f"/v1/orders/{order['order_id']}/pay",
        {
            "method": "card",
            "amount_fen": order["total_fen"],
            "reference": "RRN1",
            "acquirer": "ICBC",
            "card_masked": "622848******1234",
        },
    )
    assert paid.status_code == 200, paid.text
    ticket = paid.json()["tickets"][0]
    ring = KeyRing.from_json_dict(loaded.client.get("/v1/keys").json())
    claims = decode_token(ticket["token"], ring)
    assert claims.ticket_id == ticket["ticket_id"]
    assert claims.holder_matches("110101199001010000")


def test_hold_answer_is_the_order_view_the_api_documents(loaded: Api) -> None:
    """The hold's answer is built without the model: it must be byte for byte the model's."""
    other_passenger = [{"name": "旅客九", "id_number": "110101199001019999"}]
    for body in [order_body(3), {**order_body(), "passengers": other_passenger, "class": "ZY"}]:
        held = loaded.post("/v1/orders", body)
        assert held.status_code == 201, held.text
        view = OrderView.model_validate_json(held.content)
        assert held.content == view.model_dump_json(by_alias=True).encode()
        again = loaded.get(f"/v1/orders/{view.order_id}")
        assert again.status_code == 200, again.text
        assert OrderView.model_validate_json(again.content) == view


def test_pay_answer_is_the_order_view_the_api_documents(loaded: Api) -> None:
    """The payment's answer is built without the model too: byte for byte the model's."""
    payments = [
        {"method": "cash", "reference": "R-cash"},
        {
            "method": "card",
            "reference": "R-card",
            "acquirer": "ICBC",
            "card_masked": "622848******1234",
        },
    ]
    for n, payment in enumerate(payments):
        people = [{"name": f"付款{n}{k}", "id_number": f"11010119800101{n}{k:03d}"} for k in (1, 2)]
        held = loaded.post("/v1/orders", order_body(passengers=people)).json()
        paid = loaded.post(
            f"/v1/orders/{held['order_id']}/pay", {**payment, "amount_fen": held["total_fen"]}
        )
        assert paid.status_code == 200, paid.text
        view = OrderView.model_validate_json(paid.content)
        assert paid.content == view.model_dump_json(by_alias=True).encode()
        assert view.status == "issued" and all(t.token for t in view.tickets)
        again = loaded.get(f"/v1/orders/{view.order_id}")
        assert OrderView.model_validate_json(again.content) == view


def test_retry_with_same_key_returns_first_answer(loaded: Api) -> None:
    first = loaded.post("/v1/orders", order_body(), key="k-1")
    again = loaded.post("/v1/orders", order_body(), key="k-1")
    assert again.status_code == 201 and again.json() == first.json()
    other = loaded.post("/v1/orders", order_body(1, to=STOPS[3]), key="k-1")
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "idempotency_key_reused"


def test_missing_key_and_token_are_refused(loaded: Api) -> None:
    no_key = loaded.client.post("/v1/orders", json=order_body(), headers=loaded.auth)
    assert no_key.status_code == 400
    assert no_key.json()["error"]["code"] == "idempotency_key_required"
    no_auth = loaded.client.post("/v1/orders", json=order_body(), headers={"Idempotency-Key": "x"})
    assert no_auth.status_code == 401


def test_overlapping_journey_for_same_id_is_refused(loaded: Api) -> None:
    assert loaded.post("/v1/orders", order_body()).status_code == 201
    again = loaded.post("/v1/orders", order_body(1, **{"from": STOPS[2], "to": STOPS[4]}))
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "journey_overlap"


def test_unknown_train_and_bad_body(loaded: Api) -> None:
    missing = loaded.post("/v1/orders", order_body(train="G9999"))
    assert missing.status_code == 404
    bad = loaded.post("/v1/orders", {"train": "G1"})
    assert bad.status_code == 422
    assert bad.json()["error"]["code"] == "validation_failed"


def test_expired_hold_gives_seats_back(loaded: Api, clock: FakeClock) -> None:
    before = seats_left(loaded)
    order = loaded.post("/v1/orders", order_body()).json()
    clock.advance(minutes=11)
    paid = loaded.post(
        f"/v1/orders/{order['order_id']}/pay",
        {"method": "cash", "amount_fen": order["total_fen"], "reference": "C1"},
    )
    assert paid.status_code == 409 and paid.json()["error"]["code"] == "order_expired"
    assert seats_left(loaded) == before


def issue(api: Api, **overrides: Any) -> dict[str, Any]:
    order = api.post("/v1/orders", order_body(**overrides)).json()
    paid = api.post(
        f"/v1/orders/{order['order_id']}/pay",
        {"method": "cash", "amount_fen": order["total_fen"], "reference": "C1"},
    )
    assert paid.status_code == 200, paid.text
    ticket: dict[str, Any] = paid.json()["tickets"][0]
    return ticket


def test_refund_charges_schedule_fee_and_frees_seat(loaded: Api) -> None:
    before = seats_left(loaded)
    ticket = issue(loaded)
    refund = loaded.post(f"/v1/tickets/{ticket['ticket_id']}/refund")
    assert refund.status_code == 200, refund.text
    body = refund.json()
    # departure 2026-12-01, now 2026-11-25 12:00Z: between 48 h and 8 days -> 5 %
    assert body["fee_fen"] + body["refund_fen"] == ticket["price_fen"]
    assert body["fee_fen"] == max(200, (ticket["price_fen"] * 5 + 2500) // 5000 * 50)
    assert seats_left(loaded) == before
    again = loaded.post(f"/v1/tickets/{ticket['ticket_id']}/refund")
    assert again.json()["error"]["code"] == "ticket_not_issued"


def test_change_swaps_seat_atomically(loaded: Api) -> None:
    ticket = issue(loaded)
    body = {
        "train": G["train"],
        "date": G["date"],
        "from": STOPS[0],
        "to": STOPS[5],
        "class": "ZY",
        "id_number": "110101199001010000",
    }
    changed = loaded.post(f"/v1/tickets/{ticket['ticket_id']}/change", body)
    assert changed.status_code == 200, changed.text
    new = changed.json()["ticket"]
    assert new["class"] == "ZY" and new["to"] == STOPS[5] and new["token"]
    old = loaded.get(f"/v1/tickets/{ticket['ticket_id']}").json()
    assert old["status"] == "changed"
    wrong = loaded.post(f"/v1/tickets/{new['ticket_id']}/change", {**body, "id_number": "X123456"})
    assert wrong.status_code == 403


def test_station_feed_carries_tokens_and_revocations(loaded: Api) -> None:
    ticket = issue(loaded)
    feed = loaded.get(f"/v1/stations/{STOPS[0]}/feed", params={"cursor": 0}).json()
    issued = [t for t in feed["tickets"] if t["ticket_id"] == ticket["ticket_id"]]
    assert issued[0]["token"] == ticket["token"]
    cursor = feed["cursor"]
    loaded.post(f"/v1/tickets/{ticket['ticket_id']}/refund")
    later = loaded.get(f"/v1/stations/{STOPS[-1]}/feed", params={"cursor": cursor}).json()
    assert [(r["ticket_id"], r["reason"]) for r in later["revocations"]] == [
        (ticket["ticket_id"], "refunded")
    ]
    elsewhere = loaded.get(f"/v1/stations/{STOPS[3]}/feed").json()
    assert all(t["ticket_id"] != ticket["ticket_id"] for t in elsewhere["tickets"])


def device_auth(api: Api, device_id: str, kind: str, station: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {device_token(api, device_id, kind, station)}"}


def test_devices_sell_only_as_registered(loaded: Api) -> None:
    tvm = device_auth(loaded, "tvm-1", "tvm", STOPS[1])
    own = order_body(**{"from": STOPS[1], "station": STOPS[1]})
    assert loaded.post("/v1/orders", own, headers=tvm).status_code == 201
    as_internet = order_body(channel="internet", station=None, **{"from": STOPS[1]})
    assert loaded.post("/v1/orders", as_internet, headers=tvm).status_code == 403
    elsewhere = order_body(**{"from": STOPS[2], "station": STOPS[2]})
    assert loaded.post("/v1/orders", elsewhere, headers=tvm).status_code == 403
    gate = device_auth(loaded, "gate-1", "gate", STOPS[1])
    refused = loaded.post("/v1/orders", own, headers=gate)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    assert loaded.client.get(f"/v1/stations/{STOPS[2]}/feed", headers=gate).status_code == 403


def test_oversized_body_is_refused_before_reading(loaded: Api) -> None:
    huge = b'{"train": "' + b"G" * (3 * 1024 * 1024) + b'"}'
    headers = {**loaded.auth, "Idempotency-Key": "big", "Content-Type": "application/json"}
    response = loaded.client.post("/v1/orders", content=huge, headers=headers)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request_too_large"


def test_each_ticket_records_why_its_seat_was_chosen(loaded: Api) -> None:
    order = loaded.post("/v1/orders", order_body()).json()
    svc = loaded.client.app.state.service  # type: ignore[attr-defined]
    with svc.engine.connect() as conn:
        row = conn.execute(
            select(t.tickets.c.quota_id, t.tickets.c.fit).where(
                t.tickets.c.ticket_id == order["tickets"][0]["ticket_id"]
            )
        ).one()
    assert row.quota_id and row.fit == f"{STOPS[0]}-{STOPS[-1]}"


def test_old_idempotency_answers_are_forgotten(loaded: Api, clock: FakeClock) -> None:
    first = loaded.post("/v1/orders", order_body(), key="old-key")
    assert first.status_code == 201
    svc = loaded.client.app.state.service  # type: ignore[attr-defined]
    clock.advance(days=8)
    horizon = svc.now() - timedelta(days=7)
    assert writer_of(loaded).call(lambda conn: forget_old(conn, horizon)) >= 1
    assert writer_of(loaded).call(lambda conn: forget_old(conn, horizon)) == 0


def test_shared_quota_sells_remote_station_tickets_in_its_group(loaded: Api) -> None:
    quota = next(q for q in G["quotas"] if q.get("share", {}).get("mode") == "group")
    board, group = quota["station"], G["groups"][quota["share"]["group"]]
    sharer = next(code for code in group if code != board and code in STOPS)
    outsider = next(code for code in STOPS if code not in group)
    journey = {"train": G["train"], "date": G["date"], "from": board, "to": STOPS[-1]}

    def seats_at(station: str) -> int:
        answer = loaded.get("/v1/availability", params={**journey, "station": station}).json()
        return int(next(c["seats"] for c in answer["classes"] if c["class"] == quota["class"]))

    assert seats_at(sharer) == seats_at(outsider) + quota["seats"]
    tvm = device_auth(loaded, "tvm-sharer", "tvm", sharer)
    body = order_body(**journey, station=sharer, **{"class": quota["class"]})
    held = loaded.post("/v1/orders", body, headers=tvm)
    assert held.status_code == 201, held.text
    assert held.json()["tickets"][0]["remote"] is True


def test_quotes_tell_the_fee_the_refund_and_the_change_then_charge(
    loaded: Api, clock: FakeClock
) -> None:
    ticket = issue(loaded)
    departs = dt.datetime.fromisoformat(G["stops"][0]["depart"])
    clock.now = departs - dt.timedelta(hours=30)  # 24-48 h before: 10 %
    quote = loaded.get(f"/v1/tickets/{ticket['ticket_id']}/refund-quote").json()
    assert quote["fee_fen"] > 0 and quote["fee_fen"] + quote["refund_fen"] == quote["price_fen"]
    shorter = {**order_body(), "to": STOPS[2], "id_number": "110101199001010000"}
    del shorter["passengers"], shorter["channel"], shorter["station"]
    params = {k: shorter[k] for k in ("train", "date", "from", "to", "class")}
    change = loaded.get(f"/v1/tickets/{ticket['ticket_id']}/change-quote", params=params).json()
    assert change["price_difference_fen"] == change["new_price_fen"] - change["old_price_fen"] < 0
    changed = loaded.post(f"/v1/tickets/{ticket['ticket_id']}/change", shorter).json()
    assert (changed["price_difference_fen"], changed["fee_fen"]) == (
        change["price_difference_fen"],
        change["fee_fen"],
    )
    new = changed["ticket"]["ticket_id"]
    quoted = loaded.get(f"/v1/tickets/{new}/refund-quote").json()
    refunded = loaded.post(f"/v1/tickets/{new}/refund").json()
    assert (refunded["fee_fen"], refunded["refund_fen"]) == (
        quoted["fee_fen"],
        quoted["refund_fen"],
    )
    gone = loaded.get(f"/v1/tickets/{new}/refund-quote")
    assert gone.status_code == 409 and gone.json()["error"]["code"] == "ticket_not_issued"
