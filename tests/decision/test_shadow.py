"""Shadow models (issue 18): asked concurrently with the primary, marked, never the
decision; keys go only where they belong."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timezone

from bithumb_llm_trader.bootstrap.adapters import shadow_configs
from bithumb_llm_trader.config import LLMConfig
from bithumb_llm_trader.decision import DecisionOutcome, TradeDecision, shadow_records
from bithumb_llm_trader.decision.shadow import ShadowingDecider
from bithumb_llm_trader.market import MarketSnapshot
from bithumb_llm_trader.prompts import Prompt
from tests.decision.llm_helpers import PROMPT, SNAPSHOT

BUY = TradeDecision(action="buy", confidence=0.6, risk_pct=0.01, agent_intent="enter_long")


@dataclass
class Waiting:
    """A decider that answers only once ``other`` has started: proves concurrency."""

    model: str
    started: asyncio.Event
    other: asyncio.Event | None
    decision: TradeDecision
    name: str = "llm"
    needs_prompt: bool = True

    async def decide(self, prompt: Prompt, snapshot: MarketSnapshot) -> DecisionOutcome:
        self.started.set()
        if self.other is not None:
            await asyncio.wait_for(self.other.wait(), timeout=2)
        return DecisionOutcome(decision=self.decision, decider="llm", model=self.model)


class Broken:
    name = "llm"
    needs_prompt = True

    async def decide(self, prompt: Prompt, snapshot: MarketSnapshot) -> DecisionOutcome:
        raise RuntimeError("bug")


def test_shadows_decide_concurrently_and_ride_along() -> None:
    async def run() -> DecisionOutcome:
        a, b = asyncio.Event(), asyncio.Event()
        primary = Waiting("big", a, b, BUY)  # waits for the shadow to have started
        shadow = Waiting("small", b, None, TradeDecision.hold("meh"))
        return await ShadowingDecider(primary, [shadow, Broken()], ["small", "broken"]).decide(
            PROMPT, SNAPSHOT)

    outcome = asyncio.run(run())
    assert outcome.decision == BUY and not outcome.shadow
    small, broken = outcome.shadows
    assert small.shadow and small.model == "small" and small.decision.action.value == "hold"
    assert broken.shadow and broken.hold_reason == "internal_error" and broken.model == "broken"
    rows = shadow_records(outcome, PROMPT, run_id="r", strategy="s", request_id="q",
                          created_at=datetime(2026, 1, 1, tzinfo=timezone.utc))
    assert [(type(r).__name__, r.request_id, r.shadow) for r in rows] == [
        ("DecisionRequestRecord", "q-s1", True), ("SignalRecord", "q-s1", True),
        ("DecisionRequestRecord", "q-s2", True), ("SignalRecord", "q-s2", True)]


def test_shadow_configs_inherit_and_keep_keys_where_they_belong() -> None:
    llm = LLMConfig.model_validate({
        "model": "gpt-4o-mini", "temperature": 0.2, "max_output_tokens": 400,
        "shadow_models": [
            {"model": "gpt-4.1-mini"},  # OpenAI: the OpenAI key
            {"model": "smollm2", "base_url": "http://127.0.0.1:8089/v1",
             "server": "llamacpp", "context_tokens": 4096},  # local: no key
            {"model": "other", "base_url": "https://llm.example.com/v1"},  # no key at all
        ]})
    notes: list[str] = []
    chosen = shadow_configs(llm, "sk-openai-0123456789", notes)
    (openai_cfg, openai_key), (local_cfg, local_key), (other_cfg, other_key) = chosen
    assert openai_cfg.model == "gpt-4.1-mini" and openai_key == "sk-openai-0123456789"
    assert openai_cfg.temperature == 0.2 and openai_cfg.max_output_tokens == 400
    assert local_cfg.server == "llamacpp" and local_cfg.context_tokens == 4096
    assert local_key is None and other_key is None  # never the OpenAI key to another host
    assert not local_cfg.shadow_models and not local_cfg.cache
    assert other_cfg.base_url == "https://llm.example.com/v1"
    assert shadow_configs(llm, None, notes)[0][0].model == "smollm2"
    assert any("gpt-4.1-mini" in note and "left out" in note for note in notes)
