"""The first market snapshot of a fresh process against one exchange round trip.

    python benchmarks/bench_snapshot.py [--repeat 7] [--latency-ms 100]

The stand-in exchange (``tests/standin.py``) is served over HTTP on 127.0.0.1 by this
process, and every answer waits ``--latency-ms`` first (a threaded server: requests
made together wait together). Each repeat starts a fresh interpreter that builds what
``run`` builds for a dry run (the Bithumb client, the paper wallet on a SQLite store,
the live snapshot with its incremental features) and times, in order:

1. the first ``collect_snapshot`` of the process (``first``): imports done, nothing
   called yet, so it pays for new connections and every first call;
2. a second one (``warm``);
3. one public request alone (``round trip``): the ticker, on a kept connection.

Target (issue 19): ``first`` at most 1.2 x one round trip; a snapshot's calls run
concurrently, so a warm one costs about one round trip. Medians over the repeats.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
from bench_start import serve_stand_in, write_strategy  # noqa: E402

sys.path.insert(0, str(ROOT.parent))
from tests.standin import BithumbStandIn  # noqa: E402

TARGET = 1.2

CHILD = """
import asyncio, json, sys, time
from bithumb_llm_trader.bootstrap.adapters import build_client, build_paper
from bithumb_llm_trader.bootstrap.engines import live_snapshot
from bithumb_llm_trader.clock import SystemClock
from bithumb_llm_trader.config import load_config
from bithumb_llm_trader.store import open_store

async def main():
    config = load_config(sys.argv[1])
    clock = SystemClock()
    store = open_store(config.database.url)
    client = build_client(config, clock)
    paper = build_paper(config, source=client, client=client, store=store, clock=clock)
    snapshot = live_snapshot(config, paper, clock)
    times = {}
    for name in ("first", "warm"):
        started = time.perf_counter()
        await snapshot()
        times[name] = time.perf_counter() - started
    started = time.perf_counter()
    await client.ticker(config.market)
    times["round_trip"] = time.perf_counter() - started
    await client.aclose()
    store.close()
    print(json.dumps(times))

asyncio.run(main())
"""


def delayed(standin: BithumbStandIn, seconds: float) -> BithumbStandIn:
    """``standin`` whose every answer waits ``seconds`` (in the server's thread)."""
    handle = standin.handle

    def slow(request):  # type: ignore[no-untyped-def]
        time.sleep(seconds)
        return handle(request)

    standin.handle = slow  # type: ignore[method-assign]
    return standin


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--latency-ms", type=float, default=100.0)
    args = parser.parse_args()
    standin = delayed(BithumbStandIn(clock=lambda: datetime.now(timezone.utc)),
                      args.latency_ms / 1000)
    server = serve_stand_in(standin)
    runs: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory(prefix="bench-snapshot-") as temp:
        strategy = write_strategy(Path(temp), f"http://127.0.0.1:{server.server_address[1]}")
        for _ in range(args.repeat):
            done = subprocess.run([sys.executable, "-c", CHILD, str(strategy)], cwd=temp,
                                  capture_output=True, text=True, check=False)
            if done.returncode != 0:
                raise SystemExit(f"the child failed ({done.returncode}):\n{done.stderr[-2000:]}")
            runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    server.shutdown()
    median = {name: statistics.median(run[name] for run in runs) for name in runs[0]}
    trip = median["round_trip"]
    print(f"median of {args.repeat} fresh processes, {args.latency_ms:.0f} ms per answer")
    print(f"  one round trip (ticker)     {trip * 1000:7.1f} ms")
    for name in ("first", "warm"):
        print(f"  {name + ' snapshot':26s}  {median[name] * 1000:7.1f} ms"
              f"  = {median[name] / trip:.2f}x  (target <= {TARGET}x)")
    ratios = sorted(run["first"] / run["round_trip"] for run in runs)
    print(f"  first / round trip, each run: {', '.join(f'{r:.2f}' for r in ratios)}")


if __name__ == "__main__":
    main()
