"""A TVM's parts for tests: its store, central link, checkout and the simulated devices.

``machine`` enrols a TVM at AAA with central (as a unit does: one-time code,
its own token), opens the real bank terminal and printer drivers on their
simulators, and gives the test the checkout and ways to steer and read the
simulators.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import zxingcpp
from central_rig import OPERATOR_TOKEN, Central
from PIL import Image

from device.clock import utc_now
from device.events import EventLog
from device.store_thread import StoreThread
from device.tvm.central import TvmLink
from device.tvm.checkout import Checkout, PrintFacts
from device.tvm.id_numbers import check_character
from drivers.pos.config import BankTerminalConfig, open_bank_terminal
from drivers.pos.simulator.steering import TerminalScript
from drivers.printer.config import TicketPrinterConfig
from drivers.printer.printer import open_ticket_printer
from drivers.printer.ticket import StationName
from drivers.sim.control import SimulatorClient
from offline_store.connection import StoreSettings
from offline_store.sales import Sale
from offline_store.store import UnitStore
from offline_store.unit_state import DeviceIdentity
from protocol.ids import StationCode
from protocol.messages import OrderRequest, PassengerSpec

QR_ONLY = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)  # a text line may read as 1D

ID_NUMBERS = ("110101199001011237", "110101199202021234", "11010119930303123X")


@dataclass
class Machine:
    """The TVM's checkout and its simulated devices."""

    checkout: Checkout
    store: StoreThread
    terminal: TerminalScript
    printer_control: Path
    printer_output: Path

    def facts(self, run: dict[str, Any]) -> PrintFacts:
        departs = dt.datetime.fromisoformat(run["stops"][0]["depart"])
        return PrintFacts(
            StationName("甲站", "Jiazhan"), StationName("丙站", "Bingzhan"), departs, []
        )

    async def sale(self, sale_id: str) -> Sale:
        found = await self.store.run(lambda s: s.sales.get(sale_id))
        assert found is not None
        return found

    def printer_state(self, command: str, **fields: Any) -> None:
        with SimulatorClient(self.printer_control) as printer:
            printer.send(command, **fields)
            printer.send("status")
            printer.expect("status")

    def printed_tokens(self, count: int) -> list[str]:
        """The QR codes of the tickets the printer simulator rendered, decoded."""
        tokens = []
        for png in sorted(self.printer_output.rglob("*.png")):
            found = zxingcpp.read_barcodes(
                Image.open(io.BytesIO(png.read_bytes())), formats=QR_ONLY
            )
            tokens += [code.text for code in found]
        assert len(tokens) == count, f"{len(tokens)} tickets printed, {count} expected"
        return sorted(tokens)


def passengers_order(run: dict[str, Any], count: int, first: int = 0) -> OrderRequest:
    return OrderRequest(
        train=run["train"],
        date=dt.date.fromisoformat(run["date"]),
        from_station="AAA",
        to_station="CCC",
        seat_class="ZE",
        passengers=[
            PassengerSpec(name=f"乘客{n}", id_number=ID_NUMBERS[n])
            for n in range(first, first + count)
        ],
        channel="tvm",
        station="AAA",
    )


def one_passenger(run: dict[str, Any], id_number: str) -> OrderRequest:
    """A one-passenger AAA->CCC order on ``run``."""
    order = passengers_order(run, 1)
    passenger = PassengerSpec(name="乘客", id_number=id_number)
    return order.model_copy(update={"passengers": [passenger]})


def fresh_id_number() -> str:
    """A well-formed resident ID number nobody else in the test is likely to have."""
    born = dt.date(1950, 1, 1) + dt.timedelta(days=secrets.randbelow(20_000))
    body = f"110101{born:%Y%m%d}{secrets.randbelow(1000):03d}"
    return body + check_character(body)


def enrol(central: Central, device_id: str) -> str:
    body = {"device_id": device_id, "kind": "tvm", "station": "AAA"}
    code = central.post("/v1/devices", body)["enrolment_code"]
    token = secrets.token_urlsafe(32)
    credential = {
        "enrolment_code": code,
        "credential_hash": hashlib.sha256(token.encode()).hexdigest(),
    }
    answer = httpx.post(f"{central.url}/v1/enrolments", json=credential, timeout=10)
    assert answer.status_code == 200, answer.text
    return token


@contextlib.asynccontextmanager
async def machine(central: Central, folder: Path) -> AsyncIterator[Machine]:
    """A TVM at AAA with its simulated terminal and printer, closed afterwards."""
    token = enrol(central, f"tvm-{secrets.token_hex(3)}")
    store = StoreThread(folder / "tvm.db", StoreSettings(), "tvm-test")
    identity = DeviceIdentity("tvm", "tvm", StationCode("AAA"), central.url, token, utc_now())
    store.run_now(lambda s: s.enrolment.replace(identity))
    pos_socket, printer_socket, output = (
        folder / "pos.sock",
        folder / "printer.sock",
        folder / "printed",
    )
    terminal = open_bank_terminal(
        BankTerminalConfig(
            backend="sim",
            currency=156,
            acquirer="SIM-BANK",
            control_socket=str(pos_socket),
            answer_timeout_s=3.0,
        )
    )
    printer = await open_ticket_printer(
        TicketPrinterConfig.model_validate(
            {
                "backend": "sim",
                "sim": {"output_dir": str(output), "control_socket": str(printer_socket)},
            }
        )
    )
    link = TvmLink(central.url, token, 5.0)
    checkout = Checkout(
        store, link, terminal, printer, EventLog(utc_now, io.BytesIO()), utc_now, "SIM-BANK"
    )
    client = SimulatorClient(pos_socket)
    try:
        yield Machine(checkout, store, TerminalScript(client), printer_socket, output)
    finally:
        client.close()
        for close in (link.close, printer.close, terminal.close):
            with contextlib.suppress(Exception):
                await close()
        store.close()


__all__ = ["OPERATOR_TOKEN", "Machine", "UnitStore", "enrol", "machine", "passengers_order"]
