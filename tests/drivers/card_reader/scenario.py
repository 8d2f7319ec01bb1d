"""Running an async test body (a scenario) on its own event loop, bounded in time."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")
SCENARIO_TIMEOUT_S = 60.0


def run(scenario: Coroutine[Any, Any, T]) -> T:
    """Run ``scenario`` on a fresh loop; fail it after ``SCENARIO_TIMEOUT_S``."""

    async def bounded() -> T:
        return await asyncio.wait_for(scenario, SCENARIO_TIMEOUT_S)

    return asyncio.run(bounded())
