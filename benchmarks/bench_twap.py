"""Does a TWAP pay less slippage than one market order of the same size?

Run from the repository root:

    python benchmarks/bench_twap.py [--data-dir ../shared/data] [--slices 10]
        [--duration 10m] [--max-slippage-bps 30]

Replays one real Upbit KRW-BTC orderbook (15 levels, 2021-03-08) through the dry-run
path: the paper exchange fills every order by walking that book, and the book is the
same at every slice, i.e. liquidity refills between slices. For a few sizes it sends
one market order, then a TWAP through ``TWAPExecutor`` (fake clock, SQLite store), and
prints the average price and the slippage against the arrival price (best opposite
quote) of each, with the share of the TWAP that filled inside its price guard.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from bithumb_llm_trader.api_client.parsing import parse_orderbook
from bithumb_llm_trader.clock import ManualClock
from bithumb_llm_trader.domain import (
    UTC,
    Candle,
    CandleInterval,
    Market,
    Orderbook,
    OrderRequest,
    OrderType,
    Side,
    Ticker,
    parse_duration,
    round_volume,
)
from bithumb_llm_trader.liquidity import signed_slippage_bps, walk_book
from bithumb_llm_trader.paper import PaperExchange
from bithumb_llm_trader.store import SqlStore, open_store
from bithumb_llm_trader.twap import TWAPExecutor, TwapParams

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO / ".." / "shared" / "data"
BOOK_FILE = "upbit_orderbook_krw_btc_2021-03-08.json"
NOTIONALS = (Decimal(2_000_000), Decimal(10_000_000), Decimal(30_000_000),
             Decimal(60_000_000), Decimal(90_000_000))
SELL_VOLUMES = (Decimal("0.05"), Decimal("0.2"), Decimal("0.5"), Decimal("1"))
START = datetime(2021, 3, 8, 6, 19, tzinfo=UTC)


class ReplayedBook:
    """Market data that answers the same orderbook every time (liquidity refills)."""

    def __init__(self, book: Orderbook) -> None:
        self.book = book

    async def orderbook(self, market: Market) -> Orderbook:
        return self.book

    async def markets(self) -> list[Market]:
        return [self.book.market]

    async def ticker(self, market: Market) -> Ticker:
        assert self.book.best_ask is not None
        return Ticker(market=market, last_price=self.book.best_ask, timestamp=START)

    async def tickers(self, markets: Sequence[Market]) -> list[Ticker]:
        return [await self.ticker(m) for m in markets]

    async def candles(self, market: Market, interval: CandleInterval, count: int,
                      to: datetime | None = None) -> list[Candle]:
        return []


@dataclass(frozen=True)
class Row:
    side: Side
    size: Decimal
    unit: str
    levels: int
    market_avg: Decimal | None
    market_slip: Decimal | None
    market_filled: Decimal
    twap_avg: Decimal | None
    twap_slip: Decimal | None
    twap_filled: Decimal
    twap_ms: float


def load_book(data_dir: Path) -> Orderbook:
    path = data_dir / BOOK_FILE
    if not path.is_file():
        sys.exit(f"bench_twap: {path} is absent; pass --data-dir pointing at shared/data")
    payload = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
    return parse_orderbook(payload[0])


def paper(book: Orderbook, workdir: Path, clock: ManualClock) -> tuple[PaperExchange, SqlStore]:
    store = open_store(f"sqlite:///{workdir / 'bench.db'}", clock=clock)
    exchange = PaperExchange(ReplayedBook(book), store, strategy="bench", clock=clock,
                             initial_balances={"KRW": Decimal(10**10), "BTC": Decimal(100)},
                             fee_rate=Decimal("0.0025"), min_order_krw=Decimal(5000))
    return exchange, store


async def one_market_order(book: Orderbook, side: Side, size: Decimal,
                           workdir: Path) -> tuple[Decimal | None, Decimal]:
    clock = ManualClock(START)
    exchange, _ = paper(book, workdir, clock)
    buy = side is Side.BUY
    order = await exchange.place_order(OrderRequest(
        market=book.market, side=side, order_type=OrderType.MARKET,
        client_order_id="bench-market", notional=size if buy else None,
        volume=None if buy else size))
    done = order.executed_funds if side is Side.BUY else order.executed_volume
    return order.average_price, done / size


async def twap(book: Orderbook, side: Side, size: Decimal, workdir: Path,
               args: argparse.Namespace) -> tuple[Decimal | None, Decimal | None, Decimal, float]:
    clock = ManualClock(START)
    exchange, store = paper(book, workdir, clock)
    executor = TWAPExecutor(exchange, clock, store, strategy="bench", dry_run=True)
    buy = side is Side.BUY
    params = TwapParams(market=book.market, side=side, duration=args.duration,
                        slices=args.slices, max_slippage_bps=args.max_slippage_bps,
                        notional=size if buy else None, volume=None if buy else size)
    started = time.perf_counter()
    report = await executor.run(params)
    elapsed_ms = (time.perf_counter() - started) * 1000
    done = report.filled_funds if side is Side.BUY else report.filled_volume
    return report.avg_price, report.slippage_bps, done / size, elapsed_ms


async def measure(book: Orderbook, side: Side, size: Decimal,
                  args: argparse.Namespace) -> Row:
    levels = book.side_levels(side)
    buy = side is Side.BUY
    walked = len(walk_book(levels, side, notional=size if buy else None,
                           volume=None if buy else size).fills)
    arrival = levels[0].price
    with tempfile.TemporaryDirectory() as one, tempfile.TemporaryDirectory() as many:
        market_avg, market_filled = await one_market_order(book, side, size, Path(one))
        twap_avg, twap_slip, twap_filled, twap_ms = await twap(book, side, size, Path(many),
                                                               args)
    return Row(side, size, "KRW" if side is Side.BUY else "BTC", walked, market_avg,
               signed_slippage_bps(side, market_avg, arrival), market_filled, twap_avg,
               twap_slip, twap_filled, twap_ms)


def print_table(rows: list[Row], book: Orderbook, args: argparse.Namespace) -> None:
    print(f"Upbit KRW-BTC orderbook {book.timestamp:%Y-%m-%d %H:%M} UTC, {len(book.asks)} "
          f"levels; best ask {_price(book.best_ask)}, best bid {_price(book.best_bid)}")
    print(f"TWAP: {args.slices} slices over {args.duration}, guard {args.max_slippage_bps} "
          "bps from arrival; one market order: the whole size at once. Slippage in bps "
          "against the arrival price (best opposite quote), positive = worse.\n")
    print("| side | size | levels one order walks | market avg | market slip | "
          "market filled | TWAP avg | TWAP slip | TWAP filled | TWAP run (ms) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        size = f"{r.size:,}" if r.unit == "KRW" else f"{r.size.normalize():f}"
        print(f"| {r.side.name.lower()} | {size} {r.unit} | {r.levels} | "
              f"{_price(r.market_avg)} | {r.market_slip} | {_pct(r.market_filled)} | "
              f"{_price(r.twap_avg)} | {r.twap_slip} | {_pct(r.twap_filled)} | "
              f"{r.twap_ms:.0f} |")


def _price(value: Decimal | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def _pct(value: Decimal) -> str:
    return f"{value * 100:.1f}%"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--slices", type=int, default=10)
    parser.add_argument("--duration", type=parse_duration, default=timedelta(minutes=10))
    parser.add_argument("--max-slippage-bps", type=Decimal, default=Decimal(30))
    return parser.parse_args(argv)


async def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    book = load_book(args.data_dir)
    rows = [await measure(book, Side.BUY, n, args) for n in NOTIONALS]
    rows += [await measure(book, Side.SELL, round_volume(v), args) for v in SELL_VOLUMES]
    print_table(rows, book, args)


if __name__ == "__main__":
    asyncio.run(main())
