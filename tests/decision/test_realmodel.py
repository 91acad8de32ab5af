"""Ten decisions against a real model server (issue 18's acceptance figure).

Skipped unless ``BITHUMB_TRADER_TEST_LLM_URL`` names an OpenAI-compatible server, e.g.
``http://127.0.0.1:8089/v1`` for llama-cpp-python serving SmolLM2-135M-Instruct (see
docs/benchmarks.md). ``BITHUMB_TRADER_TEST_LLM_MODEL`` names the model (default
``local``; single-model servers ignore it). At least 8 of the 10 must be schema-valid
decisions, not a HOLD for a fault (``invalid_output``, ``timeout`` ...).
"""

from __future__ import annotations

import asyncio
import os
from decimal import Decimal

import pytest

from bithumb_llm_trader.clock import SystemClock
from bithumb_llm_trader.config import LLMConfig, StrategyConfig
from bithumb_llm_trader.decision import DecisionOutcome, LLMDecisionMaker, ResponseFormatMemory
from bithumb_llm_trader.prompts import build_trading_prompt
from tests.prompts.snapshots import snapshot

URL = os.environ.get("BITHUMB_TRADER_TEST_LLM_URL")
DECISIONS = 10
pytestmark = [
    pytest.mark.realmodel,
    pytest.mark.skipif(not URL, reason="BITHUMB_TRADER_TEST_LLM_URL is not set"),
]


def test_ten_decisions_against_a_real_server() -> None:
    config = LLMConfig(model=os.environ.get("BITHUMB_TRADER_TEST_LLM_MODEL", "local"),
                       base_url=URL, timeout=180, max_retries=1)
    # a different market each time: the price walks, the position comes and goes
    prompts = []
    for index in range(DECISIONS):
        snap = snapshot(last_price=Decimal(150_000_000 + 400_000 * index),
                        position_size=Decimal("0.01") if index % 2 else Decimal(0))
        prompts.append((build_trading_prompt(snap, snap.position, StrategyConfig()), snap))

    async def run() -> list[DecisionOutcome]:
        async with LLMDecisionMaker(config, api_key=None, clock=SystemClock(),
                                    formats=ResponseFormatMemory()) as decider:
            return [await decider.decide(prompt, snap) for prompt, snap in prompts]

    outcomes = asyncio.run(run())
    valid = [o for o in outcomes if o.hold_reason is None]
    for number, outcome in enumerate(outcomes, start=1):
        print(f"{number:2} {outcome.hold_reason or 'valid':16} {outcome.response_format} "
              f"http={outcome.attempts} tokens={outcome.prompt_tokens}+"
              f"{outcome.completion_tokens} {outcome.latency_ms} ms "
              f"{outcome.decision.action.value} {outcome.decision.confidence}")
    print(f"schema-valid decisions: {len(valid)} of {DECISIONS}")
    assert len(valid) >= 8, [o.errors for o in outcomes if o.hold_reason]
