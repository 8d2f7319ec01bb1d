"""``python -m bench``: run central's, the gate's and the TVM's benchmarks, print a table,
write results.json.

Options pick a part (``--only engine``, ``http``, ``ceiling``, ``pg``, ``writer``,
``gate`` or ``tvm``), keep the HTTP run's temporary directory for a look at
the store and the server log (``--keep``), or write elsewhere (``--output``).
A run of one part writes only that part's keys.

- ``gate`` (``bench.gate_bench``): a QR decision on a cache of
  ``--gate-tickets`` tickets (10 M; built once in the temporary directory,
  then reused) beside its floor, scan to relay, resident memory and cold
  start of a real gate process, a 100 k-ticket feed delta.
- ``tvm`` (``bench.tvm_bench``): a card purchase's software time beside
  central's hold and pay round trips alone, a frame of the busiest screen
  at 1280x800 headless, resident memory and cold start of a real TVM process.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from bench import ceiling, engine_bench, gate_bench, http_bench, pg_bench, tvm_bench, writer_bench
from bench.machine import yardstick_ms
from bench.report import RESULTS_PATH, table, write_results
from bench.workload import service_date
from bench.wrk import BenchError, wrk_binary


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--only",
        choices=("engine", "writer", "http", "ceiling", "pg", "gate", "tvm"),
        default=None,
    )
    parser.add_argument(
        "--gate-tickets",
        type=int,
        default=gate_bench.DEFAULT_TICKETS,
        help="tickets in the gate's cache (the goals are for 10 M)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the HTTP run's directory")
    parser.add_argument("--output", type=Path, default=RESULTS_PATH)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the chosen parts; 0 when they ran, whatever the figures (they are reported)."""
    args = parse_args(argv)
    started = time.perf_counter()
    # other work on this small machine shows in the tails: keep the load beside the figures
    results: dict[str, float] = {"bench.loadavg_1m_before": os.getloadavg()[0]}
    try:
        if args.only in (None, "http", "ceiling"):
            wrk_binary()  # fail before the engine part when wrk is missing
        if args.only in (None, "engine"):
            print("engine: selling 1,000-seat runs out ...", file=sys.stderr)
            results["bench.yardstick_ms_engine"] = yardstick_ms()
            results.update(engine_bench.run())
        if args.only in (None, "http"):
            print("http: loading 100 runs, then wrk ...", file=sys.stderr)
            results["bench.yardstick_ms_http"] = yardstick_ms()
            results.update(http_bench.run(service_date(), keep=args.keep))
        if args.only in (None, "ceiling"):
            print("ceiling: no-op apps on the same uvicorn and wrk load ...", file=sys.stderr)
            results["bench.yardstick_ms_ceiling"] = yardstick_ms()
            results.update(ceiling.run(service_date()))
        if args.only in (None, "pg"):
            print("pg: complete sales on PostgreSQL with several API workers ...", file=sys.stderr)
            results["bench.yardstick_ms_pg"] = yardstick_ms()
            results.update(pg_bench.run(service_date()))
        if args.only in (None, "gate"):
            print(f"gate: {args.gate_tickets:,}-ticket cache, a gate process ...", file=sys.stderr)
            results["bench.yardstick_ms_gate"] = yardstick_ms()
            results.update(gate_bench.run(args.gate_tickets))
        if args.only in (None, "tvm"):
            print("tvm: purchases against central, frames, a TVM process ...", file=sys.stderr)
            results["bench.yardstick_ms_tvm"] = yardstick_ms()
            results.update(tvm_bench.run())
        # last: its large store's write-back would otherwise land in the HTTP figures
        if args.only in (None, "writer"):
            print("writer: loading 100 runs, then holds without HTTP ...", file=sys.stderr)
            results["bench.yardstick_ms_writer"] = yardstick_ms()
            results.update(writer_bench.run())
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2
    results["bench.total_s"] = time.perf_counter() - started
    results["bench.loadavg_1m_after"] = os.getloadavg()[0]
    results["bench.yardstick_ms_after"] = yardstick_ms()  # did the machine slow down meanwhile?
    write_results(results, args.output)
    print(table(results))
    print(f"\nwrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
