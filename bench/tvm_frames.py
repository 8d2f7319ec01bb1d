"""A frame of the TVM's busiest screens at 1280x800, headless, as a passenger's eye sees it.

``frame_figures`` runs ``ui.tvm.frames.frame_times`` (one kiosk per screen,
SDL's dummy video driver) on the screens with the most on them: passengers
(two entered, the busy overlay), the destination search (seven stations)
and the trains (six, three classes each); the idle countdown is drawn on
every frame. ``frame_p99_ms`` is the largest of their p99s. The stations
and trains are made up.
"""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import replace

from bench.gate_bench import nearest_rank
from bench.gate_process_bench import DISPLAY_ENV, environment
from device.gate.messages import Words
from device.tvm.view import ClassChoice, PassengerLine, Screen, Station, TrainChoice, TvmView
from ui.tvm.frames import frame_times

FRAME_SIZE = (1280, 800)
HERE = Station("AAA", Words("甲站", "Jiazhan"), "JZ")


def busiest_views() -> dict[str, TvmView]:
    """The screens with the most on them: passengers (busy), destination search, trains."""
    departs = dt.datetime(2031, 5, 1, 8, 0)
    classes = tuple(
        ClassChoice(code, Words(zh, en), seats, 0, fen)
        for code, zh, en, seats, fen in (
            ("ZE", "二等座", "Second class", 118, 13950),
            ("ZY", "一等座", "First class", 12, 22350),
            ("SWZ", "商务座", "Business class", 3, 44800),
        )
    )
    trains = tuple(
        TrainChoice(
            f"G70{n:02d}",
            departs + dt.timedelta(hours=n),
            departs + dt.timedelta(hours=n, minutes=75),
            classes,
        )
        for n in range(6)
    )
    stations = tuple(
        Station(code, Words(zh, en), initials)
        for code, zh, en, initials in (
            ("AOH", "上海虹桥", "Shanghai Hongqiao", "SHHQ"), ("SZH", "苏州", "Suzhou", "SZ"),
            ("WXH", "无锡", "Wuxi", "WX"), ("CZH", "常州", "Changzhou", "CZ"),
            ("ZJH", "镇江", "Zhenjiang", "ZJ"), ("KSH", "昆山南", "Kunshannan", "KSN"),
            ("NKH", "南京南", "Nanjingnan", "NJN"),
        )
    )  # fmt: skip
    base = TvmView(Screen.HOME, "zh", Words("自助售票", "Self-service tickets"), HERE)
    common = ("back", "cancel", "language")
    return {
        "passengers": replace(
            base, screen=Screen.PASSENGERS, title=Words("乘客信息", "Passengers"),
            message=Words("请输入乘客姓名和身份证号", "Enter each passenger's name and ID"),
            destination=stations[0], train=trains[0], seat_class=classes[0], busy=True,
            passengers=(
                PassengerLine("张三", "1101**********1234"),
                PassengerLine("ZHANG XIAOMING", "3201**********002X"),
            ),
            targets=(*common, "passenger:add", "passenger:remove:0", "passenger:remove:1",
                     "confirm"),
        ),
        "destination": replace(
            base, screen=Screen.DESTINATION, title=Words("选择到站", "Destination"), query="S",
            destinations=stations, targets=(*common, *(f"dest:{s.code}" for s in stations)),
        ),
        "trains": replace(
            base, screen=Screen.TRAINS, title=Words("选择车次", "Choose a train"),
            destination=stations[0], trains=trains,
            targets=(*common, *(f"train:{t.train}" for t in trains[:5])),
        ),
    }  # fmt: skip


def frame_figures(frames: int, prefix: str = "tvm.") -> dict[str, float]:
    """Frame times of each busy screen at 1280x800, headless; the worst p99 is the figure."""
    figures: dict[str, float] = {}
    with environment(DISPLAY_ENV):
        for name, view in busiest_views().items():
            times = frame_times(view, FRAME_SIZE, frames)
            figures[f"{prefix}frame_{name}_p50_ms"] = statistics.median(times) * 1e3
            figures[f"{prefix}frame_{name}_p99_ms"] = nearest_rank(times, 0.99) * 1e3
    worst = max(v for k, v in figures.items() if k.endswith("_p99_ms"))
    return figures | {f"{prefix}frame_p99_ms": worst, f"{prefix}frames_per_screen": float(frames)}
