"""What a cycle knows about the market and the account at one instant.

Prices, sizes and money are ``Decimal``. Indicator values (RSI, EMA, volatility) are
floats: they are statistical estimates, never amounts of money, and the backtest
computes hundreds of thousands of them. Anything that becomes a price is converted to
``Decimal`` and rounded to the exchange tick where it is used.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal

from ..domain import Candle, Market, Orderbook, OrderChance, Position, Ticker
from ..fast_init import fast_init


@fast_init
@dataclass(frozen=True, slots=True)
class CandleFeatures:
    """Indicators over the candles up to the snapshot time; ``None`` until warmed up.

    Returns are fractions over N candles; ``volatility`` is the standard deviation of
    one-candle log returns over the slow window; ``atr`` is in KRW per unit, ``atr_pct``
    the same as a fraction of the close; ``volume_change`` is the last candle's volume
    over the mean of the slow window before it, minus one.
    """

    count: int
    close: float | None = None
    return_1: float | None = None
    return_4: float | None = None
    return_24: float | None = None
    volatility: float | None = None
    atr: float | None = None
    atr_pct: float | None = None
    rsi: float | None = None
    sma_fast: float | None = None
    sma_slow: float | None = None
    ema_fast: float | None = None
    ema_slow: float | None = None
    macd: float | None = None
    macd_signal: float | None = None
    macd_hist: float | None = None
    volume_change: float | None = None

    def as_dict(self) -> dict[str, float | int | None]:
        # Every field is a number or None: a flat copy, without asdict's deep copying
        # (called for every cycle's record, tens of thousands of times in a backtest).
        return {name: getattr(self, name) for name in _FEATURE_NAMES}


_FEATURE_NAMES = tuple(f.name for f in fields(CandleFeatures))


@fast_init
@dataclass(frozen=True, slots=True)
class BookSummary:
    """The orderbook in a few numbers.

    ``imbalance`` is (bid size - ask size) / (bid size + ask size) over the top
    ``levels`` levels, in [-1, 1]; depths are the KRW value resting within
    ``depth_bps`` of the mid price on each side.
    """

    best_bid: Decimal
    best_ask: Decimal
    mid: Decimal
    spread_bps: Decimal
    imbalance: Decimal
    bid_depth_krw: Decimal
    ask_depth_krw: Decimal
    levels: int
    depth_bps: Decimal


@fast_init
@dataclass(frozen=True, slots=True)
class Holding:
    """One balance valued in KRW; ``price_krw`` is None when no KRW market exists."""

    currency: str
    size: Decimal  # free + locked
    locked: Decimal
    avg_buy_price: Decimal
    price_krw: Decimal | None
    value_krw: Decimal | None


@fast_init
@dataclass(frozen=True, slots=True)
class AccountView:
    """Balances, the traded position and total equity, all in KRW.

    ``cash_krw`` is free KRW; ``reserved_pool_krw`` is the share of equity allocation
    may never spend; ``unpriced`` lists coins left out of equity (no KRW market).
    """

    holdings: tuple[Holding, ...]
    cash_krw: Decimal
    locked_krw: Decimal
    equity_krw: Decimal
    reserved_pool_krw: Decimal
    position: Position
    unpriced: tuple[str, ...] = ()

    @property
    def spendable_krw(self) -> Decimal:
        """Free cash that may be used without touching the reserved pool."""
        return max(self.cash_krw - self.reserved_pool_krw, Decimal(0))


@fast_init
@dataclass(frozen=True, slots=True)
class MarketSnapshot:
    """Everything one decision is based on, taken at ``taken_at`` (UTC)."""

    market: Market
    taken_at: datetime
    ticker: Ticker
    orderbook: Orderbook
    candles: tuple[Candle, ...]
    features: CandleFeatures
    book: BookSummary
    account: AccountView
    order_chance: OrderChance

    @property
    def last_price(self) -> Decimal:
        return self.ticker.last_price

    @property
    def position(self) -> Position:
        return self.account.position
