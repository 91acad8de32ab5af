"""The LLM decider against the real openai SDK, with the server mocked by respx."""

from __future__ import annotations

import json
from decimal import Decimal

import httpx
import pytest
import respx

from bithumb_llm_trader.clock import ManualClock
from bithumb_llm_trader.decision import Action, AgentIntent, decision_json_schema
from tests.decision.llm_helpers import (
    API_KEY,
    COMPLETIONS,
    VALID_BUY,
    VALID_TEXT,
    body_of,
    decide_once,
    ok,
)


@respx.mock
def test_valid_structured_answer_becomes_the_decision() -> None:
    route = respx.post(COMPLETIONS).mock(return_value=ok(VALID_TEXT))
    clock = ManualClock()

    outcome = decide_once(clock=clock)

    assert route.call_count == 1
    request = route.calls[0].request
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    body = body_of(route, 0)
    assert body["model"] == "gpt-4o-mini"
    assert body["max_tokens"] == 600
    assert "temperature" not in body  # only sent when configured
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["strict"] is True
    assert body["response_format"]["json_schema"]["schema"] == decision_json_schema()
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    decision = outcome.decision
    assert decision.action is Action.BUY
    assert decision.agent_intent is AgentIntent.ENTER_LONG
    assert decision.confidence == Decimal("0.72")
    assert decision.stop_loss_pct == Decimal("0.015")
    assert outcome.hold_reason is None
    assert outcome.errors == ()
    assert outcome.attempts == 1
    assert (outcome.prompt_tokens, outcome.completion_tokens) == (1000, 50)
    # gpt-4o-mini: 1000 * 0.15 / 1e6 + 50 * 0.60 / 1e6
    assert outcome.cost_usd == Decimal("0.00018000")
    assert outcome.response_format == "json_schema"
    assert outcome.fallback_used is False
    assert outcome.cached is False
    assert outcome.raw_text == VALID_TEXT
    assert outcome.base_url == "https://llm.test/v1"
    assert outcome.extra["finish_reason"] == "stop"
    assert clock.sleeps == []


@respx.mock
def test_temperature_is_sent_when_configured() -> None:
    route = respx.post(COMPLETIONS).mock(return_value=ok(VALID_TEXT))
    decide_once(temperature=0.2)
    assert body_of(route, 0)["temperature"] == 0.2


@respx.mock
def test_unknown_model_has_unknown_cost() -> None:
    respx.post(COMPLETIONS).mock(return_value=ok(VALID_TEXT))
    outcome = decide_once(model="local-llama")
    assert outcome.decision.action is Action.BUY
    assert outcome.cost_usd is None


@respx.mock
def test_prose_with_one_embedded_json_object_is_accepted() -> None:
    respx.post(COMPLETIONS).mock(
        return_value=ok(f"Looking at the trend, I would buy.\n{VALID_TEXT}\nGood luck!")
    )
    outcome = decide_once()
    assert outcome.decision.action is Action.BUY
    assert outcome.hold_reason is None


INVALID_ANSWERS = [
    pytest.param('{"action": "buy", "agent_intent": "enter_long", "confidence": 0.7',
                 "invalid JSON", id="truncated-json"),
    pytest.param(json.dumps({**VALID_BUY, "confidence": "high"}),
                 "confidence: must be a number (got 'high')", id="wrong-type"),
    pytest.param(json.dumps({**VALID_BUY, "rationale": 42}),
                 "rationale: must be a string (got 42)", id="wrong-type-string"),
    pytest.param(json.dumps({**VALID_BUY, "confidence": 1.5}),
                 "confidence: must be <= 1 (got 1.5)", id="out-of-range"),
    pytest.param(json.dumps({**VALID_BUY, "risk_pct": 0.2}),
                 "risk_pct: must be <= 0.05 (got 0.2)", id="risk-out-of-range"),
    pytest.param(VALID_TEXT.replace("0.72", "NaN"),
                 "confidence: must be a finite number (got NaN)", id="nan"),
    pytest.param(VALID_TEXT.replace("0.015", "Infinity"),
                 "stop_loss_pct: must be a finite number (got Infinity)", id="infinity"),
    pytest.param(VALID_TEXT.replace("0.005", "-Infinity"),
                 "risk_pct: must be a finite number (got -Infinity)", id="minus-infinity"),
    pytest.param(json.dumps({**VALID_BUY, "leverage": 5}),
                 "leverage: unknown field", id="extra-field"),
    pytest.param(json.dumps({**VALID_BUY, "agent_intent": "exit"}),
                 "agent_intent 'exit' does not fit action 'buy'", id="inconsistent"),
    pytest.param("I think you should buy some bitcoin.", "no JSON object found", id="prose"),
]


@pytest.mark.parametrize(("content", "expected_error"), INVALID_ANSWERS)
@respx.mock
def test_invalid_output_ends_in_hold_with_the_errors(content: str, expected_error: str) -> None:
    route = respx.post(COMPLETIONS).mock(return_value=ok(content))

    outcome = decide_once(repair_attempts=0)

    assert route.call_count == 1
    assert outcome.decision.action is Action.HOLD
    assert outcome.decision.agent_intent is AgentIntent.HOLD
    assert outcome.hold_reason == "invalid_output"
    assert any(expected_error in error for error in outcome.errors), outcome.errors
    assert outcome.raw_text == content
    assert outcome.prompt_tokens == 1000  # what was spent is still recorded


@respx.mock
def test_repair_round_trip_sends_the_errors_back_and_uses_the_second_answer() -> None:
    first = json.dumps({**VALID_BUY, "confidence": 1.5, "leverage": 3})
    route = respx.post(COMPLETIONS).mock(side_effect=[ok(first), ok(VALID_TEXT)])

    outcome = decide_once(repair_attempts=1)

    assert route.call_count == 2
    assert outcome.attempts == 2
    assert outcome.decision.action is Action.BUY
    assert outcome.hold_reason is None
    assert (outcome.prompt_tokens, outcome.completion_tokens) == (2000, 100)
    assert outcome.cost_usd == Decimal("0.00036000")
    follow_up = body_of(route, 1)["messages"]
    assert [m["role"] for m in follow_up] == ["system", "user", "assistant", "user"]
    assert follow_up[2]["content"] == first
    assert "confidence: must be <= 1 (got 1.5)" in follow_up[3]["content"]
    assert "leverage: unknown field" in follow_up[3]["content"]
    # the errors of the repaired answer stay in the audit trail
    assert any("confidence: must be <= 1" in error for error in outcome.errors)


@respx.mock
def test_repairs_are_bounded_and_every_answer_s_errors_are_kept() -> None:
    bad = [json.dumps({**VALID_BUY, "confidence": value}) for value in (1.5, 2, 3)]
    route = respx.post(COMPLETIONS).mock(side_effect=[ok(text) for text in bad])

    outcome = decide_once(repair_attempts=2)

    assert route.call_count == 3
    assert outcome.hold_reason == "invalid_output"
    assert outcome.attempts == 3
    for got in ("1.5", "2", "3"):
        assert any(f"(got {got})" in error for error in outcome.errors)


@respx.mock
def test_refusal_is_hold_without_repair() -> None:
    route = respx.post(COMPLETIONS).mock(
        return_value=ok(None, refusal="I can't help with trading decisions.")
    )
    outcome = decide_once(repair_attempts=2)
    assert route.call_count == 1
    assert outcome.decision.action is Action.HOLD
    assert outcome.hold_reason == "refusal"
    assert any("I can't help" in error for error in outcome.errors)


@pytest.mark.parametrize("content", [None, "", "   \n"])
@respx.mock
def test_empty_content_is_hold(content: str | None) -> None:
    route = respx.post(COMPLETIONS).mock(return_value=ok(content))
    outcome = decide_once()
    assert route.call_count == 1
    assert outcome.hold_reason == "empty"
    assert outcome.decision.action is Action.HOLD


@respx.mock
def test_no_choices_is_hold() -> None:
    respx.post(COMPLETIONS).mock(return_value=ok(VALID_TEXT, choices=[]))
    outcome = decide_once()
    assert outcome.hold_reason == "empty"


@respx.mock
def test_finish_reason_length_is_truncated_even_if_it_parses() -> None:
    cut = VALID_TEXT[:40]
    route = respx.post(COMPLETIONS).mock(return_value=ok(cut, finish_reason="length"))
    outcome = decide_once()
    assert route.call_count == 1
    assert outcome.hold_reason == "truncated"
    assert outcome.raw_text == cut
    assert any("max_output_tokens=600" in error for error in outcome.errors)


@pytest.mark.parametrize(
    ("response", "reason"),
    [
        (httpx.Response(200, text="<html>gateway</html>", headers={"content-type": "text/html"}),
         "invalid_response"),
        (httpx.Response(200, json={"choices": [{"message": None}]}), "invalid_response"),
        (httpx.Response(200, json={"choices": [{"message": {"content": 5}}]}),
         "invalid_response"),
        (httpx.Response(200, json={"unexpected": True}), "empty"),
    ],
    ids=["html", "no-message", "content-not-text", "no-choices-key"],
)
@respx.mock
def test_a_body_that_is_not_a_completion_is_hold_not_an_exception(
    response: httpx.Response, reason: str
) -> None:
    route = respx.post(COMPLETIONS).mock(return_value=response)
    outcome = decide_once()
    assert route.call_count == 1
    assert outcome.decision.action is Action.HOLD
    assert outcome.hold_reason == reason
    assert outcome.errors
