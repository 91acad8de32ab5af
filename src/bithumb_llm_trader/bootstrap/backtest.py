"""The wiring of a backtest: the decider, and the engine the replay runs.

The replay builds its own paper exchange, in-memory store and simulated clock; the
engine on them is built here like every other, so a backtest's orders meet the same
gate as a live run's (with no kill-switch file: the past cannot be halted).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx

from ..backtest import Backtest, BacktestResult, BacktestSettings
from ..backtest.replay import ReplayProgress
from ..clock import ManualClock, SystemClock
from ..config import StrategyConfig
from ..domain import Mode
from ..engine import TradingEngine
from ..errors import ConfigError
from ..market import MarketSnapshot
from ..paper import PaperExchange
from ..ports import Clock, Decider, Store
from ..store import open_store
from .adapters import build_decider, rule_decider
from .engines import trading_engine
from .mode import ModeChoice, keyless_server, openai_key


def replay_engine(
    config: StrategyConfig, *, exchange: PaperExchange, decider: Decider, store: Store,
    clock: ManualClock, ids: Callable[[], str],
    snapshot: Callable[[], Awaitable[MarketSnapshot]],
) -> TradingEngine:
    return trading_engine(
        config, exchange=exchange, decider=decider, store=store, clock=clock,
        mode=Mode.BACKTEST, kill_switch=lambda: False, ids=ids, snapshot=snapshot,
        record_results=False,  # the step tables hold every fact; the JSON copy is waste
        history_size=4,  # nobody reads a backtest's recent results; keep memory flat
    )


def backtest_decider(config: StrategyConfig, store: Store, override_key: str | None
                     ) -> tuple[Decider, httpx.AsyncClient | None]:
    """Rules, or the language model with its decision cache on (a rerun costs nothing).

    Raises:
        ConfigError: the llm decider without a key.
    """
    if config.strategy.decider == "rules":
        return rule_decider(config), None
    key = openai_key(config, override_key)
    if not key and keyless_server(config.llm) is None:
        raise ConfigError("the llm decider needs an OpenAI key: set OPENAI_API_KEY or pass"
                          " --openai-api-key (or --decider rules)")
    # Retries of the model wait in real time: the replay's clock is for market time.
    return build_decider(config, mode=ModeChoice(Mode.BACKTEST, ()), llm_key=key,
                         clock=SystemClock(), store=store, notes=[], cache=True)


async def run_backtest(
    config: StrategyConfig, settings: BacktestSettings, *, db_url: str,
    openai_api_key: str | None, wall_clock: Clock | None = None,
    progress: Callable[[ReplayProgress], None] | None = None,
) -> BacktestResult:
    """Open the store, build the decider and the backtest, run it, close what was opened."""
    store = open_store(db_url)
    try:
        decider, http = backtest_decider(config, store, openai_api_key)
        try:
            return await Backtest(config, settings, decider=decider, engines=replay_engine,
                                  store=store, wall_clock=wall_clock or SystemClock(),
                                  progress=progress).run()
        finally:
            if http is not None:
                await http.aclose()
    finally:
        store.close()
