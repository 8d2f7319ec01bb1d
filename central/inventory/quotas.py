"""Quotas (票额): who may sell a group of seats, for which journeys.

A quota is reserved for the origin, pre-allocated to one station, or common
(通售). A reserved quota may be shared with other selling stations (whole
route, a station group such as a railway bureau, or listed stations); a sale
at a station other than the boarding one is a remote-station ticket (异地票).
National channels (internet, phone, SMS) sell without a station and may sell
any quota for its own boarding station. A restricted-sale segment (限售区段)
sets the nearest stop a passenger may travel to.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Purpose(StrEnum):
    """What a quota is kept for."""

    ORIGIN = "origin"
    STATION = "station"
    COMMON = "common"


class ShareMode(StrEnum):
    """Which other stations may sell a reserved quota."""

    NONE = "none"
    ROUTE = "route"
    GROUP = "group"
    STATIONS = "stations"


@dataclass
class Quota:
    """One quota of one seat class on one train run.

    ``board`` is the stop index the quota is reserved for (0 for origin, None
    for common); ``min_dest`` the first stop a journey may end at (0 = none);
    ``sharers`` the selling stations admitted besides the boarding one (for
    mode ROUTE, every station on the route).
    """

    quota_id: str
    seat_class: str
    purpose: Purpose
    board: int | None = None
    min_dest: int = 0
    share: ShareMode = ShareMode.NONE
    sharers: frozenset[str] = field(default_factory=frozenset)
    share_group: str | None = None

    def __post_init__(self) -> None:
        if self.purpose is Purpose.COMMON and self.board is not None:
            raise ValueError(f"common quota {self.quota_id} cannot be reserved for a stop")
        if self.purpose is Purpose.ORIGIN and self.board != 0:
            raise ValueError(f"origin quota {self.quota_id} must board at stop 0")
        if self.purpose is Purpose.STATION and self.board is None:
            raise ValueError(f"station quota {self.quota_id} needs a boarding stop")

    def admits(self, board: int, seller: str | None, owner: str) -> bool:
        """May ``seller`` sell a journey boarding at stop ``board`` (code ``owner``)?

        ``owner`` is the code of the station the seats belong to for this
        journey: the boarding station. Through-sale before a reserved stop and
        common quotas admit every seller.
        """
        if self.board is None or board < self.board:
            return True
        return seller is None or seller == owner or seller in self.sharers

    def reaches(self, board: int, dest: int) -> bool:
        """Does a journey (board, dest) respect the restricted-sale segment?"""
        if self.board is not None and board < self.board:
            return True  # through-sale ends by the reserved stop by construction
        return dest >= self.min_dest

    def is_remote_sale(self, board_code: str, seller: str | None) -> bool:
        """A sale at a station other than the boarding one (异地票)."""
        return seller is not None and seller != board_code
