"""What a gate tells the passenger, in Chinese and English, for every outcome.

The reason codes are ``protocol.units.GateReason`` (stable; central records
them); the words are here, one place, and each says what to do next.
"""

from __future__ import annotations

from dataclasses import dataclass

from protocol.units import GateReason


@dataclass(frozen=True)
class Words:
    """One message in both languages."""

    zh: str
    en: str


REFUSALS: dict[GateReason, Words] = {
    GateReason.MALFORMED: Words(
        "无法识别的二维码，请出示车票二维码", "Not a ticket code. Please show your ticket's QR code"
    ),
    GateReason.BAD_SIGNATURE: Words(
        "车票无效，请到人工通道", "Invalid ticket. Please go to the staffed gate"
    ),
    GateReason.UNKNOWN_KEY: Words(
        "车票暂无法验证，请到人工通道",
        "Ticket cannot be checked here. Please go to the staffed gate",
    ),
    GateReason.UNSUPPORTED_VERSION: Words(
        "车票暂无法验证，请到人工通道",
        "Ticket cannot be checked here. Please go to the staffed gate",
    ),
    GateReason.WRONG_DATE: Words(
        "非当日车票，请核对乘车日期", "Not today's ticket. Please check the travel date"
    ),
    GateReason.WRONG_STATION: Words(
        "非本站车票，请核对车站", "This ticket is not for this station"
    ),
    GateReason.TOO_EARLY: Words("尚未开始检票，请稍候", "Check-in has not opened yet. Please wait"),
    GateReason.TOO_LATE: Words(
        "已停止检票，请到人工通道", "Check-in has closed. Please go to the staffed gate"
    ),
    GateReason.REVOKED: Words("车票已退票或改签", "This ticket was refunded or changed"),
    GateReason.ALREADY_USED: Words(
        "车票已检票，请勿重复刷票", "This ticket has already been used here"
    ),
    GateReason.WRONG_GROUP: Words(
        "请到本车次检票口检票", "Please use the check-in gate of your train"
    ),
    GateReason.HOLDER_MISMATCH: Words("证件与车票不符", "ID card does not match the ticket"),
    GateReason.NO_TICKET: Words(
        "未查到本人当前车票，请出示车票二维码",
        "No ticket found for this ID now. Please show your QR code",
    ),
    GateReason.CARD_UNREADABLE: Words(
        "证件无法读取，请重新放置", "Card could not be read. Please tap again"
    ),
    GateReason.OUT_OF_SERVICE: Words(
        "暂停服务，请使用其他通道", "Out of service. Please use another gate"
    ),
}
ADMITTED = Words("请通过", "Please pass")
EMERGENCY = Words("紧急放行，请迅速通过", "Emergency: gates open, please pass")
READY = Words("请刷车票二维码或身份证", "Scan your ticket QR code or tap your ID card")
FLOW_CONTROL = Words("客流控制，请依次通过", "Busy: please pass one at a time")


def refusal(reason: GateReason) -> Words:
    """The passenger message for a refusal."""
    return REFUSALS[reason]
