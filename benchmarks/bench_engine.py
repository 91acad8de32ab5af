"""The engine's own overhead per cycle, and the snapshot's I/O concurrency.

    python benchmarks/bench_engine.py [--cycles 300] [--hold-only]

1. Overhead: ``TradingEngine.run_cycle`` against in-process fakes (no latency): a
   paper exchange over a static market, a scripted decider that alternates buy, sell and
   hold so two cycles in three send an order (``--hold-only``: every cycle holds), and the
   real SQL store on a SQLite file (all writes included). Target: median <= 10 ms.
2. Concurrency: ``collect_snapshot`` against a fake exchange whose every call takes
   50 ms (real ``asyncio.sleep``). Target: wall time <= 1.2 x one round trip.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

from bithumb_llm_trader.bootstrap import trading_engine
from bithumb_llm_trader.clock import ManualClock
from bithumb_llm_trader.config import StrategyConfig
from bithumb_llm_trader.decision import AgentIntent, DecisionOutcome, TradeDecision
from bithumb_llm_trader.domain import (
    Balance,
    Candle,
    CandleInterval,
    Level,
    Market,
    Mode,
    Orderbook,
    OrderChance,
    Ticker,
)
from bithumb_llm_trader.market import MarketSnapshot, collect_snapshot
from bithumb_llm_trader.paper import PaperExchange
from bithumb_llm_trader.prompts import Prompt
from bithumb_llm_trader.store import open_store

D = Decimal
MARKET = Market("KRW", "BTC")
START = datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)


class StaticMarket:
    """Market data with a fixed 30-level book and 200 candles; ``delay`` per call.

    With a ``clock``, the candles are the 200 up to its now (``cycles`` more are built
    ahead), so a clock advanced cycle after cycle never sees a stale series.
    """

    def __init__(self, delay: float = 0.0, clock: ManualClock | None = None,
                 cycles: int = 0) -> None:
        self.delay = delay
        self.clock = clock
        price = D(100_000_000)
        self.book = Orderbook(
            market=MARKET, timestamp=START,
            asks=tuple(Level(price + 1000 * i, D("0.05") * (i + 1)) for i in range(30)),
            bids=tuple(Level(price - 1000 * (i + 1), D("0.05") * (i + 1)) for i in range(30)),
        )
        self.series = [
            Candle(start=START - timedelta(minutes=15 * (200 - i)), open=price,
                   high=price + 200_000 + 1000 * (i % 7), low=price - 200_000,
                   close=price + 10_000 * ((i * 37) % 11 - 5), volume=D(3))
            for i in range(200 + cycles)
        ]
        self.starts = [candle.start for candle in self.series]

    async def _wait(self) -> None:
        if self.delay:
            await asyncio.sleep(self.delay)

    async def markets(self) -> list[Market]:
        await self._wait()
        return [MARKET]

    async def ticker(self, market: Market) -> Ticker:
        await self._wait()
        return Ticker(market=market, last_price=D(100_000_000), timestamp=START)

    async def tickers(self, markets: Sequence[Market]) -> list[Ticker]:
        await self._wait()
        return [Ticker(market=m, last_price=D(100_000_000), timestamp=START) for m in markets]

    async def orderbook(self, market: Market) -> Orderbook:
        await self._wait()
        return self.book

    async def candles(self, market: Market, interval: CandleInterval, count: int,
                      to: datetime | None = None) -> list[Candle]:
        await self._wait()
        end = len(self.series)
        if self.clock is not None:
            end = bisect.bisect_right(self.starts, self.clock.now())
        return self.series[max(end - count, 0):end]

    async def accounts(self) -> list[Balance]:
        await self._wait()
        return [Balance("KRW", D(10_000_000))]

    async def order_chance(self, market: Market) -> OrderChance:
        await self._wait()
        fee = D("0.0025")
        return OrderChance(market=market, bid_fee=fee, ask_fee=fee, maker_bid_fee=fee,
                           maker_ask_fee=fee, min_total=D(5000))


class AlternatingDecider:
    name = "scripted"
    needs_prompt = True

    def __init__(self, hold_only: bool = False) -> None:
        self.calls = 0
        self.hold_only = hold_only

    async def decide(self, prompt: Prompt, snapshot: MarketSnapshot) -> DecisionOutcome:
        self.calls += 1
        if self.hold_only:
            decision = TradeDecision.hold("bench")
        elif self.calls % 3 == 1:
            decision = TradeDecision(action="buy", confidence=D("0.8"), risk_pct=D("0.01"),
                                     agent_intent=AgentIntent.ENTER_LONG)
        elif self.calls % 3 == 2:
            decision = TradeDecision(action="sell", confidence=D("0.8"),
                                     agent_intent=AgentIntent.EXIT)
        else:
            decision = TradeDecision.hold("bench")
        return DecisionOutcome(decision=decision, decider="rules")


async def engine_overhead(cycles: int, db_dir: Path, hold_only: bool = False) -> list[float]:
    clock = ManualClock(START)
    config = StrategyConfig.model_validate({
        "name": "bench", "strategy": {"decider": "llm", "candle_count": 200},
        "risk": {"kill_switch_file": None},
        "paper": {"initial_balances": {"KRW": 10_000_000}},
    })
    store = open_store(f"sqlite:///{db_dir / 'bench.db'}", clock=clock)
    exchange = PaperExchange(StaticMarket(clock=clock, cycles=cycles), store, strategy="bench",
                             initial_balances=config.paper.initial_balances, clock=clock,
                             fee_rate=D("0.0025"), min_order_krw=D(5000))
    engine = trading_engine(config, exchange=exchange, decider=AlternatingDecider(hold_only),
                            store=store, clock=clock, mode=Mode.DRY)
    timings = []
    for _ in range(cycles):
        started = time.perf_counter()
        result = await engine.run_cycle()
        timings.append((time.perf_counter() - started) * 1000)
        if not result.ok:
            raise SystemExit(f"cycle failed: {result.error}")
        clock.advance(900)
    store.close()
    return timings


async def snapshot_concurrency(latency: float, rounds: int) -> list[float]:
    config = StrategyConfig()
    market = StaticMarket(delay=latency)
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        await collect_snapshot(market, config, ManualClock(START))  # the candles' time
        timings.append(time.perf_counter() - started)
    return timings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cycles", type=int, default=300)
    parser.add_argument("--hold-only", action="store_true", help="every cycle decides HOLD")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        timings = asyncio.run(engine_overhead(args.cycles, Path(tmp), args.hold_only))
    warm = timings[10:]  # the first cycles create the schema and warm caches
    median = statistics.median(warm)
    p95 = statistics.quantiles(warm, n=20)[-1]
    orders = "no orders" if args.hold_only else "orders in 2 of 3"
    print(f"engine overhead per cycle ({len(warm)} cycles, SQLite file, {orders}):")
    print(f"  median {median:.2f} ms   p95 {p95:.2f} ms   target <= 10 ms median")
    latency = 0.05
    walls = asyncio.run(snapshot_concurrency(latency, 10))
    ratio = statistics.median(walls) / latency
    print(f"snapshot with {latency * 1000:.0f} ms per call (6 calls):")
    print(f"  median wall {statistics.median(walls) * 1000:.1f} ms = {ratio:.2f} x one round"
          " trip   target <= 1.2 x")
    return 0 if median <= 10 and ratio <= 1.2 else 1


if __name__ == "__main__":
    sys.exit(main())
