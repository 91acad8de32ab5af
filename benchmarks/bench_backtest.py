"""Backtest speed in candles per second, and memory as the file grows.

    python benchmarks/bench_backtest.py [--data FILE] [--records all|trades|none]
                                        [--repeat 3] [--no-memory] [--rules-without-costs]

The sample strategy (examples/config.sample.json, 15-minute candles) with the rules
decider replays the 47,598 one-minute candles of September 2025 through
``TradingEngine.run_cycle``, writing its records to a SQLite file as the CLI does:

1. deciding on every candle (``--decide-every 1m``): target >= 5,000 candles/s;
2. deciding every 15 minutes: target >= 50,000 candles/s;
3. memory: the live set of the 15-minute replay (sampled after every flush, after a
   full garbage collection) over the first 10,000 candles and over all of them; flat
   means the whole file holds no more than 1.25 times what the short one does. The
   tracemalloc peak is printed too: it also counts objects waiting for the cyclic
   collector, so it depends on when that happens to run.

Candles per second are candles read over the wall time of ``Backtest.run`` (opening
the file to writing the result row), the best of ``--repeat`` runs.

"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import sys
import tempfile
import time
import tracemalloc
from datetime import datetime, timedelta
from pathlib import Path

from bithumb_llm_trader.backtest import Backtest, BacktestResult, BacktestSettings, BufferedStore
from bithumb_llm_trader.bootstrap.backtest import replay_engine
from bithumb_llm_trader.clock import SystemClock
from bithumb_llm_trader.config import StrategyConfig, load_config
from bithumb_llm_trader.decision import RuleBasedDecider
from bithumb_llm_trader.store import open_store

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "examples" / "config.sample.json"
DATA = ROOT / ".." / "shared" / "data" / "upbit_krw_btc_1m_2025-09.csv"
FIRST = datetime.fromisoformat("2025-09-01T00:00:00+00:00")
TARGETS = {"1m": 5_000, "15m": 50_000}
FLAT = 1.25


def sample_config(without_costs: bool = False) -> StrategyConfig:
    """The sample strategy on the rules decider; ``without_costs``: the rules as before
    they weighed costs (issue 22), for speed comparisons on the same trades."""
    config = load_config(SAMPLE)
    rules = config.strategy.rules
    if without_costs:
        rules = rules.model_copy(update={"cost_filter": False, "min_hold": timedelta(0),
                                         "reentry_cooldown": timedelta(0)})
    section = config.strategy.model_copy(update={"decider": "rules", "rules": rules})
    return config.model_copy(update={"strategy": section})


def backtest(config: StrategyConfig, data: Path, every: str, records: str, db: Path,
             end: datetime | None = None) -> tuple[BacktestResult, float]:
    store = open_store(f"sqlite:///{db}")
    decider = RuleBasedDecider(config.strategy.rules, stop_loss_pct=config.risk.stop_loss_pct,
                               take_profit_pct=config.risk.take_profit_pct)
    settings = BacktestSettings(data=data, end=end, records=records,
                                decide_every=timedelta(minutes=int(every[:-1])))
    runner = Backtest(config, settings, decider=decider, engines=replay_engine, store=store,
                      wall_clock=SystemClock())
    started = time.perf_counter()
    result = asyncio.run(runner.run())
    seconds = time.perf_counter() - started
    store.close()
    return result, seconds


def speed(config: StrategyConfig, data: Path, every: str, records: str, repeat: int,
          workdir: Path) -> tuple[float, float, BacktestResult]:
    rates, result = [], None
    for attempt in range(repeat):
        result, seconds = backtest(config, data, every, records,
                                   workdir / f"speed-{every}-{attempt}.db")
        rates.append(result.to_dict()["data"]["candles_read"] / seconds)
    assert result is not None
    return max(rates), statistics.median(rates), result


def memory_peak(config: StrategyConfig, data: Path, records: str, workdir: Path,
                end: datetime | None) -> tuple[int, int, int]:
    """Candles read, the tracemalloc peak, and the largest live set after a flush.

    The peak depends on when Python's cyclic collector happens to run (objects wait
    for it between the replay's flushes), so the live set is also sampled: after
    every flush, after a full collection. That is what "flat" is judged on.
    """
    live = [0]
    original = BufferedStore.flush

    def flush_and_sample(store: BufferedStore, **options: bool) -> None:
        original(store, **options)
        gc.collect()
        live[0] = max(live[0], tracemalloc.get_traced_memory()[0])

    BufferedStore.flush = flush_and_sample  # type: ignore[method-assign]
    tracemalloc.start()
    try:
        result, _ = backtest(config, data, "15m", records, workdir / f"mem-{end is None}.db",
                             end)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        BufferedStore.flush = original  # type: ignore[method-assign]
    return result.to_dict()["data"]["candles_read"], peak, live[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--records", default="all", choices=("all", "trades", "none"))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-memory", action="store_true")
    parser.add_argument("--rules-without-costs", action="store_true",
                        help="the rules as before issue 22 (the same trades as older code)")
    args = parser.parse_args()
    if not args.data.exists():
        print(f"no data file at {args.data}", file=sys.stderr)
        return 2
    config = sample_config(args.rules_without_costs)
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        print(f"{args.data.name}, rules decider, records={args.records}, "
              f"best of {args.repeat} (median in brackets)")
        for every, target in TARGETS.items():
            best, median, result = speed(config, args.data, every, args.records, args.repeat,
                                         workdir)
            cycles = result.to_dict()["cycles"]["decision_cycles"]
            verdict = "ok" if best >= target else "BELOW TARGET"
            ok &= best >= target
            print(f"  decide every {every:>3}: {best:8,.0f} candles/s ({median:,.0f})  "
                  f"{cycles:,} cycles  target >= {target:,}  {verdict}")
        if not args.no_memory:
            short = memory_peak(config, args.data, args.records, workdir,
                                FIRST + timedelta(minutes=10_000))
            whole = memory_peak(config, args.data, args.records, workdir, None)
            ratio = whole[2] / short[2]
            ok &= ratio <= FLAT
            print(f"  live memory after flushes: {short[0]:,} candles {short[2] / 2**20:.2f} MiB,"
                  f" {whole[0]:,} candles {whole[2] / 2**20:.2f} MiB: x{ratio:.2f} "
                  f"(flat if <= {FLAT})")
            print(f"  tracemalloc peak (collector-dependent): {short[1] / 2**20:.1f} MiB, "
                  f"{whole[1] / 2**20:.1f} MiB")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
