"""The backtest's figures, accumulated one candle and one fill at a time.

Nothing here keeps a series: returns, drawdown and the Sharpe and Sortino ratios are
running sums, so memory stays flat however long the replay.

Definitions (all fractions, not percent):

* return per period: equity at a candle's close over equity at the previous close,
  minus one; equity is the paper wallet (KRW and coin, free and locked) at the close.
* max drawdown: the largest fall from a running peak of that equity, at closes.
* Sharpe: mean period return over its sample standard deviation, times the square
  root of periods per year (crypto trades all year: 525,600 one-minute periods);
  no risk-free rate. Sortino: the same mean over the downside deviation, the root of
  the mean of squared negative returns (zero for the others) over all periods.
* exposure: share of candles that closed holding a position worth at least the
  minimum order; ``average_exposure``: mean position value over equity.
* a round trip opens with a buy from flat and closes when what is left is worth less
  than the minimum order (it cannot be sold); its result is sale proceeds after fees
  minus the cost of what was sold including buy fees; win rate counts results above 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from ..domain import ZERO, Side
from ..records import FillRecord, SignalRecord

_YEAR = timedelta(days=365)
_RATIO = 6  # decimals kept for ratios in results
_CENT = Decimal("0.01")  # realised PnL shares costs out pro rata: shown to the 0.01 KRW


def periods_per_year(interval: timedelta) -> float:
    return _YEAR / interval


@dataclass(slots=True)
class EquityCurve:
    """Return, drawdown, Sharpe and Sortino of a value marked once per period."""

    periods_per_year: float
    start: Decimal | None = None
    last: Decimal | None = None
    _previous: float = 0.0
    _peak: float = 0.0
    _max_drawdown: float = 0.0
    _count: int = 0
    _mean: float = 0.0
    _m2: float = 0.0
    _downside: float = 0.0

    def begin(self, value: Decimal) -> None:
        """Set the starting value (before the first period's return)."""
        self.start = self.last = value
        self._previous = self._peak = float(value)

    def mark(self, value: Decimal) -> None:
        # Called twice per candle (strategy and buy-and-hold): locals, not attributes.
        if self.start is None:
            self.begin(value)
            return
        self.last = value
        current, previous = float(value), self._previous
        period = current / previous - 1.0 if previous > 0 else 0.0
        self._previous = current
        self._count = count = self._count + 1
        mean = self._mean
        delta = period - mean
        self._mean = mean = mean + delta / count
        self._m2 += delta * (period - mean)
        if period < 0:
            self._downside += period * period
        peak = self._peak
        if current > peak:
            self._peak = current
        elif peak > 0:
            drawdown = 1.0 - current / peak
            if drawdown > self._max_drawdown:
                self._max_drawdown = drawdown

    @property
    def total_return(self) -> Decimal | None:
        if self.start is None or self.last is None or self.start == 0:
            return None
        return self.last / self.start - 1

    @property
    def max_drawdown(self) -> float:
        return self._max_drawdown

    @property
    def sharpe(self) -> float | None:
        if self._count < 2 or self._m2 <= 0:
            return None
        std = math.sqrt(self._m2 / (self._count - 1))
        return self._mean / std * math.sqrt(self.periods_per_year)

    @property
    def sortino(self) -> float | None:
        if self._count < 1 or self._downside <= 0:
            return None
        downside = math.sqrt(self._downside / self._count)
        return self._mean / downside * math.sqrt(self.periods_per_year)

    def risk(self) -> dict[str, Any]:
        """Drawdown, Sharpe and Sortino, rounded for results (the return is exact)."""
        return {"max_drawdown": _ratio(self.max_drawdown), "sharpe": _ratio(self.sharpe),
                "sortino": _ratio(self.sortino)}


@dataclass(slots=True)
class Exposure:
    candles: int = 0
    exposed: int = 0
    _value_share: float = 0.0

    def mark(self, position_value: Decimal, equity: Decimal, min_order: Decimal) -> None:
        self.candles += 1
        if not position_value:
            return
        if position_value >= min_order:
            self.exposed += 1
        if equity > 0:
            self._value_share += float(position_value) / float(equity)

    def summary(self) -> dict[str, Any]:
        if not self.candles:
            return {"exposure": None, "average_exposure": None}
        return {"exposure": _ratio(self.exposed / self.candles),
                "average_exposure": _ratio(self._value_share / self.candles)}


@dataclass(slots=True)
class TradeTally:
    """Orders, fees and round trips, from the fills as they happen."""

    min_order_krw: Decimal
    orders: int = 0
    buy_orders: int = 0
    sell_orders: int = 0
    fills: int = 0
    fees: Decimal = ZERO
    traded_krw: Decimal = ZERO
    round_trips: int = 0
    wins: int = 0
    realized_pnl: Decimal = ZERO
    _last_order: str | None = None
    _size: Decimal = ZERO
    _cost: Decimal = ZERO
    _trip_open: bool = False
    _trip_pnl: Decimal = ZERO

    def on_fill(self, fill: FillRecord) -> None:
        self.fills += 1
        self.fees += fill.fee
        self.traded_krw += fill.funds
        if fill.client_order_id != self._last_order:
            self._last_order = fill.client_order_id
            self.orders += 1
            if fill.side == Side.BUY.value:
                self.buy_orders += 1
            else:
                self.sell_orders += 1
        if fill.side == Side.BUY.value:
            self._buy(fill)
        else:
            self._sell(fill)

    def _buy(self, fill: FillRecord) -> None:
        if not self._trip_open:
            self._trip_open, self._trip_pnl = True, ZERO
        self._size += fill.volume
        self._cost += fill.funds + fill.fee

    def _sell(self, fill: FillRecord) -> None:
        if self._size <= 0:
            return
        sold = min(fill.volume, self._size)
        cost = self._cost * sold / self._size
        self._trip_pnl += fill.funds - fill.fee - cost
        self._cost -= cost
        self._size -= sold
        if self._trip_open and self._size * fill.price < self.min_order_krw:
            self.round_trips += 1
            self.wins += 1 if self._trip_pnl > 0 else 0
            self.realized_pnl += self._trip_pnl
            self._trip_open = False

    def summary(self) -> dict[str, Any]:
        return {
            "orders_filled": self.orders, "buy_orders": self.buy_orders,
            "sell_orders": self.sell_orders, "fills": self.fills,
            "fees_krw": self.fees, "traded_krw": self.traded_krw,
            "round_trips": self.round_trips, "winning_round_trips": self.wins,
            "win_rate": _ratio(self.wins / self.round_trips) if self.round_trips else None,
            "realized_pnl_krw": self.realized_pnl.quantize(_CENT),
        }


@dataclass(slots=True)
class DecisionTally:
    """What the decider was asked and what it cost (``model``: a language model, whose
    requests are counted; the rules make none)."""

    model: bool = False
    decisions: int = 0
    actions: dict[str, int] = field(default_factory=dict)
    model_cost_usd: Decimal = ZERO
    model_requests: int = 0
    cached: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def on_signal(self, signal: SignalRecord) -> None:
        self.decisions += 1
        self.actions[signal.action] = self.actions.get(signal.action, 0) + 1
        self.model_cost_usd += signal.cost_usd or ZERO
        self.model_requests += signal.attempts if self.model and not signal.cached else 0
        self.cached += 1 if signal.cached else 0
        self.prompt_tokens += signal.prompt_tokens
        self.completion_tokens += signal.completion_tokens

    def summary(self) -> dict[str, Any]:
        return {
            "decisions": self.decisions, "actions": dict(sorted(self.actions.items())),
            "model_cost_usd": self.model_cost_usd, "model_requests": self.model_requests,
            "cached_decisions": self.cached, "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
        }


def _ratio(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return round(value, _RATIO)
