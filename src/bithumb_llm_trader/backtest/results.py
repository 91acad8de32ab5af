"""The result of a backtest: headline figures, the details behind them, and its run row.

The result is printed as JSON and stored as one ``cron_runs`` row (mode ``backtest``)
whose ``result_json`` is the same document, with ``"kind": "backtest"`` so a report
can tell it from the replay's own cycle rows. The cycle rows' run ids all start with
``run_id_prefix``. The row leaves ``total_equity_krw`` empty on purpose: it is stamped
with the time the backtest ran, and an equity there would be read by a live cycle of
the same strategy as the day's first equity (its daily-loss baseline).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from ..domain import ZERO
from ..engine import CycleResult, jsonable
from ..records import RunRecord
from .metrics import DecisionTally, EquityCurve, Exposure, MonthTable, TradeTally
from .trades import CENT, FillPoint, TradeLog, exit_summary, trade_stats

RETURN_STEP = Decimal("0.00000001")
_ERRORS_KEPT = 5


@dataclass(slots=True)
class ReplayCounts:
    """How the replay went: candles, holes in the data, cycles and their outcomes."""

    candles_in_window: int = 0
    warmup_candles: int = 0
    gaps: int = 0
    missing_candles: int = 0
    postponed_decisions: int = 0
    decision_cycles: int = 0
    protective_cycles: int = 0
    failed_cycles: int = 0
    exits: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    refused_orders: dict[str, int] = field(default_factory=dict)  # by the gate's reason

    def record(self, result: CycleResult, *, protective: bool) -> None:
        if protective:
            self.protective_cycles += 1
        else:
            self.decision_cycles += 1
        # Read from the result's parts, not its JSON views: converting them would cost
        # more than the rest of this per cycle.
        trigger = getattr(result.parts.get("decision"), "trigger", None)
        execution = result.parts.get("execution")
        status = getattr(execution, "status", None)
        if trigger and status == "filled":
            self.exits[trigger] = self.exits.get(trigger, 0) + 1
        elif status == "refused":  # the gate's reason leads the error: "max_trade_value: ..."
            error = (getattr(execution, "result_json", None) or {}).get("error") or "refused"
            reason = error.split(":", 1)[0]
            self.refused_orders[reason] = self.refused_orders.get(reason, 0) + 1
        if not result.ok:
            self.failed_cycles += 1
            if len(self.errors) < _ERRORS_KEPT:
                self.errors.append(f"{result.started_at.isoformat()}: {result.error}")


@dataclass(slots=True)
class Figures:
    """The running figures of one replay (see ``metrics``)."""

    curve: EquityCurve
    hold: EquityCurve
    exposure: Exposure
    trades: TradeTally
    decisions: DecisionTally
    log: TradeLog
    months: MonthTable
    counts: ReplayCounts = field(default_factory=ReplayCounts)


@dataclass(frozen=True, slots=True)
class BacktestResult:
    """What ``Backtest.run`` returns; ``to_dict`` is the JSON printed and stored."""

    backtest_id: str
    strategy: str
    market: str
    started_at: datetime  # wall clock, when the backtest ran
    window_start: datetime | None
    window_end: datetime | None
    results: dict[str, Any]
    details: dict[str, Any]
    warnings: tuple[str, ...] = ()
    fills: tuple[FillPoint, ...] = ()  # for the chart; the JSON has the trades

    def to_dict(self) -> dict[str, Any]:
        document: dict[str, Any] = jsonable({
            "kind": "backtest",
            "backtest_id": self.backtest_id,
            "run_id_prefix": self.backtest_id[:10],
            "strategy": self.strategy,
            "market": self.market,
            "ran_at": self.started_at,
            "window": {"start": self.window_start, "end": self.window_end},
            "results": self.results,
            **self.details,
            "warnings": list(self.warnings),
        })
        return document


def headline(figures: Figures) -> dict[str, Any]:
    """The figures asked for first: return, risk, trading, costs, and buy-and-hold."""
    curve, hold, trades = figures.curve, figures.hold, figures.trades
    strategy, passive = curve.risk(), hold.risk()
    return {
        "initial_equity_krw": curve.start,
        "final_equity_krw": curve.last,
        "total_return": _exact_return(curve),
        "max_drawdown": strategy["max_drawdown"],
        "sharpe": strategy["sharpe"],
        "sortino": strategy["sortino"],
        "trades": trades.orders,
        "round_trips": trades.round_trips,
        "win_rate": trades.summary()["win_rate"],
        **figures.exposure.summary(),
        "fees_krw": trades.fees,
        "model_cost_usd": figures.decisions.model_cost_usd,
        "buy_and_hold_return": _exact_return(hold),
        "buy_and_hold_max_drawdown": passive["max_drawdown"],
        "buy_and_hold_sharpe": passive["sharpe"],
        "buy_and_hold_sortino": passive["sortino"],
        "fees_share_of_capital": _share(trades.fees, curve.start),
        "max_drawdown_duration_s": curve.drawdown()["duration_s"],
    }


def research(figures: Figures) -> dict[str, Any]:
    """What a trader reads after the headline: every trade, why each ended, month by
    month, streaks and durations, the drawdown and its duration, costs, and the
    strategy beside buy-and-hold (new keys of the result; the older ones are kept)."""
    rows = figures.log.rows()
    return {
        "trade_list": rows,
        "exit_reasons": exit_summary(rows),
        "trade_stats": trade_stats(rows),
        "monthly": _monthly(figures, rows),
        "drawdown": figures.curve.drawdown(),
        "costs": _costs(figures),
        "comparison": {"strategy": _side(figures.curve, figures.curve.start),
                       "buy_and_hold": _side(figures.hold, figures.curve.start)},
    }


def _side(curve: EquityCurve, capital: Decimal | None) -> dict[str, Any]:
    """One column of the strategy-against-buy-and-hold table; buy-and-hold's final
    equity is the starting capital grown by the price."""
    total = _exact_return(curve)
    drawdown, risk = curve.drawdown(), curve.risk()
    return {
        "return": total,
        "final_equity_krw": None if capital is None or total is None
        else (capital * (1 + total)).quantize(CENT),
        "max_drawdown": drawdown["max_drawdown"],
        "max_drawdown_duration_s": drawdown["duration_s"],
        "sharpe": risk["sharpe"], "sortino": risk["sortino"],
    }


def _costs(figures: Figures) -> dict[str, Any]:
    trades, capital = figures.trades, figures.curve.start
    return {
        "fees_krw": trades.fees,
        "fees_share_of_capital": _share(trades.fees, capital),
        "traded_krw": trades.traded_krw,
        "turnover": _share(trades.traded_krw, capital),
        "fees_per_round_trip_krw": (trades.fees / trades.round_trips).quantize(CENT)
        if trades.round_trips else None,
    }


def _monthly(figures: Figures, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each month (UTC) of the window: equity, return, buy-and-hold, and the trades
    that closed in it with their PnL, and the fees its fills paid."""
    months = [dict(month) for month in figures.months.months]
    by_month = {month["month"]: month for month in months}
    for month in months:
        month.update(trades=0, wins=0, pnl_krw=ZERO, fees_krw=ZERO)
    for row in rows:
        closed = by_month.get(f"{row['exit_at']:%Y-%m}") if row["exit_at"] else None
        if closed is not None:
            closed["trades"] += 1
            closed["wins"] += 1 if row["pnl_krw"] > 0 else 0
            closed["pnl_krw"] += row["pnl_krw"]
    for fill in figures.log.fills:
        paid = by_month.get(f"{fill.at:%Y-%m}")
        if paid is not None:
            paid["fees_krw"] += fill.fee
    return months


def _share(part: Decimal, whole: Decimal | None) -> Decimal | None:
    return None if not whole else (part / whole).quantize(RETURN_STEP)


def summary_run(result: BacktestResult, *, finished_at: datetime,
                status: str = "ok") -> RunRecord:
    """The ``cron_runs`` row that carries a backtest's result (see the module docstring);
    ``status`` is ``interrupted`` for one stopped before the end of its data."""
    return RunRecord(
        run_id=result.backtest_id, strategy=result.strategy, market=result.market,
        mode="backtest", started_at=result.started_at, status=status,
        finished_at=finished_at, result_json=result.to_dict(),
    )


def _exact_return(curve: EquityCurve) -> Decimal | None:
    total = curve.total_return
    return None if total is None else total.quantize(RETURN_STEP)
