"""Reading wrk's report: rate, latency units, non-2xx and the script's status lines."""

from __future__ import annotations

import pytest

from bench.http_bench import BenchError, parse_wrk

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
status 201 47988
status 409 12
"""


def test_figures_are_read_in_milliseconds() -> None:
    report = parse_wrk(OUTPUT)
    assert report.requests == 48000 and report.seconds == pytest.approx(15.01)
    assert report.requests_per_s == pytest.approx(3197.87)
    assert report.latency_ms == pytest.approx(
        {"50%": 0.85, "75%": 11.0, "90%": 14.0, "99%": 1500.0}
    )
    assert report.non2xx == 12 and report.socket_errors == 3
    assert report.statuses == {201: 47988, 409: 12}


def test_output_without_a_report_is_an_error() -> None:
    with pytest.raises(BenchError, match="cannot read"):
        parse_wrk("unable to connect to 127.0.0.1:1 Connection refused\n")
