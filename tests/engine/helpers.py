"""Wiring for engine tests: the real client over the stand-in, paper or live, SQLite store."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

from bithumb_llm_trader.api_client import BithumbClient
from bithumb_llm_trader.bootstrap import trading_engine
from bithumb_llm_trader.clock import ManualClock
from bithumb_llm_trader.config import StrategyConfig
from bithumb_llm_trader.decision import AgentIntent, DecisionOutcome, TradeDecision
from bithumb_llm_trader.domain import Mode
from bithumb_llm_trader.engine import TradingEngine
from bithumb_llm_trader.market import MarketSnapshot
from bithumb_llm_trader.paper import PaperExchange
from bithumb_llm_trader.prompts import Prompt
from bithumb_llm_trader.store import SqlStore, open_store

from ..standin import BithumbStandIn

D = Decimal
START = datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)
ACCESS_KEY = "test-access-key-0123456789abcdef"
SECRET_KEY = "test-secret-key-0123456789abcdef0123456789"


def buy(confidence: str = "0.8", risk_pct: str = "0.01", **extra: Any) -> TradeDecision:
    return TradeDecision(action="buy", confidence=D(confidence), risk_pct=D(risk_pct),
                         agent_intent=AgentIntent.ENTER_LONG, rationale="test buy", **extra)


def sell(intent: str = "exit") -> TradeDecision:
    return TradeDecision(action="sell", confidence=D("0.9"), agent_intent=intent,
                         rationale="test sell")


def hold() -> TradeDecision:
    return TradeDecision.hold("nothing to do")


@dataclass
class ScriptedDecider:
    """Answers the given decisions in order (the last one repeats)."""

    decisions: list[TradeDecision]
    name: str = "scripted"
    needs_prompt: bool = True
    calls: list[Prompt] = field(default_factory=list)

    async def decide(self, prompt: Prompt, snapshot: MarketSnapshot) -> DecisionOutcome:
        self.calls.append(prompt)
        decision = self.decisions[min(len(self.calls) - 1, len(self.decisions) - 1)]
        return DecisionOutcome(decision=decision, decider="rules", prompt_tokens=0,
                               hold_reason=None if decision.action != "hold" else "hold")


@dataclass
class Rig:
    standin: BithumbStandIn
    client: BithumbClient
    store: SqlStore
    clock: ManualClock
    config: StrategyConfig
    decider: ScriptedDecider
    engine: TradingEngine
    exchange: Any


def config(tmp_path: Path, **sections: Any) -> StrategyConfig:
    data: dict[str, Any] = {
        "name": "e2e",
        "strategy": {"decider": "rules", "candle_interval": "15m", "candle_count": 60},
        "risk": {"max_trade_value": 200000, "max_position_krw": 500000,
                 "kill_switch_file": str(tmp_path / "KILL_SWITCH")},
        "allocation": {"reserved_pool_pct": 0.2, "max_single_order_pct": 0.1},
        "paper": {"initial_balances": {"KRW": 1000000}},
    }
    for key, value in sections.items():
        data[key] = {**data.get(key, {}), **value} if isinstance(value, dict) else value
    return StrategyConfig.model_validate(data)


def rig(
    tmp_path: Path,
    decisions: list[TradeDecision],
    *,
    live: bool = False,
    standin: BithumbStandIn | None = None,
    store: SqlStore | None = None,
    **sections: Any,
) -> Rig:
    clock = ManualClock(START)
    cfg = config(tmp_path, **sections)
    standin = standin or BithumbStandIn(now=START, clock=clock.now)
    client = BithumbClient(transport=standin.transport(), clock=clock,
                           api_key=ACCESS_KEY if live else None,
                           api_secret=SECRET_KEY if live else None)
    store = store or open_store(f"sqlite:///{tmp_path / 'engine.db'}")
    exchange: Any
    if live:
        exchange = client
    else:
        exchange = PaperExchange(client, store, strategy=cfg.name,
                                 initial_balances=cfg.paper.initial_balances, clock=clock,
                                 fee_rate=cfg.allocation.fee_rate,
                                 min_order_krw=cfg.allocation.min_order_krw)
    decider = ScriptedDecider(list(decisions))
    engine = trading_engine(cfg, exchange=exchange, decider=decider, store=store, clock=clock,
                            mode=Mode.LIVE if live else Mode.DRY)
    return Rig(standin, client, store, clock, cfg, decider, engine, exchange)


def rows(store: SqlStore, table: str) -> list[dict[str, Any]]:
    from sqlalchemy import text

    with store.engine.connect() as connection:
        return [dict(r._mapping) for r in connection.execute(text(f"SELECT * FROM {table}"))]
