"""The TVM's sales journal, blocks, offline block sales and signing key in the unit store."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from offline_store import UnitStore
from offline_store.blocks import BlockSeatTaken

T0 = dt.datetime(2026, 12, 3, 8, 0, tzinfo=dt.UTC)


def test_a_sale_moves_step_by_step_and_closes(tmp_path: Path) -> None:
    with UnitStore.open(tmp_path / "tvm.db") as store:
        store.sales.begin("s1", "purchase", "holding", {"journey": "AAA-CCC"}, T0)
        store.sales.step("s1", "held", T0, order_id="o1", amount_fen=4600)
        store.sales.step("s1", "charging", T0, transaction_id="0000000001")
        tickets = [{"ticket_id": "t1", "token": "X"}]
        store.sales.step("s1", "issued", T0, tickets=tickets, payment={"method": "card"})
        store.sales.step("s1", "done", T0, is_open=False, printed=1, note={"printer": "ok"})
        sale = store.sales.get("s1")
        assert sale is not None and not sale.is_open and sale.printed == 1
        assert (sale.order_id, sale.amount_fen, sale.transaction_id) == ("o1", 4600, "0000000001")
        assert sale.tickets == tickets and sale.payment == {"method": "card"}
        assert [state for _, state, _ in store.sales.steps("s1")] == [
            "holding",
            "held",
            "charging",
            "issued",
            "done",
        ]
        assert store.sales.open_sales() == []


def test_open_sales_are_what_a_restart_resumes(tmp_path: Path) -> None:
    path = tmp_path / "tvm.db"
    with UnitStore.open(path) as store:
        store.sales.begin("a", "purchase", "holding", {}, T0)
        store.sales.begin("b", "purchase", "holding", {}, T0 + dt.timedelta(seconds=1))
        store.sales.step("a", "cancelled", T0, is_open=False)
    with UnitStore.open(path) as store:  # another process, later
        assert [s.sale_id for s in store.sales.open_sales()] == ["b"]


def test_bad_steps_are_refused(tmp_path: Path) -> None:
    with UnitStore.open(tmp_path / "tvm.db") as store:
        with pytest.raises(ValueError, match="no sale"):
            store.sales.step("missing", "held", T0)
        store.sales.begin("s", "purchase", "holding", {}, T0)
        with pytest.raises(ValueError, match="not a sale column"):
            store.sales.step("s", "held", T0, kind="refund")


def test_a_block_seat_sells_once_and_its_id_number_is_masked_once_uploaded(tmp_path: Path) -> None:
    with UnitStore.open(tmp_path / "tvm.db") as store:
        sale = {"ticket_id": "t1", "id_number": "110101199001011234", "block_id": "b1"}
        store.block_sales.record("t1", "b1", 1, 5, sale)
        with pytest.raises(BlockSeatTaken):
            store.block_sales.record("t2", "b1", 1, 5, {**sale, "ticket_id": "t2"})
        assert store.block_sales.sold_seats("b1") == {(1, 5)}
        assert [s["ticket_id"] for s in store.block_sales.pending(10)] == ["t1"]
        store.block_sales.mark_uploaded("t1", {"status": "issued"}, T0)
        assert store.block_sales.pending(10) == []
        raw = store.connection.execute("SELECT sale FROM block_sales").fetchone()[0]
        assert "110101199001011234" not in raw


def test_blocks_are_replaced_as_a_set_and_expire(tmp_path: Path) -> None:
    with UnitStore.open(tmp_path / "tvm.db") as store:
        later = (T0 + dt.timedelta(hours=1)).isoformat()
        store.blocks.replace_active([{"block_id": "b1", "return_at": later}])
        assert [b["block_id"] for b in store.blocks.active(T0)] == ["b1"]
        assert store.blocks.active(T0 + dt.timedelta(hours=2)) == []
        store.blocks.replace_active([])
        assert store.blocks.active(T0) == []


def test_the_unit_key_is_kept_and_registered(tmp_path: Path) -> None:
    with UnitStore.open(tmp_path / "tvm.db") as store:
        assert store.unit_key.get() is None
        seed = os.urandom(32)
        store.unit_key.create(seed)
        assert store.unit_key.get() == (seed, None)
        store.unit_key.set_key_id(130)
        assert store.unit_key.get() == (seed, 130)
        with pytest.raises(ValueError, match="32 bytes"):
            store.unit_key.create(b"short")
