"""Reading wrk's report: rate, latency units, non-2xx and the scripts' own lines."""

from __future__ import annotations

import pytest

from bench.http_bench import Round, round_figures
from bench.wrk import BenchError, WrkReport, parse_wrk

OUTPUT = """Running 15s test @ http://127.0.0.1:41234/v1/orders
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    10.12ms    2.34ms  1.20s    80.00%
    Req/Sec     3.20k   120.00     3.50k    70.00%
  Latency Distribution
     50%  850.00us
     75%   11.00ms
     90%   14.00ms
     99%    1.50s
  48000 requests in 15.01s, 30.00MB read
  Socket errors: connect 0, read 1, write 0, timeout 2
  Non-2xx or 3xx responses: 12
Requests/sec:   3197.87
Transfer/sec:      2.00MB
status hold 201 24000
status pay 200 23988
status other 409 12
sales 23988
sale_us 50 9500
sale_us 90 14200
sale_us 99 31000
"""


def test_figures_are_read_in_milliseconds() -> None:
    report = parse_wrk(OUTPUT)
    assert report.requests == 48000 and report.seconds == pytest.approx(15.01)
    assert report.requests_per_s == pytest.approx(3197.87)
    assert report.latency_ms == pytest.approx(
        {"50%": 0.85, "75%": 11.0, "90%": 14.0, "99%": 1500.0}
    )
    assert report.non2xx == 12 and report.socket_errors == 3
    assert report.statuses == {"hold 201": 24000, "pay 200": 23988, "other 409": 12}
    assert report.count("pay", 200) == 23988 and report.count("hold", 409) == 0
    assert report.sales == 23988
    assert report.sale_ms == pytest.approx({"50%": 9.5, "90%": 14.2, "99%": 31.0})


def test_output_without_a_report_is_an_error() -> None:
    with pytest.raises(BenchError, match="cannot read"):
        parse_wrk("unable to connect to 127.0.0.1:1 Connection refused\n")


def made(mode: str, done: int, p99_ms: float, writer_cpu_s: float) -> Round:
    report = WrkReport(
        requests=done * (2 if mode == "sale" else 1),
        seconds=10.0,
        requests_per_s=done / 10,
        latency_ms={"50%": 2.0, "99%": p99_ms / 2},
        non2xx=0,
        socket_errors=0,
        statuses={"hold 201": done, "pay 200": done if mode == "sale" else 0},
        sales=done if mode == "sale" else 0,
        sale_ms={"50%": 5.0, "99%": p99_ms},
    )
    return Round(mode, report, http_cpu_s=done * 300e-6, writer_cpu_s=writer_cpu_s)


def test_the_headline_is_the_median_round_with_the_spread_beside_it() -> None:
    figures = round_figures(
        [
            made("sale", 17000, 30.0, 9.0),
            made("sale", 15000, 18.0, 8.0),
            made("sale", 16000, 16.0, 8.0),
        ],
        "sales",
    )
    assert figures["central.http_sales_per_s"] == pytest.approx(1600)
    assert figures["central.http_sale_p99_ms"] == 16.0  # the median round's whole-sale p99
    assert figures["central.http_sale_p99_ms_worst_round"] == 30.0
    assert figures["central.http_sales_per_s_slowest_round"] == pytest.approx(1500)
    assert figures["central.http_sales_per_s_fastest_round"] == pytest.approx(1700)
    assert figures["central.http_cpu_us_per_sale_http"] == pytest.approx(300)
    assert figures["central.http_cpu_us_per_sale_writer"] == pytest.approx(500)


def test_hold_rounds_count_holds_and_their_own_latency() -> None:
    figures = round_figures([made("hold", 20000, 12.0, 8.0)], "holds")
    assert figures["central.http_holds_per_s"] == pytest.approx(2000)
    assert figures["central.http_hold_p99_ms"] == 6.0  # wrk's latency: every request is a hold
    assert figures["central.http_cpu_us_per_hold_writer"] == pytest.approx(400)
