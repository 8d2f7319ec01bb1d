"""The HTTP ceiling: no-op apps served and driven exactly as the sales benchmark is."""

from __future__ import annotations

import shutil

import pytest
from fastapi.testclient import TestClient

from bench import ceiling
from bench.workload import service_date


def test_the_fastapi_noop_answers_a_sale_request_with_a_constant() -> None:
    with TestClient(ceiling.fastapi_noop) as client:
        answer = client.post("/v1/orders", content=b'{"train": "G1"}')
    assert answer.status_code == 201
    assert answer.content == ceiling.ANSWER


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed (make deps)")
def test_both_ceilings_are_measured_under_wrk() -> None:
    figures = ceiling.run(service_date(), seconds=1)
    for name in ceiling.APPS:
        assert figures[f"central.http_ceiling_{name}_per_s"] > 100
        assert figures[f"central.http_ceiling_{name}_cpu_us"] > 0
    # the bare ASGI app does strictly less work than FastAPI on the same server
    assert (
        figures["central.http_ceiling_asgi_cpu_us"] < figures["central.http_ceiling_fastapi_cpu_us"]
    )
