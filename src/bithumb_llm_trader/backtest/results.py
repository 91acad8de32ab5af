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

from ..engine import CycleResult, jsonable
from ..records import RunRecord
from .metrics import DecisionTally, EquityCurve, Exposure, TradeTally

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

    def record(self, result: CycleResult, *, protective: bool) -> None:
        if protective:
            self.protective_cycles += 1
        else:
            self.decision_cycles += 1
        # Read from the result's parts, not its JSON views: converting them would cost
        # more than the rest of this per cycle.
        trigger = getattr(result.parts.get("decision"), "trigger", None)
        execution = result.parts.get("execution")
        if trigger and getattr(execution, "status", None) == "filled":
            self.exits[trigger] = self.exits.get(trigger, 0) + 1
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
    }


def summary_run(result: BacktestResult, *, finished_at: datetime) -> RunRecord:
    """The ``cron_runs`` row that carries a backtest's result (see the module docstring)."""
    return RunRecord(
        run_id=result.backtest_id, strategy=result.strategy, market=result.market,
        mode="backtest", started_at=result.started_at, status="ok",
        finished_at=finished_at, result_json=result.to_dict(),
    )


def _exact_return(curve: EquityCurve) -> Decimal | None:
    total = curve.total_return
    return None if total is None else total.quantize(RETURN_STEP)
