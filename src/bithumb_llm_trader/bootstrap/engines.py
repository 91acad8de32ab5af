"""Wiring the order path: gate -> order executor -> TWAP executor -> steps -> engine.

This is the only place that builds a ``PreTradeGate``, an ``OrderExecutor``, a
``TWAPExecutor`` or a ``TradingEngine``; ``run``, ``twap``, ``portfolio`` and
``backtest`` all come through here, so every order of every path meets the gate.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from ..config import StrategyConfig
from ..domain import ZERO, Mode
from ..engine import CycleSteps, SnapshotProvider, TradingEngine, new_run_id
from ..engine.notices import CycleNotices
from ..execution import OrderExecutor
from ..gate import GateRules, PreTradeGate
from ..market import FeatureParams, LiveFeatures, collect_snapshot
from ..notify import Emitter
from ..ports import Account, Clock, Decider, Exchange, MarketData, OrderGateway, Store
from ..risk import RiskManager
from ..twap import TWAPExecutor


def kill_switch_file(path: str | None) -> Callable[[], bool]:
    """A kill switch that is simply a file: touch it to halt, remove it to resume."""
    if not path:
        return lambda: False
    return Path(path).exists


def strategy_rules(config: StrategyConfig, mode: Mode, kill_switch: Callable[[], bool],
                   holds_account: Callable[[], bool] = lambda: True) -> GateRules:
    """The gate's rules for one strategy: its own risk section."""
    risk = config.risk
    return GateRules(
        owner=config.name, mode=mode, kill_switch=kill_switch, holds_account=holds_account,
        max_trade_value=risk.max_trade_value, max_position_krw=risk.max_position_krw,
        max_position_share=risk.max_position_size,
        daily_loss_limit_pct=risk.daily_loss_limit_pct,
        daily_loss_limit_krw=risk.daily_loss_limit_krw, reduce_only=risk.reduce_only,
        price_band_bps=risk.price_band_bps,
    )


def order_executor(
    gateway: OrderGateway, *, market_data: MarketData, account: Account, store: Store,
    clock: Clock, rules: GateRules,
) -> OrderExecutor:
    """An executor whose every order passes a gate with ``rules`` in front of ``gateway``."""
    gate = PreTradeGate(gateway, market_data=market_data, account=account, store=store,
                        rules=rules, now=clock.now)
    return OrderExecutor(gate, store, clock, strategy=rules.owner, mode=rules.mode)


def twap_executor(config: StrategyConfig, *, exchange: Exchange, store: Store, clock: Clock,
                  mode: Mode, kill_switch: Callable[[], bool] | None = None,
                  holds_account: Callable[[], bool] = lambda: True,
                  events: Emitter | None = None) -> TWAPExecutor:
    """A TWAP executor for ``config`` whose slices pass the strategy's gate."""
    switch = kill_switch or kill_switch_file(config.risk.kill_switch_file)
    orders = _strategy_orders(config, exchange, store, clock, mode, switch, holds_account)
    return TWAPExecutor(exchange, clock, store, strategy=config.name, orders=orders,
                        events=events)


def _strategy_orders(config: StrategyConfig, exchange: Exchange, store: Store, clock: Clock,
                     mode: Mode, kill_switch: Callable[[], bool],
                     holds_account: Callable[[], bool]) -> OrderExecutor:
    """The executor of one strategy's orders, gated by its own risk section."""
    return order_executor(exchange, market_data=exchange, account=exchange, store=store,
                          clock=clock,
                          rules=strategy_rules(config, mode, kill_switch, holds_account))


def live_snapshot(config: StrategyConfig, exchange: Exchange, clock: Clock) -> SnapshotProvider:
    """``collect_snapshot`` whose features follow the candles from one cycle to the next.

    One ``LiveFeatures`` per engine: a ``run --every`` pushes only the candles that
    closed since its last cycle instead of recomputing ``candle_count`` of them.
    """
    features = LiveFeatures(FeatureParams.from_config(config.strategy))
    return lambda: collect_snapshot(exchange, config, clock, features)


def trading_engine(
    config: StrategyConfig,
    *,
    exchange: Exchange,
    decider: Decider,
    store: Store,
    clock: Clock,
    mode: Mode,
    kill_switch: Callable[[], bool] | None = None,
    ids: Callable[[], str] = new_run_id,
    committed_krw: Callable[[], Decimal] = lambda: ZERO,
    snapshot: SnapshotProvider | None = None,
    stop: asyncio.Event | None = None,
    holds_account: Callable[[], bool] = lambda: True,
    history_size: int = 50,
    record_results: bool = True,
    events: Emitter | None = None,
    notices: CycleNotices | None = None,
) -> TradingEngine:
    """One strategy's engine, every order of which goes through its gate.

    Args:
        kill_switch: defaults to the strategy's ``risk.kill_switch_file``.
        committed_krw: KRW the strategy must not spend (a portfolio's other commitments).
        snapshot: defaults to ``collect_snapshot`` on ``exchange``, with features kept
            up to date from cycle to cycle by this engine's own ``LiveFeatures``.
        stop: set by Ctrl-C / SIGTERM; a TWAP inside a cycle stops with it.
        holds_account: False once this process lost the account's lease.
        events: where the TWAP tells how it ended; ``notices``: the cycle's events.
    """
    switch = kill_switch or kill_switch_file(config.risk.kill_switch_file)
    orders = _strategy_orders(config, exchange, store, clock, mode, switch, holds_account)
    steps = CycleSteps(
        config, decider=decider, store=store, clock=clock, ids=ids,
        risk=RiskManager(config.risk, min_order_krw=config.allocation.min_order_krw),
        executor=orders,
        twap=TWAPExecutor(exchange, clock, store, strategy=config.name, orders=orders,
                          events=events),
        committed_krw=committed_krw, stop=stop,
    )
    return TradingEngine(
        config, steps=steps, snapshot=snapshot or live_snapshot(config, exchange, clock),
        store=store, clock=clock, mode=mode, kill_switch=switch, ids=ids,
        history_size=history_size, record_results=record_results, notices=notices,
    )
