"""The backtest's trades, one row per round trip, built from the fills as they happen.

A trade opens with a buy from flat and closes when what is left is worth less than the
minimum order (the same rule as ``metrics.TradeTally``, so the two always agree):

* entry and exit price: the volume-weighted fill prices of its buys and of its sells;
* ``cost_krw``: what the buys paid, fees included; ``proceeds_krw``: what the sells
  brought, fees deducted; ``pnl_krw`` their difference, ``pnl_pct`` over the cost
  (a fraction, like every ``*_pct`` of the project: 0.01 is 1 %);
* ``fees_krw``: every fee the trade's fills paid;
* ``exit_reason``: ``stop_loss`` or ``take_profit`` (the guard sold it), ``halted`` (sold
  while trading was halted or reducing), ``signal`` (the decider sold), or
  ``end_of_data``: still open when the data ended, valued at the last close with no
  sale and so no exit fee (it is not counted in ``round_trips``);
* ``stop_loss_price`` / ``take_profit_price``: the guard set when it was bought.

Money stays ``Decimal``: PnL to 0.01 KRW, ratios to 1e-8.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from ..domain import ZERO, Side
from ..records import FillRecord, PositionGuardRecord

CENT = Decimal("0.01")
RATIO_STEP = Decimal("0.00000001")
EXIT_REASONS = ("signal", "stop_loss", "take_profit", "end_of_data", "halted")
TRADE_COLUMNS = (
    "number", "entry_at", "exit_at", "entry_price", "exit_price", "volume", "cost_krw",
    "proceeds_krw", "pnl_krw", "pnl_pct", "fees_krw", "duration_s", "exit_reason",
    "stop_loss_price", "take_profit_price", "buy_fills", "sell_fills",
)
"""The columns of a trade row, in the order of the CSV export."""


@dataclass(frozen=True, slots=True)
class FillPoint:
    """One fill as the trade table and the chart need it."""

    at: datetime
    side: str  # "bid" (buy) or "ask" (sell)
    price: Decimal
    volume: Decimal
    funds: Decimal
    fee: Decimal


@dataclass(slots=True)
class Trade:
    """One round trip (see the module docstring)."""

    number: int
    entry_at: datetime
    bought: Decimal = ZERO
    paid: Decimal = ZERO  # buy funds, fees excluded
    sold: Decimal = ZERO
    received: Decimal = ZERO  # sell funds, fees excluded
    fees: Decimal = ZERO
    buy_fees: Decimal = ZERO
    pnl: Decimal = ZERO
    exit_at: datetime | None = None
    exit_reason: str | None = None
    stop_loss_price: Decimal | None = None
    take_profit_price: Decimal | None = None
    buy_fills: int = 0
    sell_fills: int = 0
    guarded: bool = False

    def row(self) -> dict[str, Any]:
        """The trade as one row of the table (JSON-ready apart from Decimals and times)."""
        spent = self.paid + self.buy_fees
        return {
            "number": self.number,
            "entry_at": self.entry_at,
            "exit_at": self.exit_at,
            "entry_price": _average(self.paid, self.bought),
            "exit_price": _average(self.received, self.sold),
            "volume": self.bought,
            "cost_krw": spent,
            "proceeds_krw": self.received - (self.fees - self.buy_fees),
            "pnl_krw": self.pnl.quantize(CENT),
            "pnl_pct": (self.pnl / spent).quantize(RATIO_STEP) if spent else None,
            "fees_krw": self.fees,
            "duration_s": None if self.exit_at is None else int(
                (self.exit_at - self.entry_at).total_seconds()),
            "exit_reason": self.exit_reason,
            "stop_loss_price": self.stop_loss_price,
            "take_profit_price": self.take_profit_price,
            "buy_fills": self.buy_fills,
            "sell_fills": self.sell_fills,
        }


@dataclass(slots=True)
class TradeLog:
    """Trades and fills of one replay, fed by ``on_fill`` and ``after_cycle``."""

    min_order_krw: Decimal
    trades: list[Trade] = field(default_factory=list)
    fills: list[FillPoint] = field(default_factory=list)
    _open: Trade | None = None
    _size: Decimal = ZERO
    _cost: Decimal = ZERO
    _unexplained: list[Trade] = field(default_factory=list)

    @property
    def open_trade(self) -> Trade | None:
        return self._open

    @property
    def closed_in_cycle(self) -> bool:
        """Whether a trade closed since the last ``after_cycle`` (it awaits its reason)."""
        return bool(self._unexplained)

    def on_fill(self, fill: FillRecord) -> None:
        self.fills.append(FillPoint(fill.created_at, fill.side, fill.price, fill.volume,
                                    fill.funds, fill.fee))
        if fill.side == Side.BUY.value:
            self._buy(fill)
        else:
            self._sell(fill)

    def _buy(self, fill: FillRecord) -> None:
        trade = self._open
        if trade is None:
            trade = self._open = Trade(number=len(self.trades) + 1, entry_at=fill.created_at)
            self.trades.append(trade)
        trade.bought += fill.volume
        trade.paid += fill.funds
        trade.fees += fill.fee
        trade.buy_fees += fill.fee
        trade.buy_fills += 1
        self._size += fill.volume
        self._cost += fill.funds + fill.fee

    def _sell(self, fill: FillRecord) -> None:
        trade = self._open
        if self._size <= 0 or trade is None:
            return
        sold = min(fill.volume, self._size)
        cost = self._cost * sold / self._size
        trade.pnl += fill.funds - fill.fee - cost
        trade.sold += fill.volume
        trade.received += fill.funds
        trade.fees += fill.fee
        trade.sell_fills += 1
        self._cost -= cost
        self._size -= sold
        if self._size * fill.price < self.min_order_krw:
            trade.exit_at = fill.created_at
            self._open = None
            self._unexplained.append(trade)

    def needs_guard(self) -> bool:
        """Whether the open trade has not yet been given its stop and target."""
        return self._open is not None and not self._open.guarded

    def set_guard(self, guard: PositionGuardRecord | None) -> None:
        trade = self._open
        if trade is None or guard is None:
            return
        trade.stop_loss_price = guard.stop_loss_price
        trade.take_profit_price = guard.take_profit_price
        trade.guarded = True

    def after_cycle(self, reason: str) -> None:
        """Give the trades the cycle just closed their exit reason."""
        if self._unexplained:
            for trade in self._unexplained:
                trade.exit_reason = reason
            self._unexplained.clear()

    def finish(self, at: datetime | None, price: Decimal | None) -> None:
        """Value a trade still open at the end of the data at the last close."""
        trade = self._open
        if trade is None or at is None or price is None:
            return
        value = self._size * price
        trade.pnl += value - self._cost
        trade.sold += self._size
        trade.received += value
        trade.exit_at, trade.exit_reason = at, "end_of_data"
        self._open = None

    def rows(self) -> list[dict[str, Any]]:
        return [trade.row() for trade in self.trades]


def exit_reason(trigger: str | None, trading_state: str | None) -> str:
    """Why a cycle's sell happened: the guard's trigger, a halt, else the decider."""
    if trigger:
        return trigger
    if trading_state in ("halted", "reducing"):
        return "halted"
    return "signal"


def exit_summary(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per exit reason: trades, wins, total and average PnL, average duration."""
    summary: dict[str, dict[str, Any]] = {}
    for reason in EXIT_REASONS:
        chosen = [row for row in rows if row["exit_reason"] == reason]
        if not chosen:
            continue
        pnl = sum((row["pnl_krw"] for row in chosen), ZERO)
        ratios = [row["pnl_pct"] for row in chosen if row["pnl_pct"] is not None]
        summary[reason] = {
            "trades": len(chosen),
            "wins": sum(1 for row in chosen if row["pnl_krw"] > 0),
            "pnl_krw": pnl,
            "average_pnl_pct": (sum(ratios, ZERO) / len(ratios)).quantize(RATIO_STEP)
            if ratios else None,
            "average_duration_s": _mean([row["duration_s"] for row in chosen]),
        }
    return summary


def trade_stats(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Durations and win/loss streaks over the trades in order."""
    closed = [row for row in rows if row["duration_s"] is not None]
    wins = [row for row in closed if row["pnl_krw"] > 0]
    losses = [row for row in closed if row["pnl_krw"] <= 0]
    best = max((row["pnl_krw"] for row in closed), default=None)
    worst = min((row["pnl_krw"] for row in closed), default=None)
    return {
        "trades": len(closed),
        "wins": len(wins),
        "losses": len(losses),
        "average_duration_s": _mean([row["duration_s"] for row in closed]),
        "median_duration_s": _median([row["duration_s"] for row in closed]),
        "min_duration_s": min((row["duration_s"] for row in closed), default=None),
        "max_duration_s": max((row["duration_s"] for row in closed), default=None),
        "average_win_duration_s": _mean([row["duration_s"] for row in wins]),
        "average_loss_duration_s": _mean([row["duration_s"] for row in losses]),
        "best_trade_krw": best,
        "worst_trade_krw": worst,
        **_streaks([row["pnl_krw"] > 0 for row in closed]),
    }


def _streaks(outcomes: list[bool]) -> dict[str, int]:
    longest = {True: 0, False: 0}
    run, previous = 0, None
    for won in outcomes:
        run = run + 1 if won == previous else 1
        previous = won
        longest[won] = max(longest[won], run)
    return {"max_win_streak": longest[True], "max_loss_streak": longest[False],
            "current_streak": run if previous else -run}


def _average(funds: Decimal, volume: Decimal) -> Decimal | None:
    if not volume:
        return None
    return (funds / volume).quantize(CENT)


def _mean(values: list[int]) -> int | None:
    return round(statistics.fmean(values)) if values else None


def _median(values: list[int]) -> int | None:
    return round(statistics.median(values)) if values else None
