"""Everything the TVM tells a passenger, in Chinese and English, in one place.

Each message says what happened and what to do next. Seat classes are named
as China Railway names them.
"""

from __future__ import annotations

import datetime as dt

from device.gate.messages import Words
from device.tvm.view import Screen

CLASS_NAMES: dict[str, Words] = {
    "SW": Words("商务座", "Business class"),
    "ZY": Words("一等座", "First class"),
    "ZE": Words("二等座", "Second class"),
    "RW": Words("软卧", "Soft sleeper"),
    "YW": Words("硬卧", "Hard sleeper"),
    "RZ": Words("软座", "Soft seat"),
    "YZ": Words("硬座", "Hard seat"),
}
STANDING = Words("无座", "Standing")

TITLES: dict[Screen, Words] = {
    Screen.HOME: Words("自助售票", "Self-service tickets"),
    Screen.DESTINATION: Words("选择到站", "Where to?"),
    Screen.TRAINS: Words("选择车次", "Choose a train"),
    Screen.CLASS: Words("选择席别", "Choose a class"),
    Screen.PASSENGERS: Words("乘车人", "Passengers"),
    Screen.CONFIRM: Words("确认订单", "Confirm your order"),
    Screen.PAY: Words("银行卡支付", "Pay by bank card"),
    Screen.PRINT: Words("正在出票", "Printing your tickets"),
    Screen.DONE: Words("请取票", "Please take your tickets"),
    Screen.SCAN: Words("扫描车票", "Scan your ticket"),
    Screen.REFUND: Words("退票", "Refund"),
    Screen.CHANGE: Words("改签", "Change"),
    Screen.MESSAGE: Words("提示", "Notice"),
    Screen.CLOSED: Words("暂停售票", "Not selling"),
}

CHOOSE_DESTINATION = Words(
    "输入到站拼音首字母、站名或电报码", "Type the initials, name or code of your station"
)
NO_TRAINS = Words(
    "今日无可售车次，请选择其他到站", "No train with tickets today: choose another station"
)
NO_SEATS = Words("该席别已售完，请选择其他席别或车次", "Sold out: choose another class or train")
ADD_PASSENGERS = Words("请添加乘车人（实名制）", "Add each passenger (real name)")
BAD_ID = Words(
    "证件号码有误，请核对后重新输入", "The ID number is not valid: check it and type it again"
)
SAME_ID = Words("该乘车人已添加", "This passenger is on the order already")
TOO_MANY = Words("每单最多5名乘车人", "At most 5 passengers per order")
CARD_STATION = Words(
    "该车票需在始发站办理退改，确认用银行卡购买吗？",
    "Refunds of this ticket go through its boarding station: buy it by card all the same?",
)
FOLLOW_TERMINAL = Words(
    "请在银行卡终端插卡或挥卡，并按提示输入密码",
    "Insert or tap your card on the terminal and follow it",
)
DECLINED = Words(
    "银行卡支付未成功，未扣款，请换卡或选择其他方式",
    "Payment declined: nothing was charged. Try another card",
)
UNRESOLVED = Words(
    "正在确认支付结果，请稍候；如已扣款将为您出票或退回",
    "Checking the payment: if it was taken you get your tickets or the money back",
)
REVERSED = Words(
    "出票未成功，款项已退回原卡",
    "Tickets could not be issued: the payment was given back to your card",
)
NEEDS_STAFF = Words(
    "出票未成功，请联系工作人员办理退款",
    "Tickets could not be issued: staff will refund you, please ask",
)
TAKE_TICKETS = Words(
    "请取走车票和银行卡，祝您旅途愉快", "Take your tickets and card. Have a good journey"
)
SCAN_TICKET = Words("请将车票二维码对准扫描窗口", "Hold your ticket's QR code to the scanner")
NOT_A_TICKET = Words(
    "无法识别该车票，请到人工窗口办理",
    "This ticket cannot be read here: please go to a ticket window",
)
NOT_REFUNDABLE = Words(
    "该车票不能退票，请到人工窗口咨询",
    "This ticket cannot be refunded here: please ask at a window",
)
REFUND_TO_CARD = Words("退款将退回原银行卡", "The refund goes back to the card it was paid with")
REFUND_CASH_WINDOW = Words(
    "现金购票请到人工窗口办理退款", "Tickets paid in cash are refunded at a ticket window"
)
REFUNDED = Words("退票成功，请保留凭条", "Refunded: keep the receipt")
CENTRAL_DOWN = Words(
    "系统暂时无法连接，暂停售票，请到人工窗口购票",
    "The ticket system is out of reach: please buy at a ticket window",
)
SELLING_FROM_BLOCK = Words(
    "网络中断，仅可购买部分车次", "Network down: only some trains can be sold"
)
PRINTER_DOWN = Words(
    "打印机故障，暂停售票，请使用其他售票机",
    "The printer is out of order: please use another machine",
)
PAPER_LOW = Words(
    "车票纸将用完，暂停售票，请使用其他售票机",
    "Ticket paper is running out: please use another machine",
)
PAPER_OUT = Words(
    "车票纸用完，暂停售票，请使用其他售票机", "Out of ticket paper: please use another machine"
)
TERMINAL_DOWN = Words(
    "银行卡终端暂不可用，请使用其他售票机",
    "The card terminal is not available: please use another machine",
)
NO_TICKETS_LEFT = Words(
    "余票不足，请选择其他车次或席别", "Not enough seats left: choose another train or class"
)
SEATS_TAKEN = Words(
    "车票已被他人购买，请重新选择", "Those seats went meanwhile: please choose again"
)
IDLE_HOME = Words("长时间未操作，已返回首页", "No activity: back to the start")
PRINT_LATER = Words(
    "出票中断，车票已出售，请联系工作人员取票",
    "Printing stopped: your tickets are sold; staff will hand them to you",
)

ENTER_HOLDER = Words(
    "请输入该车票乘车人的姓名和证件号码", "Type the name and ID number of the ticket's passenger"
)
HOLDER_MISMATCH = Words(
    "姓名或证件号码与车票不符，请核对", "The name or ID number is not the ticket's: check them"
)
PAY_DIFFERENCE = Words(
    "新车票较贵，请用银行卡支付差额", "The new ticket costs more: pay the difference by card"
)
NOT_CHANGED = Words(
    "改签未成功，未扣款，原车票仍然有效",
    "The ticket was not changed: nothing was charged and your ticket still holds",
)
CHANGED = Words(
    "改签成功，请取走新车票，原车票已作废",
    "Changed: take your new ticket; the old one no longer admits",
)
SEAT_ON_ISSUE = Words("出票时分配", "Given on issue")
TRY_AGAIN = Words(
    "操作未成功，请重试或到人工窗口办理", "That did not work: try again or go to a ticket window"
)


def class_name(code: str) -> Words:
    """A seat class's name, or its code when unknown."""
    return CLASS_NAMES.get(code, Words(code, code))


def change_day(day: dt.date) -> Words:
    """The change screen's prompt, with the day whose trains it lists."""
    return Words(
        f"请选择改签后的车次（{day.month}月{day.day}日）",
        f"Choose the train to change to ({day:%a %d %b})",
    )


def no_trains_on(day: dt.date) -> Words:
    """No train to change to on ``day``."""
    return Words(
        f"{day.month}月{day.day}日无可改签的车次，请选择其他日期",
        f"No train with places on {day:%a %d %b}: try another day",
    )
