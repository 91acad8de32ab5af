"""Wiring for portfolio tests: the real client over the multi-market stand-in, SQLite."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

from bithumb_llm_trader.api_client import BithumbClient, RateLimiter
from bithumb_llm_trader.bootstrap import kill_switch_file
from bithumb_llm_trader.bootstrap.portfolio import member_engines
from bithumb_llm_trader.clock import ManualClock
from bithumb_llm_trader.config import StrategyConfig
from bithumb_llm_trader.decision import TradeDecision
from bithumb_llm_trader.domain import Mode
from bithumb_llm_trader.multi_agent import (
    Ledger,
    MemberSpec,
    MultiAgentPortfolioManager,
    PortfolioConfig,
    PortfolioMember,
    SharedMarketData,
    ledger_key,
)
from bithumb_llm_trader.multi_agent.ledger import book_owner
from bithumb_llm_trader.paper import PaperExchange
from bithumb_llm_trader.ports import Decider
from bithumb_llm_trader.records import TwapRunRecord
from bithumb_llm_trader.store import SqlStore, open_store

from ..engine.helpers import ACCESS_KEY, SECRET_KEY, ScriptedDecider
from ..gates import gated_executor
from .standin_multi import MultiMarketStandIn

D = Decimal
START = datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)
PORTFOLIO = "portfolio"


def strategy(tmp_path: Path, name: str, market: str = "KRW-BTC", **sections: Any
             ) -> StrategyConfig:
    data: dict[str, Any] = {
        "name": name,
        "trading_pair": {"order_currency": market.split("-")[1]},
        "strategy": {"decider": "rules", "candle_interval": "15m", "candle_count": 60},
        "risk": {"max_trade_value": 300000, "max_position_krw": 3000000,
                 "kill_switch_file": str(tmp_path / f"KILL_{name}")},
        "allocation": {"reserved_pool_pct": 0.2, "max_single_order_pct": 0.1},
    }
    for key, value in sections.items():
        data[key] = {**data.get(key, {}), **value} if isinstance(value, dict) else value
    return StrategyConfig.model_validate(data)


@dataclass
class Member:
    config: StrategyConfig
    weight: str
    decisions: Sequence[TradeDecision] = ()
    decider: Decider | None = None


@dataclass
class PortfolioRig:
    standin: MultiMarketStandIn
    client: BithumbClient
    store: SqlStore
    clock: ManualClock
    data: SharedMarketData
    manager: MultiAgentPortfolioManager
    deciders: dict[str, Decider]
    paper: PaperExchange | None

    def ledger(self, name: str) -> Ledger:
        return self.manager.ledgers[name]

    def balance(self, name: str, currency: str) -> Decimal:
        return next((b.total for b in self.ledger(name).balances() if b.currency == currency),
                    D(0))


def rig(
    tmp_path: Path,
    members: Sequence[Member],
    *,
    live: bool = False,
    balances: dict[str, str] | None = None,
    ledgers: dict[str, dict[str, str]] | None = None,
    twap_runs: Sequence[TwapRunRecord] = (),
    standin: MultiMarketStandIn | None = None,
    **portfolio: Any,
) -> PortfolioRig:
    """A manager over the stand-in; ``ledgers`` pre-seeds strategies' holdings."""
    clock = ManualClock(START)
    balances = balances or {"KRW": "4000000"}
    standin = standin or MultiMarketStandIn(now=START, clock=clock.now, balances=balances)
    client = BithumbClient(transport=standin.transport(), clock=clock,
                           rate_limiter=RateLimiter(clock),
                           api_key=ACCESS_KEY if live else None,
                           api_secret=SECRET_KEY if live else None)
    store = open_store(f"sqlite:///{tmp_path / 'portfolio.db'}")
    for name, holdings in (ledgers or {}).items():
        owner = book_owner(PORTFOLIO, "live" if live else "dry")
        Ledger(store, ledger_key(owner, name), clock).seed(
            {c: D(v) for c, v in holdings.items()})
    data = SharedMarketData(client)
    paper = None
    if live:
        account: Any = client
    else:
        paper = PaperExchange(data, store, strategy=PORTFOLIO,
                              initial_balances={c: D(v) for c, v in balances.items()},
                              clock=clock, fee_rate=D("0.0025"), min_order_krw=D(5000))
        account = paper
    config = PortfolioConfig(
        name=PORTFOLIO,
        strategies=tuple(PortfolioMember(file=f"{m.config.name}.json", weight=D(m.weight))
                         for m in members),
        kill_switch_file=str(tmp_path / "PORTFOLIO_KILL"), dry_run=not live, **portfolio,
    )
    specs = [MemberSpec(m.config, D(m.weight), tmp_path / f"{m.config.name}.json")
             for m in members]
    deciders = {m.config.name: m.decider or ScriptedDecider(list(m.decisions)) for m in members}
    mode = Mode.LIVE if live else Mode.DRY
    executor = gated_executor(account, data=data, account=account, store=store, clock=clock,
                              owner=PORTFOLIO, mode=mode,
                              kill_switch=kill_switch_file(config.kill_switch_file))
    manager = MultiAgentPortfolioManager(
        config, specs, deciders=deciders, market_data=data, account=account,
        executor=executor, engines=member_engines(store, clock, mode),
        store=store, clock=clock, twap_runs=lambda: list(twap_runs),
    )
    return PortfolioRig(standin, client, store, clock, data, manager, deciders, paper)
