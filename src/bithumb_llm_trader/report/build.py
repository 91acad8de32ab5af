"""``build_report``: one consistent read of the database, then pure arithmetic.

All queries run inside one transaction, so a trader writing while the report reads
cannot make the sections disagree (a fill counted in fees but not in PnL). Each mode
(dry, live, backtest) is read on its own: paper, live and backtest rows are different
accounts, and one equity curve through all three would show a drawdown that never
happened. Within a mode the rows are fetched once and split by strategy in Python; each
strategy's section and the mode's total are computed by the same functions from the
same rows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError

from ..errors import StoreError
from ..store.connect import store_error
from . import queries as q
from . import sections as sec
from .backtests import REQUESTED, resolve, unrecorded_choices
from .ledger import (
    PricePoint,
    StrategyPnl,
    fifo_pnl,
    latest_prices,
    pnl_summary,
    total_equity,
)
from .model import MODES, BacktestChoice, ChartData, EquitySummary, ModeReport, Report, Section
from .queries import BACKTEST, Row
from .source import ReportSource
from .stats import equity_summary


@dataclass(frozen=True, slots=True)
class _Rows:
    """Every row the report needs; the strategy is the first column of each list."""

    runs: list[Row]
    signals: list[Row]
    risk: list[Row]
    allocations: list[Row]
    executions: list[Row]
    orders: list[Row]
    fills: list[Row]
    singles: list[Row]
    twaps: list[Row]
    run_scan: list[Row]
    twap_references: Mapping[str, Decimal]
    last_prices: Mapping[tuple[str, str], PricePoint]

    def only(self, strategy: str) -> _Rows:
        """The rows of one strategy, for its section (scans keep their order)."""
        return self._keep(lambda name: name == strategy)

    def without(self, strategies: frozenset[str]) -> _Rows:
        """The rows of every strategy but ``strategies``."""
        return self._keep(lambda name: name not in strategies)

    def _keep(self, wanted: Any) -> _Rows:
        kept = {name: [row for row in getattr(self, name) if wanted(row[0])]
                for name in _PER_SECTION}
        return replace(self, **cast(dict[str, Any], kept))


_PER_SECTION = ("runs", "signals", "risk", "allocations", "executions", "orders", "fills",
                "singles", "twaps")
"""The row lists ``_section`` reads; equity and PnL are split by strategy on their own."""


def build_report(source: ReportSource, scope: q.Scope, *, now: datetime) -> Report:
    """Read the report for ``scope`` from ``source``, one set of sections per mode.

    Raises:
        StoreError: the database has no runs at all, a requested strategy or backtest
            is unknown, or reading fails.
    """
    try:
        with source.snapshot() as conn, conn.begin():
            known = [row[0] for row in conn.execute(q.strategies_stmt())]
            check_strategies(known, scope, source.label)
            scope, choices = resolve(conn, scope, source.label)
            run_scan = q.scan(conn, q.runs_scan_stmt(scope))
            twap_modes = [row[0] for row in conn.execute(q.twap_modes_stmt(scope))]
            modes = scope.modes or present_modes([row[1] for row in run_scan], twap_modes)
            fetched = {
                mode: _fetch(conn, replace(scope, modes=(mode,)), source.dialect_name,
                             [row for row in run_scan if row[1] == mode])
                for mode in modes
            }
            portfolios = frozenset(row[0] for row in conn.execute(q.portfolios_stmt()))
    except SQLAlchemyError as exc:
        raise store_error(exc, source.label, "reading a report from", source.engine.url) from exc
    by_mode: dict[str, ModeReport] = {}
    slippage: dict[str, tuple[Decimal, ...]] = {}
    for mode, rows in fetched.items():
        by_mode[mode], slippage[mode] = _mode_report(rows, scope.strategies, portfolios)
    names = scope.strategies or tuple(sorted({name for part in by_mode.values()
                                              for name in part.strategies}))
    return Report(database=source.label, generated_at=now, period=scope.period,
                  strategies=tuple(names), by_mode=by_mode,
                  backtests=_backtests(by_mode.get(BACKTEST), choices),
                  chart=ChartData(slippage_bps=slippage))


def present_modes(*found: Sequence[str]) -> tuple[str, ...]:
    """The modes of ``found`` rows, in ``MODES`` order (any other after, by name)."""
    seen = {mode for rows in found for mode in rows}
    return (*(mode for mode in MODES if mode in seen), *sorted(seen - set(MODES)))


def _mode_report(
    rows: _Rows, wanted: Sequence[str], portfolios: frozenset[str]
) -> tuple[ModeReport, tuple[Decimal, ...]]:
    """One mode's sections, and its slippage against arrival for the chart."""
    present = {row[0] for row in [*rows.runs, *rows.twaps]}
    names = [name for name in wanted if name in present] if wanted else sorted(present)
    pnl = fifo_pnl(rows.fills, rows.last_prices)
    curves = _equity_curves(rows.run_scan)
    by_strategy = {
        name: _section(rows.only(name), [name], pnl, equity_summary(curves.get(name, [])))
        for name in names
    }
    # A portfolio's own rows (its runs, its netted orders) repeat what its members
    # recorded as their shares: shown under its name, left out of the total.
    members = [name for name in names if name not in portfolios]
    member_rows = rows.without(portfolios)
    equity = total_equity([by_strategy[name].equity for name in members])
    values = sec.slippage_values(member_rows.singles, member_rows.twaps, rows.twap_references)
    total = _section(member_rows, members, pnl, equity, values)
    chart = (*values["single_vs_arrival"], *values["twap_vs_arrival"])
    return ModeReport(strategies=tuple(names), total=total, by_strategy=by_strategy), chart


def _backtests(
    backtest: ModeReport | None, choices: dict[str, BacktestChoice]
) -> dict[str, BacktestChoice]:
    """The choice behind each strategy's backtest figures (a requested backtest is
    named even when it has no rows in the period)."""
    if backtest is None:
        return {name: c for name, c in choices.items() if c.chosen == REQUESTED}
    shown = {name: c for name, c in choices.items()
             if name in backtest.strategies or c.chosen == REQUESTED}
    return unrecorded_choices(backtest.strategies, shown)


def check_strategies(known: Sequence[str], scope: q.Scope, label: str) -> None:
    """Refuse a database without runs, and strategies it has never seen."""
    if not known:
        raise StoreError(f"{label} has no runs recorded yet: nothing to report")
    unknown = [name for name in scope.strategies if name not in known]
    if unknown:
        raise StoreError(
            f"{label} has no strategy {', '.join(map(repr, unknown))} "
            f"(it has: {', '.join(known)})"
        )


def _fetch(conn: Connection, scope: q.Scope, dialect: str, run_scan: list[Row]) -> _Rows:
    """The rows of one mode (``scope.modes``), given its part of the runs' scan."""

    def rows(statement: Any) -> list[Row]:
        return list(conn.execute(statement).all())

    fills = _fills_with_money(q.scan(conn, q.fills_scan_stmt(scope)))
    twaps = rows(q.twap_runs_stmt(scope))
    return _Rows(
        runs=_run_counts(run_scan),
        signals=rows(q.signals_stmt(scope, dialect)),
        risk=rows(q.risk_stmt(scope)),
        allocations=rows(q.allocations_stmt(scope, dialect)),
        executions=rows(q.executions_stmt(scope, dialect)),
        orders=rows(q.orders_stmt(scope)),
        fills=fills,
        singles=_singles_with_money(q.scan(conn, q.singles_scan_stmt(scope))),
        twaps=twaps,
        run_scan=run_scan,
        twap_references=_references(rows(q.twap_references_stmt(scope))) if twaps else {},
        last_prices=_last_prices(conn, scope, {(row[0], row[1]) for row in fills}),
    )


def _fills_with_money(rows: list[Row]) -> list[Row]:
    """Fill rows with volume, funds and fee as ``Decimal``, converted once up front (each
    row serves several sections). They are NOT NULL, and arrive as canonical text
    (SQLite) or ``Decimal`` (servers), both of which ``Decimal()`` takes exactly."""
    return [(strategy, market, dry_run, side, Decimal(volume), Decimal(funds), Decimal(fee),
             in_period, via_twap)
            for strategy, market, dry_run, side, volume, funds, fee, in_period, via_twap in rows]


def _singles_with_money(rows: list[Row]) -> list[Row]:
    """Single-order rows with their (nullable) prices as ``Decimal``."""
    read = q.read_money
    return [(strategy, side, read(avg), read(reference), read(arrival))
            for strategy, side, avg, reference, arrival in rows]


def _run_counts(run_scan: list[Row]) -> list[Row]:
    """The scan of runs counted per strategy, mode and status, as a GROUP BY would."""
    counts = Counter((strategy, mode, status) for strategy, mode, status, _ in run_scan)
    return [(*key, count) for key, count in counts.items()]


def _equity_curves(run_scan: list[Row]) -> dict[str, list[Decimal]]:
    """Equity per strategy in time order; runs that failed before their snapshot have
    none and are left out of the curve."""
    curves: dict[str, list[Decimal]] = {}
    for strategy, _, _, equity in run_scan:
        if equity is not None:
            curves.setdefault(strategy, []).append(Decimal(equity))  # text or Decimal
    return curves


def _references(rows: list[Row]) -> dict[str, Decimal]:
    return {str(twap_run_id): price for twap_run_id, price in rows}


def _last_prices(
    conn: Connection, scope: q.Scope, pairs: set[tuple[str, str]]
) -> dict[tuple[str, str], PricePoint]:
    """One indexed lookup per (strategy, market) that has fills: few, and each cheap."""
    found: dict[tuple[str, str], PricePoint] = {}
    for strategy, market in sorted(pairs):
        row = conn.execute(q.last_price_stmt(strategy, market, scope)).first()
        if row is not None:
            found[(strategy, market)] = (row[0], row[1])
    return found


def _section(
    rows: _Rows,
    names: Sequence[str],
    pnl: Mapping[str, StrategyPnl],
    equity: EquitySummary,
    slippage: Mapping[str, Sequence[Decimal]] | None = None,
) -> Section:
    totals = sec.fill_totals(rows.fills)
    fees = sec.fee_summary(totals)
    if slippage is None:
        slippage = sec.slippage_values(rows.singles, rows.twaps, rows.twap_references)
    parts = [pnl[name] for name in names if name in pnl]
    return Section(
        runs=sec.run_summary(rows.runs),
        decisions=sec.decision_summary(rows.signals),
        risk=sec.risk_summary(rows.risk),
        allocations=sec.allocation_summary(rows.allocations),
        executions=sec.execution_summary(rows.executions, rows.orders, totals, rows.twaps),
        slippage=sec.slippage_summary(slippage),
        fees=fees,
        pnl=pnl_summary(parts, fees.paid_krw, latest_prices(rows.last_prices, names)),
        equity=equity,
        model=sec.model_summary(rows.signals),
    )
