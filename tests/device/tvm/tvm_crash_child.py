"""A TVM's checkout in a process of its own, buying in a loop until it is killed (the crash test).

``python -m tvm_crash_child STORE CENTRAL TOKEN PTY PRINTER_PORT MODE``: it
opens the real drivers on the simulators the test started (the terminal on
its pty, the printer on its TCP port), first finishes whatever the journal
left open (``recover``), then in mode ``buy`` holds, charges, issues and
prints one-passenger purchases one after another, printing one line per
finished sale; in mode ``recover`` it stops after recovering.
"""

from __future__ import annotations

import asyncio
import io
import json
import sys
import uuid
from pathlib import Path

from tvm_rig import fresh_id_number, one_passenger

from device.clock import utc_now
from device.events import EventLog
from device.store_thread import StoreThread
from device.tvm.central import TvmLink
from device.tvm.checkout import Checkout, PrintFacts, PurchaseFailed
from drivers.pos.config import BankTerminalConfig, open_bank_terminal
from drivers.printer.config import TicketPrinterConfig
from drivers.printer.printer import open_ticket_printer
from drivers.printer.ticket import StationName
from offline_store.connection import StoreSettings


async def main(store_path: Path, central: str, token: str, pty: str, port: int, mode: str) -> None:
    store = StoreThread(store_path, StoreSettings(), "crash-child")
    terminal = open_bank_terminal(
        BankTerminalConfig.model_validate(
            {
                "backend": "concert",
                "url": pty,
                "currency": 156,
                "acquirer": "SIM-BANK",
                "answer_timeout_s": 2.0,
                "status_timeout_s": 2.0,
            }
        )
    )
    network = {"host": "127.0.0.1", "port": port}
    printer = await open_ticket_printer(
        TicketPrinterConfig.model_validate({"backend": "network", "network": network})
    )
    link = TvmLink(central, token, 5.0)
    events = EventLog(utc_now, io.BytesIO())
    checkout = Checkout(store, link, terminal, printer, events, utc_now, "SIM-BANK")
    print("recovered", len(await checkout.recover()), flush=True)
    if mode == "buy":
        await buy_forever(checkout, store_path.parent / "train.json")


async def buy_forever(checkout: Checkout, run_file: Path) -> None:
    run = json.loads(run_file.read_text())
    facts = PrintFacts(
        StationName("甲站", "Jiazhan"), StationName("丙站", "Bingzhan"), utc_now(), []
    )
    for n in range(10_000):
        sale_id = str(uuid.uuid4())
        order = one_passenger(run, fresh_id_number())
        try:
            await checkout.hold(sale_id, order, facts, 0)
            await checkout.charge(sale_id)
            await checkout.issue(sale_id)
            await checkout.print_tickets(sale_id)
        except PurchaseFailed as exc:
            print("failed", sale_id, exc.state, flush=True)
            continue
        except Exception as exc:  # e.g. a real-name clash on a reused ID: the next one
            print("refused", sale_id, type(exc).__name__, flush=True)
            continue
        print("done", n, sale_id, flush=True)


if __name__ == "__main__":
    store, central, token, pty, port, mode = sys.argv[1:7]
    asyncio.run(main(Path(store), central, token, pty, int(port), mode))
