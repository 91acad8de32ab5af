"""Small builders and data loaders shared by the market tests."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

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

KRW_BTC = Market("KRW", "BTC")
T0 = datetime(2025, 9, 1, tzinfo=UTC)

SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
MINUTE_CSV = SHARED_DATA / "upbit_krw_btc_1m_2025-09.csv"
UPBIT_BOOK = SHARED_DATA / "upbit_orderbook_krw_btc_2021-03-08.json"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "bithumb"


def candle(
    index: int, high: str, low: str, close: str, volume: str = "1", *, minutes: int = 1
) -> Candle:
    """The ``index``-th candle of a series starting at ``T0``; open equals close."""
    return Candle(
        start=T0 + timedelta(minutes=index * minutes),
        open=Decimal(close),
        high=Decimal(high),
        low=Decimal(low),
        close=Decimal(close),
        volume=Decimal(volume),
    )


def flat_candles(count: int, price: str = "100", start: datetime = T0) -> list[Candle]:
    value = Decimal(price)
    return [
        Candle(start=start + timedelta(minutes=i), open=value, high=value, low=value,
               close=value, volume=Decimal(1))
        for i in range(count)
    ]


def book(asks: Sequence[tuple[str, str]], bids: Sequence[tuple[str, str]],
         market: Market = KRW_BTC) -> Orderbook:
    return Orderbook(
        market=market,
        timestamp=T0,
        asks=tuple(Level(Decimal(p), Decimal(s)) for p, s in asks),
        bids=tuple(Level(Decimal(p), Decimal(s)) for p, s in bids),
    )


def ticker(price: str, market: Market = KRW_BTC) -> Ticker:
    return Ticker(market=market, last_price=Decimal(price), timestamp=T0)


def order_chance(market: Market = KRW_BTC) -> OrderChance:
    fee = Decimal("0.0025")
    return OrderChance(market=market, bid_fee=fee, ask_fee=fee, maker_bid_fee=fee,
                       maker_ask_fee=fee, min_total=Decimal(5000))


def balance(currency: str, free: str, locked: str = "0", avg: str = "0") -> Balance:
    return Balance(currency=currency, balance=Decimal(free), locked=Decimal(locked),
                   avg_buy_price=Decimal(avg))


def load_minute_candles() -> list[Candle]:
    """The real September 2025 Upbit KRW-BTC minutes, parsed with Decimal (UTC times)."""
    if not MINUTE_CSV.is_file():
        pytest.skip(f"shared data absent: {MINUTE_CSV}")
    with MINUTE_CSV.open(newline="") as handle:
        return [
            Candle(
                start=datetime.fromisoformat(row["timestamp"]).replace(tzinfo=UTC),
                open=Decimal(row["open"]),
                high=Decimal(row["high"]),
                low=Decimal(row["low"]),
                close=Decimal(row["close"]),
                volume=Decimal(row["volume"]),
            )
            for row in csv.DictReader(handle)
        ]


def parse_orderbook(path: Path) -> Orderbook:
    """An orderbook from a ``/v1/orderbook``-shaped file, numbers read as Decimal."""
    entry = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)[0]
    units = entry["orderbook_units"]
    return Orderbook(
        market=Market.parse(entry["market"]),
        timestamp=datetime.fromtimestamp(entry["timestamp"] / 1000, UTC),
        asks=tuple(Level(Decimal(u["ask_price"]), Decimal(u["ask_size"])) for u in units),
        bids=tuple(Level(Decimal(u["bid_price"]), Decimal(u["bid_size"])) for u in units),
    )
