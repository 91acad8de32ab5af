"""How big the trading prompt is, and how long features + book summary + prompt take.

Run from the repository root:

    python benchmarks/bench_prompt.py [--repetitions 200] [--data-dir ../shared/data]

Builds a realistic snapshot for the sample strategy (examples/config.sample.json:
15-minute candles, 200 of them) from real Upbit KRW-BTC data: the last 3,000 one-minute
candles of September 2025 summed into 200 fifteen-minute candles, and one real Upbit
orderbook (15 levels, March 2021). The book's prices are shifted by one constant (a
multiple of the 1,000 KRW tick) so its mid sits at the last close; its spread, level
gaps and sizes stay as recorded. Prints the prompt's size (characters and the chars/4
token estimate) and the median and 95th-percentile time to compute the features,
summarize the book and build the prompt, each and together.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from bithumb_llm_trader.config import StrategyConfig, load_config
from bithumb_llm_trader.domain import (
    UTC,
    Balance,
    Candle,
    Level,
    Market,
    Orderbook,
    OrderChance,
    Ticker,
)
from bithumb_llm_trader.market import (
    FeatureParams,
    compute_features,
    snapshot_from_parts,
    summarize_book,
)
from bithumb_llm_trader.market.model import MarketSnapshot
from bithumb_llm_trader.prompts import build_trading_prompt

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO / ".." / "shared" / "data"
CANDLES_FILE = "upbit_krw_btc_1m_2025-09.csv"
BOOK_FILE = "upbit_orderbook_krw_btc_2021-03-08.json"
SAMPLE_CONFIG = REPO / "examples" / "config.sample.json"
MARKET = Market("KRW", "BTC")
TICK = Decimal(1000)


def read_minute_candles(path: Path, count: int) -> list[Candle]:
    """The last ``count`` one-minute candles of the CSV, with exact decimals."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))[-count:]
    return [
        Candle(
            start=datetime.fromisoformat(row["timestamp"]).replace(tzinfo=UTC),
            open=Decimal(row["open"]),
            high=Decimal(row["high"]),
            low=Decimal(row["low"]),
            close=Decimal(row["close"]),
            volume=Decimal(row["volume"]),
        )
        for row in rows
    ]


def resample(candles: Sequence[Candle], minutes: int) -> list[Candle]:
    """Sum one-minute candles into ``minutes``-long candles aligned to the clock."""
    groups: dict[datetime, list[Candle]] = {}
    for candle in candles:
        offset = timedelta(minutes=candle.start.minute % minutes, seconds=candle.start.second)
        groups.setdefault(candle.start - offset, []).append(candle)
    return [
        Candle(
            start=start,
            open=group[0].open,
            high=max(c.high for c in group),
            low=min(c.low for c in group),
            close=group[-1].close,
            volume=sum((c.volume for c in group), Decimal(0)),
        )
        for start, group in sorted(groups.items())
    ]


def read_orderbook(path: Path, mid_at: Decimal) -> Orderbook:
    """The recorded Upbit book, shifted so that its mid sits near ``mid_at``."""
    data: Any = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
    book = data[0]
    units = book["orderbook_units"]
    mid = (Decimal(units[0]["ask_price"]) + Decimal(units[0]["bid_price"])) / 2
    shift = ((mid_at - mid) / TICK).to_integral_value() * TICK
    return Orderbook(
        market=MARKET,
        timestamp=datetime.fromtimestamp(book["timestamp"] / 1000, tz=UTC),
        asks=tuple(Level(Decimal(u["ask_price"]) + shift, Decimal(u["ask_size"])) for u in units),
        bids=tuple(Level(Decimal(u["bid_price"]) + shift, Decimal(u["bid_size"])) for u in units),
    )


def build_snapshot(
    config: StrategyConfig, candles: Sequence[Candle], book: Orderbook
) -> MarketSnapshot:
    last = candles[-1]
    taken_at = last.start + config.strategy.candle_interval.duration
    ticker = Ticker(MARKET, last.close, taken_at, change_rate=Decimal("0.0123"))
    balances = [
        Balance("KRW", Decimal(800_000)),
        Balance("BTC", Decimal("0.00150000"), avg_buy_price=last.close * Decimal("0.98")),
    ]
    chance = OrderChance(MARKET, Decimal("0.0025"), Decimal("0.0025"), Decimal("0.0025"),
                         Decimal("0.0025"), min_total=Decimal(5000))
    return snapshot_from_parts(config, taken_at=taken_at, ticker=ticker, orderbook=book,
                               candles=candles, balances=balances, order_chance=chance)


def timed(action: Callable[[], object], repetitions: int) -> list[float]:
    """Seconds per call of ``action``, ``repetitions`` times."""
    durations = []
    for _ in range(repetitions):
        started = time.perf_counter()
        action()
        durations.append(time.perf_counter() - started)
    return durations


def describe(name: str, durations: list[float]) -> str:
    ordered = sorted(durations)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * len(ordered)) - 1)]
    median = statistics.median(ordered)
    return f"{name:<34} median {median * 1000:8.3f} ms   p95 {p95 * 1000:8.3f} ms"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repetitions", type=int, default=200)
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args(argv)
    candles_path, book_path = args.data_dir / CANDLES_FILE, args.data_dir / BOOK_FILE
    missing = [str(p) for p in (candles_path, book_path) if not p.exists()]
    if missing:
        print(f"bench_prompt: data not found: {', '.join(missing)}", file=sys.stderr)
        return 2

    config = load_config(SAMPLE_CONFIG, environ={}, dotenv=None)
    section = config.strategy
    minutes = section.candle_interval.minutes
    candles = resample(read_minute_candles(candles_path, section.candle_count * minutes),
                       minutes)[-section.candle_count:]
    book = read_orderbook(book_path, candles[-1].close)
    snapshot = build_snapshot(config, candles, book)
    params = FeatureParams.from_config(section)

    prompt = build_trading_prompt(snapshot, snapshot.position, config)
    print(f"strategy {config.name}: {len(candles)} x {section.candle_interval.value} candles "
          f"({candles[0].start:%Y-%m-%d %H:%M} .. {candles[-1].start:%Y-%m-%d %H:%M} UTC), "
          f"{section.prompt_candles} in the prompt, book of {len(book.asks)} levels")
    print(f"prompt {prompt.version}: system {len(prompt.system)} chars, user "
          f"{len(prompt.user)} chars, total {len(prompt.system) + len(prompt.user)} chars, "
          f"~{prompt.estimated_tokens} tokens (chars/4)")

    def whole() -> None:
        features = compute_features(snapshot.candles, params)
        summary = summarize_book(book, section.book_levels, section.depth_bps)
        fresh = replace(snapshot, features=features, book=summary)
        build_trading_prompt(fresh, fresh.position, config)

    reps = args.repetitions
    print(f"over {reps} repetitions:")
    print(describe("features (compute_features)", timed(
        lambda: compute_features(snapshot.candles, params), reps)))
    print(describe("book summary (summarize_book)", timed(
        lambda: summarize_book(book, section.book_levels, section.depth_bps), reps)))
    print(describe("prompt (build_trading_prompt)", timed(
        lambda: build_trading_prompt(snapshot, snapshot.position, config), reps)))
    print(describe("features + book + prompt", timed(whole, reps)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
