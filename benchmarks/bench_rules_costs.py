"""The rules strategy with and without weighing costs, on every candle file in ../shared/data.

    python benchmarks/bench_rules_costs.py [--data-dir DIR]

The sample strategy (examples/config.sample.json, rules decider, every default) is
backtested on each candle file, deciding every 15 minutes (or every candle where the
candles are longer), twice: with the rules' defaults (cost filter, minimum holding time,
re-entry cooldown) and with those three turned off (the rules before issue 22). Nothing
is tuned to any file or period: the defaults are the defaults, and the returns are what
they are. Each backtest writes to a throwaway in-memory SQLite store.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from bithumb_llm_trader.backtest import Backtest, BacktestSettings, open_candle_file
from bithumb_llm_trader.backtest.candles import detect_interval
from bithumb_llm_trader.bootstrap.adapters import rule_decider
from bithumb_llm_trader.bootstrap.backtest import replay_engine
from bithumb_llm_trader.clock import SystemClock
from bithumb_llm_trader.config import StrategyConfig
from bithumb_llm_trader.store import open_store

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_backtest import sample_config

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / ".." / "shared" / "data"
SUFFIXES = (".csv", ".json")


def run(config: StrategyConfig, data: Path) -> dict[str, Any]:
    head = []
    for candle in open_candle_file(data):
        head.append(candle)
        if len(head) == 3:
            break
    every = max(timedelta(minutes=15), detect_interval(head).duration)
    store = open_store("sqlite://")
    try:
        settings = BacktestSettings(data=data, decide_every=every, records="none")
        result = asyncio.run(Backtest(config, settings, decider=rule_decider(config),
                                      engines=replay_engine, store=store,
                                      wall_clock=SystemClock()).run())
    finally:
        store.close()
    return {**result.results, "every": every, "window": (result.window_start,
                                                         result.window_end)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=DATA)
    args = parser.parse_args()
    files = sorted(p for p in args.data_dir.glob("*") if p.suffix in SUFFIXES
                   and "orderbook" not in p.name)
    if not files:
        print(f"no candle files in {args.data_dir}", file=sys.stderr)
        return 2
    print("| file | rules | decide every | return | buy and hold | orders | round trips |"
          " fees KRW | fees / capital | max drawdown |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for path in files:
        for label, without in (("with costs (default)", False), ("without (old)", True)):
            try:
                figures = run(sample_config(without), path)
            except Exception as exc:  # a file this reader cannot take: say so, go on
                print(f"| {path.name} | {label} | error: {exc} |")
                continue
            print(f"| {path.name} | {label} | {figures['every']} | "
                  f"{_pct(figures['total_return'])} | {_pct(figures['buy_and_hold_return'])}"
                  f" | {figures['trades']} | {figures['round_trips']} | "
                  f"{float(figures['fees_krw']):,.0f} | "
                  f"{_pct(figures['fees_share_of_capital'])} | "
                  f"{_pct(figures['max_drawdown'])} |", flush=True)
    return 0


def _pct(value: Any) -> str:
    return "-" if value is None else f"{float(value) * 100:.2f}%"


if __name__ == "__main__":
    sys.exit(main())
