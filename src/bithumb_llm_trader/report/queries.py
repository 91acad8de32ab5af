"""The report's SQL: aggregates grouped by strategy, and the few ordered scans it needs.

Every statement reads the modes of its ``Scope`` (``within``): the report reads each
mode on its own, so paper, live and backtest rows never meet in one figure.

Counting and summing happen in the database (``GROUP BY`` over the indexed strategy and
time columns), so a year of cycles is never loaded row by row. Money is summed with
``money_sum`` (an exact ``dsum`` on SQLite, native ``SUM`` of ``DECIMAL`` elsewhere).
Only what needs order or a distribution is scanned, once per table: the runs (equity
curve), the fills (FIFO), the filled single orders (slippage percentiles), each with
just the columns it uses. Scans are fetched straight from the driver (``scan``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    Table,
    and_,
    case,
    func,
    literal,
    null,
    or_,
    select,
    union,
)
from sqlalchemy.sql.elements import KeyedColumnElement

from ..records import PORTFOLIO_MARKET
from ..store import money_sum
from ..store import schema as s
from .period import Period

Row = Sequence[Any]
"""A result row: grouped aggregates, or a scan's raw tuple."""


BACKTEST = "backtest"
COUNTER_DIGITS = 6
"""A backtest's cycles are numbered ``run_id_prefix`` + six base-36 digits
(``backtest.market.counter_ids``): the pattern that tells its rows from any other's."""


@dataclass(frozen=True, slots=True)
class BacktestRows:
    """Which backtest rows a report reads, resolved by ``backtests.resolve``.

    Several backtests of one strategy replay the same past again and again: joined,
    they would make one meaningless equity curve. So each strategy's rows come from
    one backtest (``chosen``: strategy and run id prefix), except for strategies with
    no recorded backtest result (``recorded`` lists those that have one), whose
    backtest rows cannot be told apart and are read together. ``only_chosen`` (a
    backtest asked for by id) leaves every other strategy's backtest rows out.
    """

    chosen: tuple[tuple[str, str], ...] = ()
    recorded: tuple[str, ...] = ()
    only_chosen: bool = False


@dataclass(frozen=True, slots=True)
class Scope:
    """Which rows a report reads: a period and, optionally, some strategies and modes.

    ``modes`` empty reads every mode (a report still never mixes them: it reads
    each one on its own). ``backtest`` is the backtest asked for by id; ``backtest_rows``
    is filled in by the report itself, None until then (every backtest row).
    """

    period: Period
    strategies: tuple[str, ...] = ()
    modes: tuple[str, ...] = ()
    backtest: str | None = None
    backtest_rows: BacktestRows | None = None


def read_money(value: Any) -> Decimal | None:
    """A money value as a scan returns it: canonical text on SQLite, ``Decimal`` from the
    servers' drivers; a float (only a foreign writer could leave one) via its exact repr."""
    if value is None or isinstance(value, Decimal):
        return value
    return Decimal(repr(value) if isinstance(value, float) else value)


def scan(conn: Connection, statement: Select[Any]) -> list[Row]:
    """All rows of ``statement`` as the driver returns them, without result processing.

    SQLAlchemy still compiles the statement and processes its parameters; only the
    per-row work is skipped, which is two thirds of the time of a 100,000-row scan.
    Scans therefore select no datetimes, and read money with ``read_money``.
    """
    result = conn.execute(statement)
    try:
        rows: list[Row] = list(result.cursor.fetchall())
    finally:
        result.close()
    return rows


def within(
    table: Table, when: KeyedColumnElement[Any], scope: Scope, *, upto_end_only: bool = False,
    runs: Table | None = None,
) -> list[ColumnElement[bool]]:
    """Conditions selecting ``scope``'s strategies, period and modes on ``table``.

    ``runs``: ``cron_runs`` joined on ``run_id``, for the tables that have no mode
    column of their own (their run's row has it).
    """
    conditions: list[ColumnElement[bool]] = []
    if scope.strategies:
        conditions.append(table.c.strategy.in_(scope.strategies))
    if scope.period.start is not None and not upto_end_only:
        conditions.append(when >= scope.period.start)
    if scope.period.end is not None:
        conditions.append(when < scope.period.end)
    mode = (table if runs is None else runs).c.mode
    return conditions + in_modes(table.c.strategy, mode, table.c.run_id, scope)


def in_modes(
    strategy: ColumnElement[Any], mode: ColumnElement[Any], run_id: ColumnElement[Any],
    scope: Scope,
) -> list[ColumnElement[bool]]:
    """Conditions keeping ``scope``'s modes and, of the backtests, its chosen ones."""
    conditions: list[ColumnElement[bool]] = []
    if scope.modes:
        conditions.append(mode.in_(scope.modes))
    picked = scope.backtest_rows
    if picked is None or (scope.modes and BACKTEST not in scope.modes):
        return conditions
    allowed: list[ColumnElement[bool]] = [mode != BACKTEST]
    if picked.recorded and not picked.only_chosen:
        allowed.append(strategy.not_in(picked.recorded))
    for name, prefix in picked.chosen:
        allowed.append(and_(strategy == name, run_id.startswith(prefix, autoescape=True),
                            func.length(run_id) == len(prefix) + COUNTER_DIGITS))
    if picked.recorded or picked.only_chosen:
        conditions.append(or_(*allowed))
    return conditions


def _count_true(column: ColumnElement[Any]) -> ColumnElement[Any]:
    return func.sum(case((column, 1), else_=0))


def strategies_stmt() -> Select[Any]:
    """Every strategy that ever recorded a run or a TWAP."""
    runs = select(s.cron_runs.c.strategy.label("strategy")).distinct()
    twaps = select(s.twap_runs.c.strategy.label("strategy")).distinct()
    merged = union(runs, twaps).subquery()
    return select(merged.c.strategy).order_by(merged.c.strategy)


def portfolios_stmt() -> Select[Any]:
    """Strategies that are portfolios: their rows aggregate their members' rows."""
    t = s.cron_runs
    return select(t.c.strategy).where(t.c.market == PORTFOLIO_MARKET).distinct()


def runs_scan_stmt(scope: Scope) -> Select[Any]:
    """Scan: every run's strategy, mode, status and equity, in time order per strategy.

    One pass serves both the run counts and the equity curve: ``cron_runs`` rows are
    large (each holds its cycle's result), so reading the table once instead of twice
    is the cheaper way, and the curve needs every row anyway.
    """
    t = s.cron_runs
    return (
        select(t.c.strategy, t.c.mode, t.c.status, t.c.total_equity_krw)
        .where(*within(t, t.c.started_at, scope))
        .order_by(t.c.strategy, t.c.started_at)  # the index's order: no sort needed
    )


def signals_stmt(scope: Scope, dialect: str) -> Select[Any]:
    """Decisions and model use in one pass over ``llm_signals``, grouped by strategy,
    action, HOLD reason, confidence, decider, model and shadow flag.

    Models answer confidence with a few decimals, so grouping by it keeps the groups
    few and makes the exact mean a matter of ``confidence * count`` in Python. The
    columns after ``cached`` (HTTP requests, decisions of unknown cost, shadow) were
    added with issue 18; readers that unpack by position take them from the end.
    """
    sig, req, runs = s.llm_signals, s.llm_decision_requests, s.cron_runs
    unknown_cost = sig.c.cost_usd.is_(None) & (sig.c.cached == False)  # noqa: E712
    return (
        select(sig.c.strategy, sig.c.action, sig.c.hold_reason, sig.c.confidence,
               req.c.decider, req.c.model, func.count(), func.sum(sig.c.prompt_tokens),
               func.sum(sig.c.completion_tokens), money_sum(sig.c.cost_usd, dialect),
               func.sum(sig.c.latency_ms), _count_true(sig.c.fallback_used),
               _count_true(sig.c.cached), func.sum(sig.c.attempts),
               _count_true(unknown_cost), sig.c.shadow)
        .select_from(sig.outerjoin(req, sig.c.request_id == req.c.request_id)
                     .join(runs, sig.c.run_id == runs.c.run_id))
        .where(*within(sig, sig.c.created_at, scope, runs=runs))
        .group_by(sig.c.strategy, sig.c.action, sig.c.hold_reason, sig.c.confidence,
                  req.c.decider, req.c.model, sig.c.shadow)
    )


def model_rows_stmt(scope: Scope) -> Select[Any]:
    """One row per decision of the ``llm`` decider, primary and shadow, for comparing
    models: run id, model, shadow, action, HOLD reason, tokens, cost, latency, HTTP
    requests, whether cached, time, strategy, the run's last price and its mode."""
    sig, req, runs = s.llm_signals, s.llm_decision_requests, s.cron_runs
    return (
        select(sig.c.run_id, req.c.model, sig.c.shadow, sig.c.action, sig.c.hold_reason,
               sig.c.prompt_tokens, sig.c.completion_tokens, sig.c.cost_usd,
               sig.c.latency_ms, sig.c.attempts, sig.c.cached, sig.c.created_at,
               sig.c.strategy, runs.c.last_price, runs.c.mode)
        .select_from(sig.join(req, sig.c.request_id == req.c.request_id)
                     .join(runs, sig.c.run_id == runs.c.run_id))
        .where(req.c.decider == "llm", *within(sig, sig.c.created_at, scope, runs=runs))
        .order_by(sig.c.created_at, sig.c.id)
    )


def risk_stmt(scope: Scope) -> Select[Any]:
    """Verdicts grouped by their reasons' JSON text: few distinct lists, parsed once each."""
    t, runs = s.risk_verdicts, s.cron_runs
    return (
        select(t.c.strategy, t.c.approved, t.c.shrunk, t.c.reasons_json, func.count())
        .select_from(t.join(runs, t.c.run_id == runs.c.run_id))
        .where(*within(t, t.c.created_at, scope, runs=runs))
        .group_by(t.c.strategy, t.c.approved, t.c.shrunk, t.c.reasons_json)
    )


def allocations_stmt(scope: Scope, dialect: str) -> Select[Any]:
    t, runs = s.allocation_proposals, s.cron_runs
    return (
        select(t.c.strategy, t.c.caps_hit_json, func.count(),
               money_sum(t.c.desired_notional, dialect), money_sum(t.c.final_notional, dialect))
        .select_from(t.join(runs, t.c.run_id == runs.c.run_id))
        .where(*within(t, t.c.created_at, scope, runs=runs))
        .group_by(t.c.strategy, t.c.caps_hit_json)
    )


def executions_stmt(scope: Scope, dialect: str) -> Select[Any]:
    """Executions by method and status, with requested and filled KRW of those that
    sent an order (the others' amounts are not even handed to the exact sum)."""
    t = s.llm_executions
    sent = t.c.method != "none"
    return (
        select(t.c.strategy, t.c.method, t.c.status, func.count(),
               money_sum(case((sent, t.c.requested_notional), else_=null()), dialect),
               money_sum(case((sent, t.c.filled_funds), else_=null()), dialect))
        .where(*within(t, t.c.created_at, scope))
        .group_by(t.c.strategy, t.c.method, t.c.status)
    )


def orders_stmt(scope: Scope) -> Select[Any]:
    t = s.orders
    return (
        select(t.c.strategy, t.c.state, func.count())
        .where(*within(t, t.c.created_at, scope))
        .group_by(t.c.strategy, t.c.state)
    )


def singles_scan_stmt(scope: Scope) -> Select[Any]:
    """Scan: filled single orders' side, average, snapshot and arrival prices."""
    t = s.llm_executions
    return (
        select(t.c.strategy, t.c.side, t.c.avg_price, t.c.reference_price, t.c.arrival_price)
        .where(t.c.method == "order", t.c.avg_price.is_not(None),
               *within(t, t.c.created_at, scope))
    )


def twap_runs_stmt(scope: Scope) -> Select[Any]:
    t = s.twap_runs
    return (
        select(t.c.strategy, t.c.twap_run_id, t.c.status, t.c.side, t.c.avg_price,
               t.c.arrival_price)
        .where(*within(t, t.c.created_at, scope))
    )


def twap_references_stmt(scope: Scope) -> Select[Any]:
    """The snapshot price of the decision that started each TWAP (engine TWAPs only)."""
    t, runs = s.llm_executions, s.twap_runs
    in_scope = select(runs.c.twap_run_id).where(*within(runs, runs.c.created_at, scope))
    return (
        select(t.c.twap_run_id, t.c.reference_price)
        .where(t.c.method == "twap", t.c.twap_run_id.in_(in_scope),
               t.c.reference_price.is_not(None))
    )


def equity_stmt(scope: Scope) -> Select[Any]:
    """The equity curves with their times, for the chart (processed rows: real datetimes),
    one per mode and strategy."""
    t = s.cron_runs
    return (
        select(t.c.mode, t.c.strategy, t.c.started_at, t.c.total_equity_krw)
        .where(t.c.total_equity_krw.is_not(None), *within(t, t.c.started_at, scope))
        .order_by(t.c.strategy, t.c.started_at)
    )


def twap_modes_stmt(scope: Scope) -> Select[Any]:
    """The modes of the period's TWAPs: a TWAP started from the command line has no run."""
    t = s.twap_runs
    return select(t.c.mode).where(*within(t, t.c.created_at, scope)).distinct()


def fills_scan_stmt(scope: Scope) -> Select[Any]:
    """Scan: every fill up to the period's end, in time order (earlier buys are the cost
    basis of later sells), with whether it lies in the period and came from a TWAP.

    Both flags are computed by the database, so no timestamp is parsed in Python; the
    period's fill counts, volumes and fees are summed from the same rows.
    """
    f, o = s.fills, s.orders
    start = scope.period.start
    in_period = literal(1) if start is None else case((f.c.created_at >= start, 1), else_=0)
    via_twap = case((o.c.twap_run_id.is_(None), 0), else_=1)
    return (
        select(f.c.strategy, f.c.market, f.c.dry_run, f.c.side, f.c.volume, f.c.funds,
               f.c.fee, in_period, via_twap)
        .select_from(f.outerjoin(o, f.c.client_order_id == o.c.client_order_id))
        .where(*within(f, f.c.created_at, scope, upto_end_only=True))
        .order_by(f.c.strategy, f.c.market, f.c.created_at, f.c.client_order_id,
                  f.c.trade_id)
    )


def last_price_stmt(strategy: str, market: str, scope: Scope) -> Select[Any]:
    """The last snapshot price of ``market`` for ``strategy`` before the period's end, in
    ``scope``'s mode (a backtest's past prices never value a live position)."""
    t = s.cron_runs
    conditions = [t.c.strategy == strategy, t.c.market == market, t.c.last_price.is_not(None),
                  *in_modes(t.c.strategy, t.c.mode, t.c.run_id, scope)]
    if scope.period.end is not None:
        conditions.append(t.c.started_at < scope.period.end)
    return (
        select(t.c.last_price, t.c.started_at).where(and_(*conditions))
        .order_by(t.c.started_at.desc(), t.c.run_id.desc()).limit(1)
    )
