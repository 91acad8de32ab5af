"""The token budget (issue 18): the prompt as sent is counted before sending, the candle
table shrinks to fit, a context-length error is ``context_overflow`` (never a format
step-down), and the record holds exactly what was sent and received."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import httpx
import pytest
import respx

from bithumb_llm_trader.decision import Action, ResponseFormatMemory, decision_records
from bithumb_llm_trader.decision.budget import Budget, estimate_text, plan_prompt
from bithumb_llm_trader.decision.faults import is_context_overflow
from bithumb_llm_trader.prompts.shrink import candle_rows, with_candles
from tests.decision.llm_helpers import (
    BASE_URL,
    COMPLETIONS,
    PROMPT,
    VALID_BUY,
    VALID_TEXT,
    body_of,
    decide,
    decide_once,
    error,
    format_of,
    ok,
)

MODEL = "gpt-4o-mini"  # LLMConfig's default
LLAMACPP_OVERFLOW = ("This model's maximum context length is 4096 tokens. However, you "
                     "requested 7485 tokens (6885 in the messages, 600 in the completion). "
                     "Please reduce the length of the messages or completion.")
LLAMA_SERVER_OVERFLOW = ("request (6885 tokens) exceeds the available context size "
                         "(4096 tokens), try increasing it")


def _no_probe() -> None:
    respx.get(f"{BASE_URL}/models").mock(return_value=httpx.Response(404))


@pytest.mark.parametrize("message", [
    LLAMACPP_OVERFLOW, LLAMA_SERVER_OVERFLOW, "the prompt is too long",
    "n_ctx exceeded", "context_length_exceeded"])
@respx.mock
def test_a_context_error_is_context_overflow_without_a_format_step_down(message: str) -> None:
    _no_probe()
    route = respx.post(COMPLETIONS).mock(return_value=error(400, message))
    memory = ResponseFormatMemory()

    outcome = decide_once(formats=memory, context_tokens=4096)

    assert outcome.hold_reason == "context_overflow"
    assert outcome.decision.action is Action.HOLD
    assert route.call_count == 1  # not retried in json_object or text: same prompt, longer
    assert format_of(route, 0) == "json_schema"
    assert memory.working_format(BASE_URL) is None  # nothing learned about formats
    assert any("context" in e for e in outcome.errors)


@respx.mock
def test_a_named_smaller_context_is_learnt_and_the_prompt_refitted_once() -> None:
    _no_probe()  # the server does not say its context: 8,192 is assumed
    route = respx.post(COMPLETIONS).mock(side_effect=[
        error(400, "This model's maximum context length is 1500 tokens."), ok(VALID_TEXT)])
    memory = ResponseFormatMemory()

    outcome = decide_once(formats=memory, max_output_tokens=200, repair_attempts=0)

    assert outcome.decision.action is Action.BUY
    assert route.call_count == 2
    assert memory.server(BASE_URL).model(MODEL).context_tokens == 1500
    first, second = (body_of(route, i)["messages"][1]["content"] for i in range(2))
    assert len(second) < len(first)  # fewer candles the second time
    assert outcome.audit is not None and outcome.audit.candles_dropped > 0


@respx.mock
def test_over_budget_the_candle_table_shrinks_and_is_recorded() -> None:
    _no_probe()
    route = respx.post(COMPLETIONS).mock(return_value=ok(VALID_TEXT))

    outcome = decide_once(context_tokens=2600, max_output_tokens=300, repair_attempts=1)

    audit = outcome.audit
    assert audit is not None
    assert 0 < audit.candles_dropped < 24
    assert audit.candles == 24 - audit.candles_dropped
    sent_user = body_of(route, 0)["messages"][1]["content"]
    assert sent_user == audit.user
    assert sent_user.count("\n09-30 ") + sent_user.count("\n09-29 ") == audit.candles
    assert audit.estimated_tokens is not None
    assert audit.estimated_tokens + 300 + (300 + 80) <= 2600
    request, _ = _records(outcome)
    assert request.prompt_candles == audit.candles
    assert request.candles_dropped == audit.candles_dropped
    assert request.user_prompt == sent_user  # the record holds the prompt as sent


@respx.mock
def test_a_prompt_too_long_even_without_candles_is_not_sent() -> None:
    _no_probe()
    route = respx.post(COMPLETIONS).mock(return_value=ok(VALID_TEXT))

    outcome = decide_once(context_tokens=1024, max_output_tokens=600)

    assert route.call_count == 0
    assert outcome.hold_reason == "context_overflow"
    assert "not sent" in outcome.errors[-1]


@respx.mock
def test_the_estimate_is_calibrated_by_the_servers_counts() -> None:
    _no_probe()
    respx.post(COMPLETIONS).mock(return_value=ok(
        VALID_TEXT, usage={"prompt_tokens": 6000, "completion_tokens": 50}))
    memory = ResponseFormatMemory()

    first, second = decide(formats=memory, times=2)

    assert first.audit is not None and second.audit is not None
    assert first.audit.estimated_tokens is not None
    assert second.audit.estimated_tokens is not None
    assert first.audit.estimated_tokens < 6000
    assert abs(second.audit.estimated_tokens - 6000) <= 2  # the ratio learnt
    assert memory.server(BASE_URL).model(MODEL).token_ratio > 1


@respx.mock
def test_every_message_and_raw_answer_is_recorded() -> None:
    _no_probe()
    invalid = json.dumps({**VALID_BUY, "confidence": 1.5})
    route = respx.post(COMPLETIONS).mock(side_effect=[
        error(500, "response_format json_schema is not supported"),
        ok(invalid), ok(VALID_TEXT)])

    outcome = decide_once(repair_attempts=1, max_retries=0)

    assert outcome.decision.action is Action.BUY
    assert route.call_count == 3
    request, signal = _records(outcome)
    conversations = request.messages_json
    assert conversations is not None
    assert [c["response_format"] for c in conversations] == ["json_schema", "json_object"]
    assert conversations[0]["request"]["response_format"]["type"] == "json_schema"
    assert conversations[1]["request"] == {"response_format": {"type": "json_object"}}
    repaired = conversations[1]["messages"]
    assert [m["role"] for m in repaired] == ["system", "user", "assistant", "user"]
    assert repaired == body_of(route, 2)["messages"]  # exactly what the last request sent
    assert repaired[2]["content"] == invalid
    assert "confidence" in repaired[3]["content"]
    # the system text as sent: with the schema the json_object fallback adds
    assert request.system_prompt == repaired[0]["content"]
    assert "JSON Schema" in request.system_prompt
    http = signal.http_json
    assert http is not None
    assert [h["status"] for h in http] == [500, 200, 200]
    assert [h["messages"] for h in http] == [2, 2, 4]
    assert [h["conversation"] for h in http] == [0, 1, 1]
    assert http[0]["fault"] == "format_rejected"
    assert [h["answer"] for h in http[1:]] == [invalid, VALID_TEXT]
    assert all(isinstance(h["latency_ms"], int) for h in http)
    assert signal.attempts == 3 and not signal.tokens_estimated


@respx.mock
def test_an_abandoned_request_records_estimated_tokens() -> None:
    _no_probe()
    respx.post(COMPLETIONS).mock(side_effect=httpx.ReadTimeout("slow"))

    outcome = decide_once(max_retries=0, max_output_tokens=100)

    _, signal = _records(outcome)
    assert signal.tokens_estimated
    assert signal.completion_tokens == 100
    assert signal.prompt_tokens > 0
    assert signal.http_json is not None and signal.http_json[0]["tokens_estimated"]
    assert signal.cost_usd is not None and signal.cost_usd > 0


def test_the_estimate_counts_digits_one_by_one() -> None:
    assert estimate_text("150803000") == 9
    assert estimate_text("abcdefgh") == 2
    assert estimate_text("") == 0


def test_shrinking_keeps_the_newest_candles() -> None:
    assert candle_rows(PROMPT) == 24
    two = with_candles(PROMPT, 2)
    assert candle_rows(two) == 2
    rows = PROMPT.user.split("\n")
    assert two.user.split("\n")[2:4] == rows[24:26]
    none = with_candles(PROMPT, 0)
    assert candle_rows(none) is None and "CANDLES" not in none.user
    assert with_candles(PROMPT, 99) is PROMPT
    assert "FEATURES" in none.user


def test_the_plan_keeps_everything_that_fits() -> None:
    def to_messages(prompt):  # type: ignore[no-untyped-def]
        return [{"role": "system", "content": prompt.system},
                {"role": "user", "content": prompt.user}]

    roomy = plan_prompt(PROMPT, Budget(100_000, 600, 1), to_messages)
    assert roomy.prompt is PROMPT and roomy.dropped == 0 and roomy.fits
    tight = plan_prompt(PROMPT, Budget(2200, 300, 0), to_messages)
    assert tight.dropped > 0 and tight.fits
    assert tight.estimated_tokens + 300 <= 2200


def test_context_errors_are_told_from_format_errors() -> None:
    assert is_context_overflow(400, LLAMACPP_OVERFLOW)
    assert is_context_overflow(400, LLAMA_SERVER_OVERFLOW)
    assert not is_context_overflow(400, "response_format json_schema is not supported")
    assert not is_context_overflow(429, LLAMACPP_OVERFLOW)


def _records(outcome):  # type: ignore[no-untyped-def]
    return decision_records(outcome, PROMPT, run_id="r", strategy="s", request_id="q",
                            created_at=datetime(2026, 1, 1, tzinfo=timezone.utc))
