"""Small hand-built orderbooks and snapshots for the core tests."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

from bithumb_llm_trader.domain import Level, Market, Orderbook

D = Decimal
KRW_BTC = Market.parse("KRW-BTC")
T0 = datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)


def book(
    asks: list[tuple[str, str]], bids: list[tuple[str, str]], market: Market = KRW_BTC
) -> Orderbook:
    return Orderbook(
        market=market,
        timestamp=T0,
        asks=tuple(Level(D(p), D(s)) for p, s in asks),
        bids=tuple(Level(D(p), D(s)) for p, s in bids),
    )


def btc_book() -> Orderbook:
    """Best ask 100,000,000, best bid 99,990,000; sizes grow away from the touch."""
    return book(
        asks=[("100000000", "0.001"), ("100010000", "0.002"), ("100050000", "0.01"),
              ("100400000", "1")],
        bids=[("99990000", "0.001"), ("99980000", "0.002"), ("99950000", "0.01"),
              ("99600000", "1")],
    )


def snapshot(
    *,
    krw: str = "1000000",
    btc: str = "0",
    btc_avg: str = "0",
    last: str = "100000000",
    orderbook: Orderbook | None = None,
    config: object | None = None,
    min_total: str = "5000",
):
    """A snapshot built with the real pure builder, from a few numbers."""
    from bithumb_llm_trader.config import StrategyConfig
    from bithumb_llm_trader.domain import Balance, Candle, OrderChance, Ticker
    from bithumb_llm_trader.market.snapshot import snapshot_from_parts

    cfg = config if isinstance(config, StrategyConfig) else StrategyConfig()
    price = D(last)
    fee = D("0.0025")
    balances = [Balance("KRW", D(krw))]
    if D(btc) > 0:
        balances.append(Balance("BTC", D(btc), avg_buy_price=D(btc_avg)))
    candles = [
        Candle(start=T0.replace(hour=0, minute=i), open=price, high=price, low=price,
               close=price, volume=D(1))
        for i in range(30)
    ]
    return snapshot_from_parts(
        cfg,
        taken_at=T0,
        ticker=Ticker(market=KRW_BTC, last_price=price, timestamp=T0),
        orderbook=orderbook or btc_book(),
        candles=candles,
        balances=balances,
        order_chance=OrderChance(market=KRW_BTC, bid_fee=fee, ask_fee=fee, maker_bid_fee=fee,
                                 maker_ask_fee=fee, min_total=D(min_total)),
    )
