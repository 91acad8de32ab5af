"""Wiring for report tests: REAL dry cycles (TradingEngine, PaperExchange over the
stand-in Bithumb, the SQL store) driven by a decider that answers a script of outcomes.

Each scripted step may also change the stand-in market while "the model thinks", i.e.
between the snapshot and the order: that is how a test makes the book thinner (a partial
fill) or moves the price (slippage against the snapshot and the arrival price).
"""

from __future__ import annotations

from collections.abc import Callable
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
from bithumb_llm_trader.store import SqlStore

from ..standin import BithumbStandIn

D = Decimal
START = datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)
MODEL = "gpt-4o-mini"


def buy_decision(confidence: str = "0.8", risk_pct: str = "0.01") -> TradeDecision:
    return TradeDecision(action="buy", confidence=D(confidence), risk_pct=D(risk_pct),
                         agent_intent=AgentIntent.ENTER_LONG, rationale="report test buy")


def sell_decision(confidence: str = "0.9") -> TradeDecision:
    return TradeDecision(action="sell", confidence=D(confidence), agent_intent="exit",
                         rationale="report test sell")


def llm(
    decision: TradeDecision,
    *,
    tokens: tuple[int, int] = (1000, 100),
    cost: str | None = "0.0002",
    latency_ms: int = 400,
    hold_reason: str | None = None,
    fallback: bool = False,
    cached: bool = False,
) -> DecisionOutcome:
    """An outcome as the LLM decider reports it (model, tokens, cost, latency)."""
    return DecisionOutcome(
        decision=decision, decider="llm", model=MODEL, base_url="https://api.openai.com/v1",
        raw_text="{}", hold_reason=hold_reason, latency_ms=latency_ms,
        prompt_tokens=tokens[0], completion_tokens=tokens[1],
        cost_usd=None if cost is None else D(cost),
        response_format="json_object" if fallback else "json_schema",
        fallback_used=fallback, cached=cached,
    )


def rules(decision: TradeDecision, hold_reason: str | None = None) -> DecisionOutcome:
    """An outcome of the rule-based decider: no model, no cost."""
    return DecisionOutcome(decision=decision, decider="rules", hold_reason=hold_reason)


def invalid_output() -> DecisionOutcome:
    """What the LLM decider records when the model's answer is not a valid decision."""
    return llm(TradeDecision.hold("invalid_output: confidence must be <= 1"),
               hold_reason="invalid_output", tokens=(900, 50), cost="0.00015", latency_ms=700)


@dataclass
class Step:
    outcome: DecisionOutcome
    meanwhile: Callable[[], None] | None = None  # runs between snapshot and order


@dataclass
class ScriptDecider:
    steps: list[Step]
    name: str = "script"
    needs_prompt: bool = True
    calls: int = 0

    async def decide(self, prompt: Prompt, snapshot: MarketSnapshot) -> DecisionOutcome:
        step = self.steps[self.calls]
        self.calls += 1
        if step.meanwhile is not None:
            step.meanwhile()
        return step.outcome


@dataclass
class Trader:
    """One strategy trading dry on its own stand-in market, into a shared store."""

    name: str
    standin: BithumbStandIn
    exchange: PaperExchange
    decider: ScriptDecider
    engine: TradingEngine
    config: StrategyConfig
    runs: list[Any] = field(default_factory=list)

    async def cycle(self, step: Step | DecisionOutcome) -> Any:
        self.decider.steps.append(step if isinstance(step, Step) else Step(step))
        result = await self.engine.run_cycle()
        assert result.status == "ok", result.error
        self.runs.append(result)
        return result

    async def failed_cycle(self) -> Any:
        """A cycle whose snapshot fails (the order book feed is down): a failed run."""

        async def feed_down(*args: object, **kwargs: object) -> object:
            raise RuntimeError("orderbook feed down")

        self.exchange.orderbook = feed_down  # type: ignore[method-assign]
        try:
            result = await self.engine.run_cycle()
        finally:
            del self.exchange.orderbook
        assert result.status == "failed"
        self.runs.append(result)
        return result


def strategy_config(tmp_path: Path, name: str, **risk: Any) -> StrategyConfig:
    return StrategyConfig.model_validate({
        "name": name,
        "strategy": {"decider": "rules", "candle_interval": "15m", "candle_count": 60},
        "risk": {"max_trade_value": 200000, "max_position_krw": 500000,
                 "kill_switch_file": str(tmp_path / f"KILL_{name}"), **risk},
        "allocation": {"reserved_pool_pct": 0.2, "max_single_order_pct": 0.1},
        "paper": {"initial_balances": {"KRW": 1000000}},
    })


def trader(
    tmp_path: Path, store: SqlStore, clock: ManualClock, name: str, *, mode: str = "dry",
    **risk: Any,
) -> Trader:
    cfg = strategy_config(tmp_path, name, **risk)
    standin = BithumbStandIn(now=START, clock=clock.now)
    client = BithumbClient(transport=standin.transport(), clock=clock)
    exchange = PaperExchange(client, store, strategy=cfg.name,
                             initial_balances=cfg.paper.initial_balances, clock=clock,
                             fee_rate=cfg.allocation.fee_rate,
                             min_order_krw=cfg.allocation.min_order_krw)
    decider = ScriptDecider([])
    engine = trading_engine(cfg, exchange=exchange, decider=decider, store=store, clock=clock,
                            mode=Mode(mode))
    return Trader(name, standin, exchange, decider, engine, cfg)
