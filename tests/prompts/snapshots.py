"""Hand-built, realistic snapshots for prompt and decider tests (no market code needed)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal

from bithumb_llm_trader.domain import (
    UTC,
    Candle,
    Level,
    Market,
    Orderbook,
    OrderChance,
    Position,
    Ticker,
)
from bithumb_llm_trader.market.model import (
    AccountView,
    BookSummary,
    CandleFeatures,
    Holding,
    MarketSnapshot,
)

MARKET = Market(quote="KRW", base="BTC")
TAKEN_AT = datetime(2025, 9, 30, 12, 0, tzinfo=UTC)

WARM_FEATURES = CandleFeatures(
    count=200,
    close=150_803_000.0,
    return_1=0.00123,
    return_4=-0.00412,
    return_24=0.01874,
    volatility=0.00231,
    atr=412_345.6,
    atr_pct=0.002734,
    rsi=56.78,
    sma_fast=150_512_345.2,
    sma_slow=149_987_654.3,
    ema_fast=150_634_211.9,
    ema_slow=150_101_998.4,
    macd=532_213.5,
    macd_signal=401_122.7,
    macd_hist=131_090.8,
    volume_change=0.2345,
)


def candles(count: int = 200, start_price: int = 149_000_000) -> tuple[Candle, ...]:
    """15-minute candles drifting up with realistic BTC/KRW prices and volumes."""
    rows = []
    price = Decimal(start_price)
    first = TAKEN_AT - timedelta(minutes=15 * count)
    for index in range(count):
        step = Decimal((index * 7919) % 401 - 180) * 1000
        open_ = price
        close = price + step
        high = max(open_, close) + Decimal(123_000)
        low = min(open_, close) - Decimal(98_000)
        volume = Decimal("12.34567891") + Decimal(index % 17) / Decimal(3)
        rows.append(
            Candle(first + timedelta(minutes=15 * index), open_, high, low, close,
                   volume.quantize(Decimal("0.00000001")))
        )
        price = close
    return tuple(rows)


def snapshot(
    *,
    features: CandleFeatures = WARM_FEATURES,
    position_size: Decimal = Decimal("0.01234567"),
    last_price: Decimal = Decimal(150_803_000),
) -> MarketSnapshot:
    """A full snapshot of KRW-BTC with a small position, cash and a 10-level book."""
    position = Position(MARKET, position_size, Decimal(149_123_000))
    bids = tuple(Level(last_price - 1000 * (i + 1), Decimal("0.1") * (i + 1)) for i in range(10))
    asks = tuple(Level(last_price + 1000 * i, Decimal("0.08") * (i + 1)) for i in range(10))
    book = Orderbook(MARKET, TAKEN_AT, asks=asks, bids=bids)
    cash = Decimal(2_345_678)
    equity = cash + position_size * last_price
    account = AccountView(
        holdings=(
            Holding("KRW", cash, Decimal(0), Decimal(0), Decimal(1), cash),
            Holding("BTC", position_size, Decimal(0), position.avg_price, last_price,
                    position_size * last_price),
        ),
        cash_krw=cash,
        locked_krw=Decimal(0),
        equity_krw=equity,
        reserved_pool_krw=(equity * Decimal("0.2")).quantize(Decimal(1)),
        position=position,
    )
    return MarketSnapshot(
        market=MARKET,
        taken_at=TAKEN_AT,
        ticker=Ticker(MARKET, last_price, TAKEN_AT, change_rate=Decimal("0.01234")),
        orderbook=book,
        candles=candles(),
        features=features,
        book=BookSummary(
            best_bid=bids[0].price,
            best_ask=asks[0].price,
            mid=(bids[0].price + asks[0].price) / 2,
            spread_bps=Decimal("0.66"),
            imbalance=Decimal("0.1234"),
            bid_depth_krw=Decimal("823456789.5"),
            ask_depth_krw=Decimal("654321987.25"),
            levels=10,
            depth_bps=Decimal(50),
        ),
        account=account,
        order_chance=OrderChance(
            market=MARKET,
            bid_fee=Decimal("0.0025"),
            ask_fee=Decimal("0.0025"),
            maker_bid_fee=Decimal("0.0025"),
            maker_ask_fee=Decimal("0.0025"),
            min_total=Decimal(5000),
        ),
    )


def flat(snap: MarketSnapshot) -> MarketSnapshot:
    """The same snapshot with no position."""
    position = Position(MARKET, Decimal(0), Decimal(0))
    return replace(snap, account=replace(snap.account, position=position))
