"""Which backtest a report reads: the one asked for (``--backtest``), else the latest.

A backtest stores its result as one ``cron_runs`` row (mode ``backtest``, run id the
backtest id, ``result_json`` of kind ``backtest``) and numbers its cycles' run ids
``run_id_prefix`` + a counter (see ``backtest.results``). Every backtest of a strategy
replays the same past, so two of them joined would draw one equity curve through both:
the report reads one backtest per strategy, the latest that has rows in the period,
unless one is asked for. Backtest rows without any recorded result (a replay driven by
hand, or one stopped before its end) cannot be told apart and are read together.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, and_, func, select

from ..errors import StoreError
from ..store import schema as s
from .model import BacktestChoice
from .queries import BACKTEST, COUNTER_DIGITS, BacktestRows, Scope

REQUESTED = "requested"
LATEST = "latest"
UNRECORDED = "unrecorded"
"""How a strategy's backtest rows were chosen (``BacktestChoice.chosen``)."""
_PREFIX = 10
"""What ``backtest.results`` keeps of a backtest id for its cycles' run ids."""
_SHOWN = 5


@dataclass(frozen=True, slots=True)
class RecordedBacktest:
    """A backtest's result row: its id, strategy, when it ran, its cycles' prefix."""

    backtest_id: str
    strategy: str
    ran_at: datetime
    prefix: str


def resolve(
    conn: Connection, scope: Scope, label: str
) -> tuple[Scope, dict[str, BacktestChoice]]:
    """``scope`` with its backtest rows chosen, and the choice per strategy.

    Raises:
        StoreError: ``scope.backtest`` names no recorded backtest, or one of a
            strategy the report leaves out.
    """
    if scope.modes and BACKTEST not in scope.modes:
        return scope, {}
    recorded = recorded_backtests(conn, scope)
    if scope.backtest is not None:
        chosen = _requested(recorded, scope, label)
        rows = BacktestRows(chosen=((chosen.strategy, chosen.prefix),), only_chosen=True)
        count = sum(1 for item in recorded if item.strategy == chosen.strategy)
        return _with(scope, rows), {chosen.strategy: _choice(chosen, REQUESTED, count)}
    by_strategy: dict[str, list[RecordedBacktest]] = {}
    for item in recorded:  # newest first
        by_strategy.setdefault(item.strategy, []).append(item)
    choices = {name: _latest(conn, scope, items) for name, items in sorted(by_strategy.items())}
    rows = BacktestRows(
        chosen=tuple((name, item.prefix) for name, item in choices.items()),
        recorded=tuple(by_strategy),
    )
    return _with(scope, rows), {
        name: _choice(item, LATEST, len(by_strategy[name])) for name, item in choices.items()
    }


def unrecorded_choices(
    strategies: Sequence[str], choices: Mapping[str, BacktestChoice]
) -> dict[str, BacktestChoice]:
    """``choices`` and, for strategies with backtest rows but no recorded result, a note
    that all of those rows were read together."""
    found = dict(choices)
    for name in strategies:
        found.setdefault(name, BacktestChoice(None, None, UNRECORDED, 0))
    return dict(sorted(found.items()))


def recorded_backtests(conn: Connection, scope: Scope) -> list[RecordedBacktest]:
    """Every backtest result in ``scope``'s strategies, newest first.

    The result rows are found by what only they have among backtest rows (a result, no
    equity), then confirmed by their document's kind; their time is when the backtest
    ran, so the report's period does not apply to them.
    """
    t = s.cron_runs
    conditions = [t.c.mode == BACKTEST, t.c.total_equity_krw.is_(None), t.c.status == "ok",
                  t.c.result_json.is_not(None)]
    if scope.strategies:
        conditions.append(t.c.strategy.in_(scope.strategies))
    statement = (select(t.c.run_id, t.c.strategy, t.c.started_at, t.c.result_json)
                 .where(*conditions).order_by(t.c.started_at.desc(), t.c.run_id.desc()))
    found = []
    for run_id, strategy, ran_at, document in conn.execute(statement):
        if isinstance(document, dict) and document.get("kind") == BACKTEST:
            prefix = str(document.get("run_id_prefix") or run_id[:_PREFIX])
            found.append(RecordedBacktest(run_id, strategy, ran_at, prefix))
    return found


def cycles_stmt(strategy: str, prefix: str, scope: Scope) -> Select[Any]:
    """One cycle of a backtest inside the period, if it has any."""
    t = s.cron_runs
    conditions = [t.c.strategy == strategy, t.c.mode == BACKTEST,
                  t.c.run_id.startswith(prefix, autoescape=True),
                  func.length(t.c.run_id) == len(prefix) + COUNTER_DIGITS]
    if scope.period.start is not None:
        conditions.append(t.c.started_at >= scope.period.start)
    if scope.period.end is not None:
        conditions.append(t.c.started_at < scope.period.end)
    return select(t.c.run_id).where(and_(*conditions)).limit(1)


def _latest(conn: Connection, scope: Scope, items: list[RecordedBacktest]) -> RecordedBacktest:
    """The newest backtest with a cycle in the period, else simply the newest."""
    for item in items:
        if conn.execute(cycles_stmt(item.strategy, item.prefix, scope)).first() is not None:
            return item
    return items[0]


def _requested(recorded: list[RecordedBacktest], scope: Scope, label: str) -> RecordedBacktest:
    """The backtest ``scope.backtest`` names: its id (the id of its result run), or the
    start of it that is unique (its ``run_id_prefix``, say)."""
    wanted = str(scope.backtest)
    exact = [item for item in recorded if item.backtest_id == wanted]
    matches = exact or [item for item in recorded if item.backtest_id.startswith(wanted)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        where = f" of {', '.join(scope.strategies)}" if scope.strategies else ""
        raise StoreError(f"{label} has no backtest {wanted!r}{where} ({_listing(recorded)})")
    raise StoreError(f"{wanted!r} names {len(matches)} backtests ({_listing(matches)}); "
                     "give more of the id")


def _listing(items: list[RecordedBacktest]) -> str:
    if not items:
        return "no backtest results are recorded"
    shown = ", ".join(f"{item.backtest_id} ({item.strategy}, ran {item.ran_at.isoformat()})"
                      for item in items[:_SHOWN])
    more = len(items) - _SHOWN
    return f"it has: {shown}" + (f", ... {more} more" if more > 0 else "")


def _choice(item: RecordedBacktest, how: str, recorded: int) -> BacktestChoice:
    return BacktestChoice(item.backtest_id, item.ran_at, how, recorded)


def _with(scope: Scope, rows: BacktestRows) -> Scope:
    return replace(scope, backtest_rows=rows)
