"""The kiosk's own words in Chinese and English, and how it writes money, times and seats.

What to do now, and what went wrong, comes from the runtime in the view's
``message``; these are the kiosk's fixed captions (buttons, headings, hints
beside a field) and the forms of numbers. Money is integer fen shown as yuan
(``¥443.5``: no float ever touches it); times are the station's local time
as the view gives them. No station names, prices or seat counts here.
"""

from __future__ import annotations

import datetime as dt

from device.gate.messages import Words
from device.tvm.view import Banner, ClassChoice, Screen

BUTTONS: dict[str, Words] = {
    "start:purchase": Words("购票", "Buy tickets"),
    "start:refund": Words("退票", "Refund a ticket"),
    "start:change": Words("改签", "Change a ticket"),
    "passenger:add": Words("添加乘客", "Add passenger"),
    "confirm": Words("确认", "Confirm"),
    "confirm:card_station": Words("我已知晓，继续", "I understand, go on"),
    "pay:card": Words("银行卡支付", "Pay by bank card"),
    "day:earlier": Words("前一天", "Day before"),
    "day:later": Words("后一天", "Day after"),
    "done": Words("完成", "Done"),
    "back": Words("返回", "Back"),
    "cancel": Words("取消", "Cancel"),
    "key:back": Words("删除", "Del"),  # a key is narrow: a longer word would break
    "key:clear": Words("清空", "Clear"),
    "key:space": Words("空格", "Space"),
    "page:prev": Words("上一页", "Previous"),
    "page:next": Words("下一页", "Next page"),
}
# the same target says more on some screens
SCREEN_BUTTONS: dict[tuple[Screen, str], Words] = {
    (Screen.PASSENGERS, "confirm"): Words("下一步", "Next"),
    (Screen.CONFIRM, "confirm"): Words("确认订单", "Confirm order"),
    (Screen.REFUND, "confirm"): Words("确认退票", "Confirm refund"),
    (Screen.DONE, "done"): Words("我已取票", "I have my tickets"),
    (Screen.MESSAGE, "done"): Words("好的", "OK"),
}
LANGUAGE_BUTTON = Words("English", "中文")  # each language offers the other, in its own words
BANNERS: dict[Banner, Words] = {
    Banner.OFFLINE_BLOCK: Words(
        "网络中断：本机正在使用应急席位售票", "Network down: selling from the emergency seat block"
    ),
    Banner.OFFLINE: Words(
        "网络中断：本机暂停售票，退票改签请到人工窗口",
        "Network down: no sales here. Please use a staffed ticket window",
    ),
    Banner.PAPER_LOW: Words(
        "票纸将尽，已通知工作人员", "Ticket paper is low: staff have been told"
    ),
}
SEARCH_HINT = Words(
    "用下方键盘输入车站名的拼音首字母或电报码",
    "Type the station's pinyin initials or its code on the keys below",
)
NO_MATCHES = Words("没有找到车站，请检查输入的字母", "No station found: check the letters")
NAME_LABEL = Words("姓名", "Name")
ID_LABEL = Words("身份证号", "ID number")
PASSENGERS_HEADING = Words("已添加乘客 {n}/{max}", "Passengers {n}/{max}")
NO_PASSENGERS = Words("请输入乘客姓名和身份证号", "Enter the passenger's name and ID number")
TOTAL = Words("合计", "Total")
FEE = Words("退票费", "Fee")
REFUND = Words("退款", "Refund")
CARD_STATION_HEADING = Words("请注意", "Please note")
CARD_STATION_TEXT = Words(
    "到站不受理银行卡退票改签：退票改签需回到本站或受理银行卡的车站办理。",
    "Your destination cannot refund to a bank card: refunds and changes"
    " must be made here or at a station that takes bank cards.",
)
PAY_HINT = Words(
    "请在银行卡终端上插卡或挥卡，并按终端提示操作",
    "Insert or tap your card on the card terminal and follow its instructions",
)
PRINT_HINT = Words("正在出票，请稍候", "Printing your tickets, please wait")
DONE_HINT = Words("请从出票口取走车票", "Please take your tickets from the slot below")
SCAN_HINT = Words(
    "请将车票上的二维码对准下方扫描口", "Hold your ticket's QR code under the scanner below"
)
CLOSED_HINT = Words("本机暂停服务", "This machine is out of service")
BUSY = Words("请稍候", "Please wait")
IDLE = Words("{n} 秒后返回首页，触摸屏幕继续", "Back to start in {n} s: touch the screen to stay")
STARTING = Words("正在启动", "Starting")
FAILSAFE = Words("暂停服务，请联系工作人员", "Out of service: please ask a member of staff")
SOLD_OUT = Words("无票", "Sold out")
SEATS_LEFT = Words("余{n}", "{n} left")
STANDING_LEFT = Words("无座 余{n}", "Standing {n} left")
FROM_BLOCK = Words("应急", "Emergency")
NO_TRAINS = Words("今日已无可售车次", "No more trains with tickets today")
DEPARTS = Words("开", "dep")
ARRIVES = Words("到", "arr")
HINTS = (
    SEARCH_HINT,
    NO_MATCHES,
    NAME_LABEL,
    ID_LABEL,
    PASSENGERS_HEADING,
    NO_PASSENGERS,
    TOTAL,
    FEE,
    REFUND,
    CARD_STATION_HEADING,
    CARD_STATION_TEXT,
    PAY_HINT,
    PRINT_HINT,
    DONE_HINT,
    SCAN_HINT,
    CLOSED_HINT,
    BUSY,
    IDLE,
    STARTING,
    FAILSAFE,
    SOLD_OUT,
    SEATS_LEFT,
    STANDING_LEFT,
    FROM_BLOCK,
    NO_TRAINS,
    DEPARTS,
    ARRIVES,
)


def say(words: Words, language: str, **values: object) -> str:
    """``words`` in ``language`` ("zh" or anything else: English), ``{n}`` filled in."""
    text = words.zh if language == "zh" else words.en
    return text.format(**values) if values else text


def yuan(fen: int) -> str:
    """``44350`` -> ``¥443.5``: whole fen, no float, no trailing zeros."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    if cents == 0:
        return f"{sign}¥{whole}"
    return f"{sign}¥{whole}.{cents:02d}".rstrip("0")


def clock(moment: dt.datetime) -> str:
    """``08:05``."""
    return moment.strftime("%H:%M")


def day_and_time(moment: dt.datetime, language: str) -> str:
    """``5月1日 08:05`` or ``1 May 08:05``."""
    if language == "zh":
        return f"{moment.month}月{moment.day}日 {clock(moment)}"
    return f"{moment.day} {moment.strftime('%b')} {clock(moment)}"


def duration(departs: dt.datetime, arrives: dt.datetime, language: str) -> str:
    """``3小时05分`` or ``3 h 05 min``."""
    minutes = max(0, int((arrives - departs).total_seconds() // 60))
    hours, rest = divmod(minutes, 60)
    if language == "zh":
        return f"{hours}小时{rest:02d}分"
    return f"{hours} h {rest:02d} min"


def seats_left(choice: ClassChoice, language: str) -> str:
    """``余12``, ``无座 余5`` or ``无票`` (and their English)."""
    if choice.seats > 0:
        return say(SEATS_LEFT, language, n=choice.seats)
    if choice.standing > 0:
        return say(STANDING_LEFT, language, n=choice.standing)
    return say(SOLD_OUT, language)


def fixed_words() -> list[Words]:
    """Every fixed text of the kiosk, to check at start that the font draws them all."""
    words = [*BUTTONS.values(), *SCREEN_BUTTONS.values(), *BANNERS.values(), LANGUAGE_BUTTON]
    return [*words, *HINTS]
