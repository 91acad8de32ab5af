"""Decision outcomes as store records."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from bithumb_llm_trader.decision import (
    Action,
    AgentIntent,
    DecisionOutcome,
    TradeDecision,
    decision_records,
    public_base_url,
)
from bithumb_llm_trader.domain import UTC
from bithumb_llm_trader.prompts import Prompt

WHEN = datetime(2025, 9, 30, 12, 0, tzinfo=UTC)
PROMPT = Prompt(system="rules", user="numbers", version="trade-v1")


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://api.openai.com/v1", "https://api.openai.com/v1"),
        ("https://user:sk-secret@llm.example:8443/v1?api-key=sk-2#x", "https://llm.example:8443/v1"),
        ("http://[::1]:11434/v1", "http://[::1]:11434/v1"),
        (None, None),
    ],
)
def test_public_base_url_drops_credentials(url: str | None, shown: str | None) -> None:
    assert public_base_url(url) == shown


def test_records_carry_the_prompt_the_decision_and_its_cost() -> None:
    decision = TradeDecision(
        action=Action.BUY, confidence=Decimal("0.7"), risk_pct=Decimal("0.005"),
        stop_loss_pct=Decimal("0.02"), agent_intent=AgentIntent.ENTER_LONG, rationale="up",
    )
    outcome = DecisionOutcome(
        decision=decision, decider="llm", model="gpt-4o-mini",
        base_url="https://k:sk-1@llm.test/v1", raw_text="{...}", errors=("request 1: x",),
        attempts=2, latency_ms=812, prompt_tokens=2000, completion_tokens=100,
        cost_usd=Decimal("0.00036"), response_format="json_object", fallback_used=True,
    )

    request, signal = decision_records(
        outcome, PROMPT, run_id="run-1", strategy="btc", request_id="req-1", created_at=WHEN
    )

    assert request.TABLE == "llm_decision_requests"
    assert (request.request_id, request.run_id, request.strategy) == ("req-1", "run-1", "btc")
    assert request.base_url == "https://llm.test/v1"
    assert (request.system_prompt, request.user_prompt) == ("rules", "numbers")
    assert request.prompt_hash == PROMPT.digest
    assert request.prompt_version == "trade-v1"
    assert request.response_format == "json_object"
    assert request.decider == "llm" and request.model == "gpt-4o-mini"
    assert signal.TABLE == "llm_signals"
    assert (signal.action, signal.agent_intent) == ("buy", "enter_long")
    assert signal.confidence == Decimal("0.7")
    assert signal.payload_json == {
        "action": "buy", "confidence": Decimal("0.7"), "risk_pct": Decimal("0.005"),
        "stop_loss_pct": Decimal("0.02"), "take_profit_pct": None, "order_type": "market",
        "limit_price": None, "agent_intent": "enter_long", "rationale": "up",
    }
    assert signal.parse_errors_json == ["request 1: x"]
    assert (signal.attempts, signal.latency_ms) == (2, 812)
    assert (signal.prompt_tokens, signal.completion_tokens) == (2000, 100)
    assert signal.cost_usd == Decimal("0.00036")
    assert signal.fallback_used is True and signal.cached is False
    assert signal.created_at == WHEN


def test_a_hold_after_a_fault_is_recorded_with_its_reason() -> None:
    outcome = DecisionOutcome(
        decision=TradeDecision.hold("timeout: no answer"), decider="llm",
        hold_reason="timeout", errors=("request 1 (json_schema): no answer within 30.0s",),
    )
    _, signal = decision_records(
        outcome, PROMPT, run_id="r", strategy="s", request_id="q", created_at=WHEN
    )
    assert (signal.action, signal.agent_intent, signal.hold_reason) == ("hold", "hold", "timeout")
    assert signal.payload_json["confidence"] == Decimal(0)
    assert signal.parse_errors_json == ["request 1 (json_schema): no answer within 30.0s"]
