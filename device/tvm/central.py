"""The TVM's calls to central: selling (hold, pay, cancel, refund, change) and what it shows.

Every mutation carries an Idempotency-Key made from the sale's id and the
step (``<sale>:hold``, ``<sale>:pay`` ...), so a retry after a lost answer,
even after a restart, gets the first answer and changes nothing twice.
"""

from __future__ import annotations

import datetime as dt

from device.central_link import CentralLink
from protocol.messages import (
    ChangeQuote,
    ChangeRequest,
    ChangeResponse,
    KeysResponse,
    OrderRequest,
    OrderView,
    PaymentRequest,
    RefundQuote,
    RefundResponse,
    TicketView,
)
from protocol.tvm import (
    BlockSalesAnswer,
    BlockSalesUpload,
    BlocksResponse,
    DestinationsResponse,
    JourneysResponse,
    SigningKeyRequest,
    SigningKeyView,
)


class TvmLink(CentralLink):
    """A TVM's calls to central (answers only: the round-trip times are the sync's business)."""

    async def destinations(self, station: str, day: dt.date) -> DestinationsResponse:
        """Stations reachable from ``station`` on ``day``."""
        path = f"/v1/stations/{station}/destinations"
        answer, _ = await self.call("GET", path, DestinationsResponse, params={"date": str(day)})
        return answer

    async def journeys(self, origin: str, dest: str, day: dt.date) -> JourneysResponse:
        """Trains from ``origin`` to ``dest`` on ``day`` with what is left, sold here."""
        params = {"from": origin, "to": dest, "date": str(day), "station": origin}
        answer, _ = await self.call("GET", "/v1/journeys", JourneysResponse, params=params)
        return answer

    async def hold(self, order: OrderRequest, key: str) -> OrderView:
        """Hold seats for an order."""
        body = order.model_dump(mode="json", by_alias=True, exclude_none=True)
        answer, _ = await self.call("POST", "/v1/orders", OrderView, key=key, json=body)
        return answer

    async def pay(self, order_id: str, payment: PaymentRequest, key: str) -> OrderView:
        """Pay a held order and have its tickets issued."""
        body = payment.model_dump(mode="json", exclude_none=True)
        path = f"/v1/orders/{order_id}/pay"
        answer, _ = await self.call("POST", path, OrderView, key=key, json=body)
        return answer

    async def cancel(self, order_id: str, key: str) -> OrderView:
        """Let a held order's seats go."""
        path = f"/v1/orders/{order_id}/cancel"
        answer, _ = await self.call("POST", path, OrderView, key=key)
        return answer

    async def order(self, order_id: str) -> OrderView:
        """An order as central has it."""
        answer, _ = await self.call("GET", f"/v1/orders/{order_id}", OrderView)
        return answer

    async def ticket(self, ticket_id: str) -> TicketView:
        """A ticket and its status."""
        answer, _ = await self.call("GET", f"/v1/tickets/{ticket_id}", TicketView)
        return answer

    async def refund_quote(self, ticket_id: str) -> RefundQuote:
        """What a refund would keep and pay back now."""
        path = f"/v1/tickets/{ticket_id}/refund-quote"
        answer, _ = await self.call("GET", path, RefundQuote)
        return answer

    async def refund(self, ticket_id: str, key: str) -> RefundResponse:
        """Refund an issued ticket."""
        path = f"/v1/tickets/{ticket_id}/refund"
        answer, _ = await self.call("POST", path, RefundResponse, key=key)
        return answer

    async def change_quote(self, ticket_id: str, journey: dict[str, str]) -> ChangeQuote:
        """What a change to ``journey`` (train, date, from, to, class) would cost now."""
        path = f"/v1/tickets/{ticket_id}/change-quote"
        answer, _ = await self.call("GET", path, ChangeQuote, params=journey)
        return answer

    async def change(self, ticket_id: str, change: ChangeRequest, key: str) -> ChangeResponse:
        """Swap a ticket for another journey."""
        body = change.model_dump(mode="json", by_alias=True)
        path = f"/v1/tickets/{ticket_id}/change"
        answer, _ = await self.call("POST", path, ChangeResponse, key=key, json=body)
        return answer

    async def keys(self) -> dict[str, object]:
        """Every key that signs tickets, as ``GET /v1/keys`` gives them."""
        answer, _ = await self.call("GET", "/v1/keys", KeysResponse)
        return answer.model_dump(mode="json")

    async def register_signing_key(self, public_hex: str) -> SigningKeyView:
        """Register the key this TVM signs emergency-block tickets with."""
        body = SigningKeyRequest(public_key=public_hex).model_dump()
        path = "/v1/units/me/signing-key"
        answer, _ = await self.call(
            "POST", path, SigningKeyView, key=f"key:{public_hex}", json=body
        )
        return answer

    async def blocks(self) -> BlocksResponse:
        """This TVM's active emergency seat blocks."""
        answer, _ = await self.call("GET", "/v1/units/me/blocks", BlocksResponse)
        return answer

    async def upload_block_sales(self, upload: BlockSalesUpload) -> BlockSalesAnswer:
        """Tickets sold offline from blocks (central dedups by ticket id)."""
        body = upload.model_dump(mode="json", by_alias=True)
        path = "/v1/units/me/block-sales"
        answer, _ = await self.call("POST", path, BlockSalesAnswer, json=body)
        return answer
