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
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from ..domain import ZERO, Side
from ..records import FillRecord, SignalRecord

_YEAR = timedelta(days=365)
_RATIO = 6  # decimals kept for ratios in results
_CENT = Decimal("0.01")  # realised PnL shares costs out pro rata: shown to the 0.01 KRW
_NEVER = datetime.max.replace(tzinfo=timezone.utc)


def periods_per_year(interval: timedelta) -> float:
    return _YEAR / interval


@dataclass(slots=True)
class EquityCurve:
    """Return, drawdown (and when), Sharpe and Sortino of a value marked once per period.

    The drawdown's times are closes: ``peak`` is the last close at the running high
    before the largest fall, ``trough`` its lowest close, ``recovered`` the first close
    back at that high (None: not by the end).
    """

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
    _peak_at: datetime | None = None
    _last_at: datetime | None = None
    _drawdown_at: tuple[datetime | None, datetime | None] = (None, None)
    _recovered_at: datetime | None = None
    _underwater: bool = False

    def begin(self, value: Decimal, at: datetime | None = None) -> None:
        """Set the starting value (before the first period's return)."""
        self.start = self.last = value
        self._previous = self._peak = float(value)
        self._peak_at = self._last_at = at

    def mark(self, value: Decimal, at: datetime | None = None) -> None:
        # Called twice per candle (strategy and buy-and-hold): locals, not attributes.
        if value is self.last and self.start is not None:
            # The same Decimal again (a flat wallet: most candles): a zero return, and
            # no float() of a Decimal, the dearest step.
            current, period = self._previous, 0.0
        elif self.start is None:
            self.begin(value, at)
            return
        else:
            previous = self._previous
            current = float(value)
            self.last = value
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
        if current >= peak:
            self._peak, self._peak_at = current, at
            if self._underwater:
                self._underwater, self._recovered_at = False, at
        elif peak > 0:
            drawdown = 1.0 - current / peak
            if drawdown > self._max_drawdown:
                self._max_drawdown = drawdown
                self._drawdown_at = (self._peak_at, at)
                self._underwater, self._recovered_at = True, None

    def end_at(self, at: datetime | None) -> None:
        """The last close marked: where a drawdown never recovered ends (set once at the
        end rather than at every mark, which runs for every candle)."""
        self._last_at = at

    def drawdown(self) -> dict[str, Any]:
        """The largest drawdown, when it began, bottomed and recovered, and how long it
        lasted (peak to recovery, or to the last close when it never recovered)."""
        peak, trough = self._drawdown_at
        if peak is None or trough is None:
            return {"max_drawdown": _ratio(self.max_drawdown), "peak_at": None,
                    "trough_at": None, "recovered_at": None, "duration_s": None,
                    "peak_to_trough_s": None}
        end = self._recovered_at or self._last_at or trough
        return {"max_drawdown": _ratio(self.max_drawdown), "peak_at": peak,
                "trough_at": trough, "recovered_at": self._recovered_at,
                "duration_s": int((end - peak).total_seconds()),
                "peak_to_trough_s": int((trough - peak).total_seconds())}

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


@dataclass(slots=True)
class MonthTable:
    """Equity and the buy-and-hold price at each month's first and last close (UTC).

    ``roll`` is called by the replay for the first close past ``next_start``, before
    that close is marked, with the values at the month's last close.
    """

    months: list[dict[str, Any]] = field(default_factory=list)
    next_start: datetime = field(default_factory=lambda: _NEVER)
    _opened: tuple[datetime, Decimal | None, Decimal | None] | None = None

    def begin(self, at: datetime, equity: Decimal | None, price: Decimal | None) -> None:
        self._opened = (at, equity, price)
        self.next_start = month_after(at)

    def roll(self, close: datetime, equity: Decimal | None, price: Decimal | None) -> None:
        """Close the month that ended before ``close``; the next one opens where it closed."""
        self.close(equity, price)
        self._opened = (close, equity, price)
        self.next_start = month_after(close - timedelta(microseconds=1))

    def close(self, equity: Decimal | None, price: Decimal | None) -> None:
        if self._opened is None:
            return
        at, start_equity, start_price = self._opened
        self.months.append({
            "month": f"{at:%Y-%m}", "start_equity_krw": start_equity,
            "end_equity_krw": equity, "return": _change(start_equity, equity),
            "buy_and_hold_return": _change(start_price, price),
        })
        self._opened = None


def month_after(moment: datetime) -> datetime:
    """The first instant of the month after the one ``moment`` (minus a hair) is in."""
    year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
    return moment.replace(year=year, month=month, day=1, hour=0, minute=0, second=0,
                          microsecond=0)


def _change(start: Decimal | None, end: Decimal | None) -> Decimal | None:
    if start is None or end is None or not start:
        return None
    return (end / start - 1).quantize(Decimal("0.00000001"))
