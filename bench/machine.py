"""How fast this machine runs Python right now: a yardstick beside each part's figures.

The same code measures very differently from one session's machine to the
next (a shared virtual machine's speed varies by twofold here). A fixed
pure-Python workload, timed before each part and at the end, lets figures
from different runs be compared: a slower yardstick explains slower sales.
"""

from __future__ import annotations

import time

ROUNDS = 5
LOOPS = 200_000


def _workload() -> int:
    """Dicts, strings and integers, as a request handler uses them."""
    seen: dict[str, int] = {}
    total = 0
    for n in range(LOOPS):
        key = f"k{n % 997}"
        seen[key] = seen.get(key, 0) + n
        total += len(key)
    return total + len(seen)


def yardstick_ms() -> float:
    """The best of a few timings of the fixed workload, in milliseconds."""
    best = float("inf")
    for _ in range(ROUNDS):
        started = time.perf_counter()
        _workload()
        best = min(best, time.perf_counter() - started)
    return best * 1e3
