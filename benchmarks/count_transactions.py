"""Store transactions per cycle, in ``bench_engine.py``'s setup.

    python benchmarks/count_transactions.py [--cycles 30]

The engine, paper exchange, scripted decider (buy, sell, hold in turn) and SQLite file
of ``bench_engine.py``; every transaction the store opens is counted, and those that
changed rows (SQLite's ``total_changes`` moved between begin and commit) are the writes.
The first cycles (schema, paper wallet) are left out.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, event

sys.path.insert(0, str(Path(__file__).parent))

import bench_engine as bench

from bithumb_llm_trader.bootstrap import trading_engine
from bithumb_llm_trader.clock import ManualClock
from bithumb_llm_trader.config import StrategyConfig
from bithumb_llm_trader.domain import Mode
from bithumb_llm_trader.paper import PaperExchange
from bithumb_llm_trader.store import open_store


async def count(cycles: int, db_dir: Path) -> dict[str, list[tuple[int, int]]]:
    clock = ManualClock(bench.START)
    config = StrategyConfig.model_validate({
        "name": "bench", "strategy": {"decider": "llm", "candle_count": 200},
        "risk": {"kill_switch_file": None},
        "paper": {"initial_balances": {"KRW": 10_000_000}},
    })
    store = open_store(f"sqlite:///{db_dir / 'bench.db'}", clock=clock)
    exchange = PaperExchange(bench.StaticMarket(clock=clock, cycles=cycles), store,
                             strategy="bench", initial_balances=config.paper.initial_balances,
                             clock=clock, fee_rate=bench.D("0.0025"),
                             min_order_krw=bench.D(5000))
    engine = trading_engine(config, exchange=exchange, decider=bench.AlternatingDecider(),
                            store=store, clock=clock, mode=Mode.DRY)
    seen = {"all": 0, "writes": 0}
    changes: dict[int, int] = {}

    def total(conn: Connection) -> int:
        driver: Any = conn.connection.driver_connection
        return int(driver.total_changes)

    def begin(conn: Connection) -> None:
        seen["all"] += 1
        changes[id(conn)] = total(conn)

    def commit(conn: Connection) -> None:
        if total(conn) != changes.pop(id(conn), -1):
            seen["writes"] += 1

    event.listen(store.engine, "begin", begin)
    event.listen(store.engine, "commit", commit)
    counts: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for number in range(cycles):
        seen.update(all=0, writes=0)
        result = await engine.run_cycle()
        if not result.ok:
            raise SystemExit(f"cycle failed: {result.error}")
        kind = "order" if (result.execution or {}).get("method") == "order" else "hold"
        if number >= 3:
            counts[kind].append((seen["writes"], seen["all"] - seen["writes"]))
        clock.advance(900)
    store.close()
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cycles", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        counts = asyncio.run(count(args.cycles, Path(tmp)))
    for kind, pairs in sorted(counts.items()):
        writes = [w for w, _ in pairs]
        reads = [r for _, r in pairs]
        print(f"{kind:>5} cycles ({len(pairs)}): writing transactions "
              f"{statistics.median(writes):g} (max {max(writes)}), read-only "
              f"{statistics.median(reads):g} (max {max(reads)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
