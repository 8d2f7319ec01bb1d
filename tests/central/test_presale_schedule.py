"""Scheduled pre-allocation at presale opening and release before departure."""

from __future__ import annotations

from datetime import datetime, timedelta

from conftest import Api, FakeClock, demo_runs, writer_of

from central.api.service import CentralService
from central.operating import presale

G = demo_runs()[0]


def run_due(api: Api) -> list[str]:
    svc: CentralService = api.client.app.state.service  # type: ignore[attr-defined]
    return writer_of(api).call(lambda conn: presale.run_due(conn, svc.ctx))


def test_presale_opening_then_release_time(loaded: Api, clock: FakeClock) -> None:
    departs = datetime.fromisoformat(G["stops"][0]["depart"])
    opens_days = G.get("preallocation", {}).get("opens_days_before", 15)
    release_minutes = G.get("preallocation", {}).get("release_minutes_before", 120)
    clock.now = departs.replace(hour=0) - timedelta(days=opens_days + 1)
    assert not any("run 1" in line for line in run_due(loaded))
    clock.now = departs - timedelta(days=opens_days)
    done = run_due(loaded)
    assert "preallocated run 1" in done
    assert "preallocated run 1" not in run_due(loaded)  # once only
    clock.now = departs - timedelta(minutes=release_minutes)
    assert "released run 1" in run_due(loaded)
    actions = [r["action"] for r in loaded.get("/v1/audit").json()]
    assert actions.count("preallocation.run") >= 1 and "preallocation.release" in actions
    assert "released run 1" not in run_due(loaded)
