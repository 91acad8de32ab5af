"""The state endpoints: status, strategies, positions, price and equity series, model
usage and the report of a period.

Every figure is per mode: a dry, a live and a backtest account of one strategy are three
accounts, so no answer joins their rows (series come one per mode and strategy, the
report and model usage under ``by_mode``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException
from sqlalchemy import Connection

from ..errors import StoreError
from ..report import Scope, browse, build_report, report_to_dict
from ..report import queries as q
from ..report import sections as sec
from ..report.backtests import resolve
from ..report.browse import Filter
from ..report.json_out import section_to_dict
from ..report.queries import BACKTEST
from .answers import reading
from .auth import state_of
from .encode import plain
from .params import (
    NAME_PATTERN,
    From,
    Modes,
    OneMode,
    Points,
    Since,
    Strategies,
    StrategyName,
    To,
    filter_of,
    mode_values,
    names,
    now_of,
    period_of,
)
from .state import Pair, ServeState, fingerprint

router = APIRouter()
StateDep = Annotated[ServeState, Depends(state_of)]
FilterDep = Annotated[Filter, Depends(filter_of)]
NowDep = Annotated[datetime, Depends(now_of)]
TRADE_MARKERS = 500
"""The most trades marked on one price chart."""


def _pairs(state: ServeState, conn: Connection, wanted: Filter) -> list[Pair]:
    return [pair for pair in state.pairs.get(conn)
            if (not wanted.modes or pair.mode in wanted.modes)
            and (not wanted.strategies or pair.strategy in wanted.strategies)]


def risk_of(run: dict[str, Any] | None) -> dict[str, Any] | None:
    """The risk state a run recorded (its ``risk_state`` step), reasons included."""
    if run is None:
        return None
    result = run.get("result_json") or {}
    steps = result.get("steps") if isinstance(result, dict) else None
    for step in steps if isinstance(steps, list) else ():
        if isinstance(step, dict) and step.get("name") == "risk_state":
            found = step.get("detail")
            detail: dict[str, Any] = found if isinstance(found, dict) else {}
            return {"state": detail.get("state", run.get("trading_state")),
                    "reasons": detail.get("reasons", []),
                    "daily_pnl_krw": detail.get("daily_pnl_krw"),
                    "in_cooldown": detail.get("in_cooldown")}
    return {"state": run.get("trading_state"), "reasons": [], "daily_pnl_krw": None,
            "in_cooldown": None}


def _run_line(run: dict[str, Any]) -> dict[str, Any]:
    shown = {key: run[key] for key in browse.RUN_COLUMNS if key in run}
    return {**shown, "risk": risk_of(run)}


@router.get("/status", summary="Mode, risk state, lease holders, last cycle")
def status(state: StateDep, mode: Modes = None) -> dict[str, Any]:
    """The newest run (its mode, risk state and reasons), the newest run of every
    strategy in every mode, who holds each account's lease, and the kill switch."""
    settings = state.settings
    wanted = Filter(modes=mode_values(mode))
    with reading(state) as conn:
        latest = browse.latest_run(conn, wanted)
        per_pair = [browse.latest_in_pair(conn, p.strategy, p.mode, p.latest)
                    for p in _pairs(state, conn, wanted)]
        leases = browse.lease_holders(conn)
    switch = settings.kill_switch_file
    by_mode: dict[str, dict[str, Any]] = {}
    for run in per_pair:
        if run is not None:
            by_mode.setdefault(run["mode"], {})[run["strategy"]] = _run_line(run)
    answer = {
        "database": state.source.label,
        "strategy": settings.strategy,
        "mode": None if latest is None else latest["mode"],
        "last_cycle": None if latest is None else _run_line(latest),
        "next_cycle": None,
        "by_mode": by_mode,
        "leases": leases,
        "kill_switch": {"configured": switch is not None,
                        "engaged": bool(switch is not None and switch.exists()),
                        "file": None if switch is None else str(switch)},
        "control_enabled": settings.token is not None and switch is not None,
        "token_required_for_reading": settings.token_everywhere,
        "refresh_seconds": settings.refresh_seconds,
    }
    result: dict[str, Any] = plain(answer)
    return result


@router.get("/strategies", summary="Strategies and the modes they ran in")
def strategies(state: StateDep) -> dict[str, Any]:
    with reading(state) as conn:
        known = [row[0] for row in conn.execute(q.strategies_stmt())]
        pairs = state.pairs.get(conn)
        portfolios = state.pairs.portfolios(conn)
    items = []
    for name in known:
        mine = [p for p in pairs if p.strategy == name]
        items.append({"name": name, "portfolio": name in portfolios,
                      "markets": sorted({p.market for p in mine}),
                      "modes": {p.mode: {"latest_run_at": p.latest} for p in mine}})
    return {"items": plain(items), "configured": state.settings.strategy}


@router.get("/positions", summary="Cash and positions per strategy and mode")
def positions(state: StateDep, wanted: FilterDep) -> dict[str, Any]:
    """From each strategy's newest valued run in each mode, with the stop-loss and
    take-profit guarding the position."""
    by_mode: dict[str, dict[str, Any]] = {}
    with reading(state) as conn:
        guards = browse.guards(conn, wanted.strategies)
        for pair in _pairs(state, conn, wanted):
            scope = Scope(period=wanted.period, modes=(pair.mode,))
            run = browse.latest_valued_run(conn, pair.strategy, scope)
            if run is None:
                continue
            by_mode.setdefault(pair.mode, {})[pair.strategy] = {
                "run_id": run["run_id"], "at": run["started_at"], "market": run["market"],
                "equity_krw": run["total_equity_krw"], "cash_krw": run["cash_krw"],
                "position_value_krw": run["position_value_krw"],
                "last_price": run["last_price"], "trading_state": run["trading_state"],
                "holdings": browse.positions_of(conn, run["run_id"]),
                "guards": [g for g in guards
                           if g["strategy"] == pair.strategy and g["mode"] == pair.mode],
            }
    return {"by_mode": plain(by_mode)}


def _scope_for(conn: Connection, state: ServeState, scope: Scope) -> Scope:
    """``scope`` with its backtest rows chosen as the report chooses them (one backtest
    per strategy: two replays of one past would draw one line through both)."""
    if BACKTEST not in scope.modes:
        return scope
    chosen, _ = resolve(conn, scope, state.source.label)
    return chosen


@router.get("/equity", summary="Equity series, one per mode and strategy")
def equity(state: StateDep, wanted: FilterDep, points: Points = 1000) -> dict[str, Any]:
    """The newest ``points`` equity values of each strategy in each mode (never a line
    through two modes), oldest first, as ``[time, equity_krw]``."""
    by_mode: dict[str, dict[str, Any]] = {}
    with reading(state) as conn:
        for pair in _pairs(state, conn, wanted):
            scope = _scope_for(conn, state, Scope(period=wanted.period,
                                                  strategies=(pair.strategy,),
                                                  modes=(pair.mode,)))
            series = browse.equity_points(conn, pair.strategy, scope, points)
            if series:
                by_mode.setdefault(pair.mode, {})[pair.strategy] = series
    return {"by_mode": plain(by_mode), "points": points}


@router.get("/prices", summary="A strategy's price series with its trades and levels")
def prices(state: StateDep, strategy: StrategyName, now: NowDep, mode: OneMode = None,
           points: Points = 1000, since: Since = None, start: From = None,
           end: To = None) -> dict[str, Any]:
    """The snapshot price of each cycle (``cron_features``: no candles are stored), the
    bot's buys and sells in that stretch, and the stop-loss and take-profit levels
    (the position's guard, else the newest approved verdict's)."""
    period = period_of(since, start, end, now)
    with reading(state) as conn:
        mine = [p for p in state.pairs.get(conn) if p.strategy == strategy]
        if not mine:
            raise HTTPException(status_code=404, detail=f"no runs of strategy {strategy!r}")
        chosen = _chosen_mode(mine, None if mode is None else mode.value)
        scope = _scope_for(conn, state, Scope(period=period, strategies=(strategy,),
                                              modes=(chosen,)))
        series = browse.price_points(conn, strategy, scope, points)
        since_at = series[0]["created_at"] if series else None
        trades = browse.trade_points(conn, strategy, scope, since_at, TRADE_MARKERS)
        guard = [g for g in browse.guards(conn, (strategy,)) if g["mode"] == chosen]
        verdict = browse.latest_levels(conn, strategy, scope)
    answer: dict[str, Any] = plain({
        "strategy": strategy, "mode": chosen, "modes": [p.mode for p in mine],
        "market": series[-1]["market"] if series else mine[0].market,
        "points": series, "trades": trades,
        "levels": {"guard": guard[0] if guard else None, "verdict": verdict}})
    return answer


def _chosen_mode(pairs: Sequence[Pair], mode: str | None) -> str:
    if mode is None:
        return max(pairs, key=lambda p: p.latest).mode
    if mode not in {p.mode for p in pairs}:
        raise HTTPException(status_code=404, detail=f"no {mode} runs of this strategy")
    return mode


@router.get("/model-usage", summary="Model usage and cost per mode")
def model_usage(state: StateDep, wanted: FilterDep) -> dict[str, Any]:
    """Requests, tokens, cost, latency, fallbacks and cache hits of the ``llm``
    decider, per mode, in total and by model (the report's own query and sums)."""
    key = ("model-usage", wanted)
    with reading(state) as conn:
        _check_known(state, conn, wanted.strategies)
        stamp = fingerprint(conn)
        return state.reports.get(key, stamp, lambda: _usage(state, conn, wanted))  # type: ignore[no-any-return]


def _usage(state: ServeState, conn: Connection, wanted: Filter) -> dict[str, Any]:
    modes = wanted.modes or tuple(dict.fromkeys(p.mode for p in _pairs(state, conn, wanted)))
    by_mode = {}
    for mode in modes:
        scope = _scope_for(conn, state, replace(wanted.scope, modes=(mode,)))
        rows = conn.execute(q.signals_stmt(scope, state.source.dialect_name)).all()
        by_mode[mode] = sec.model_summary(rows)
    return {"by_mode": plain(_as_dicts(by_mode))}


def _as_dicts(value: Any) -> Any:
    return {mode: section_to_dict(summary) for mode, summary in value.items()}


def _check_known(state: ServeState, conn: Connection, wanted: Sequence[str]) -> None:
    known = {p.strategy for p in state.pairs.get(conn)}
    known |= {row[0] for row in conn.execute(q.strategies_stmt())} if wanted else set()
    unknown = [name for name in wanted if name not in known]
    if unknown:
        raise HTTPException(status_code=404, detail=f"no strategy {unknown[0]!r}")


@router.get("/report", summary="The report of a period (report --format json)")
def report(state: StateDep, now: NowDep, since: Since = None, start: From = None,
           end: To = None, mode: Modes = None, strategy: Strategies = None) -> dict[str, Any]:
    """Exactly what ``bithumb-trader report --format json`` prints for the same period,
    strategies and modes. Answers are reused for a few seconds while nothing new was
    recorded."""
    scope = Scope(period=period_of(since, start, end, now),
                  strategies=names(strategy, NAME_PATTERN, "strategy"),
                  modes=mode_values(mode))
    with reading(state) as conn:
        _check_known(state, conn, scope.strategies)
        stamp = fingerprint(conn)
    key = ("report", since, start, end, scope.strategies, scope.modes)
    try:
        answer: dict[str, Any] = state.reports.get(
            key, stamp, lambda: report_to_dict(build_report(state.source, scope, now=now)))
    except StoreError as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from exc
    return answer
