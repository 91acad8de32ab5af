"""Transport faults: bounded retries on the injected clock, auth, and the key kept secret."""

from __future__ import annotations

import asyncio

import httpx
import respx

from bithumb_llm_trader.clock import ManualClock
from bithumb_llm_trader.config import LLMConfig
from bithumb_llm_trader.decision import Action, LLMDecisionMaker
from tests.decision.llm_helpers import (
    API_KEY,
    BASE_URL,
    COMPLETIONS,
    PROMPT,
    SNAPSHOT,
    VALID_TEXT,
    decide_once,
    error,
    ok,
)


@respx.mock
def test_timeouts_are_retried_with_backoff_then_hold() -> None:
    route = respx.post(COMPLETIONS).mock(side_effect=httpx.ReadTimeout("slow"))
    clock = ManualClock()

    outcome = decide_once(clock=clock, max_retries=2)

    assert route.call_count == 3
    assert clock.sleeps == [1.0, 2.0]  # backoff on the fake clock: no real waiting
    assert outcome.decision.action is Action.HOLD
    assert outcome.hold_reason == "timeout"
    assert outcome.attempts == 3
    assert len(outcome.errors) == 3
    assert outcome.latency_ms == 3000
    # nothing answered, but the server did the work: the tokens are estimated (issue 18)
    assert outcome.audit is not None and outcome.audit.tokens_estimated
    assert outcome.prompt_tokens == 3 * outcome.audit.http[0]["estimated_prompt_tokens"]
    assert outcome.completion_tokens == 3 * 600
    assert outcome.cost_usd is not None and outcome.cost_usd > 0


@respx.mock
def test_429_then_success_waits_the_retry_after() -> None:
    route = respx.post(COMPLETIONS).mock(
        side_effect=[error(429, "slow down", headers={"retry-after": "3"}), ok(VALID_TEXT)]
    )
    clock = ManualClock()

    outcome = decide_once(clock=clock)

    assert route.call_count == 2
    assert clock.sleeps == [3.0]
    assert outcome.decision.action is Action.BUY
    assert outcome.hold_reason is None
    assert outcome.attempts == 2
    assert outcome.response_format == "json_schema"  # a 429 is not a format refusal
    assert any("HTTP 429" in e for e in outcome.errors)


@respx.mock
def test_a_retry_after_beyond_the_limit_gives_up_at_once() -> None:
    route = respx.post(COMPLETIONS).mock(
        return_value=error(429, "come back later", headers={"retry-after": "600"})
    )
    clock = ManualClock()
    outcome = decide_once(clock=clock)
    assert route.call_count == 1
    assert clock.sleeps == []
    assert outcome.hold_reason == "rate_limited"


@respx.mock
def test_insufficient_quota_is_not_retried() -> None:
    route = respx.post(COMPLETIONS).mock(
        return_value=error(429, "You exceeded your quota", code="insufficient_quota")
    )
    outcome = decide_once()
    assert route.call_count == 1
    assert outcome.hold_reason == "quota"


@respx.mock
def test_server_errors_and_connection_errors_are_retried() -> None:
    route = respx.post(COMPLETIONS).mock(
        side_effect=[error(503, "overloaded"), httpx.ConnectError("refused"), ok(VALID_TEXT)]
    )
    clock = ManualClock()
    outcome = decide_once(clock=clock, max_retries=2)
    assert route.call_count == 3
    assert clock.sleeps == [1.0, 2.0]
    assert outcome.decision.action is Action.BUY
    assert outcome.attempts == 3


@respx.mock
def test_retries_are_bounded_for_server_errors() -> None:
    route = respx.post(COMPLETIONS).mock(return_value=error(502, "bad gateway"))
    outcome = decide_once(max_retries=1)
    assert route.call_count == 2
    assert outcome.hold_reason == "server_error"


@respx.mock
def test_401_holds_immediately_and_never_shows_the_key() -> None:
    route = respx.post(COMPLETIONS).mock(
        return_value=error(401, f"Incorrect API key provided: {API_KEY}")
    )
    clock = ManualClock()

    outcome = decide_once(clock=clock, max_retries=3)

    assert route.call_count == 1
    assert clock.sleeps == []
    assert outcome.decision.action is Action.HOLD
    assert outcome.hold_reason == "auth"
    assert outcome.errors
    shown = repr(outcome) + outcome.decision.rationale + "".join(outcome.errors)
    assert API_KEY not in shown
    assert API_KEY[3:11] not in shown


@respx.mock
def test_403_holds_immediately() -> None:
    route = respx.post(COMPLETIONS).mock(return_value=error(403, "forbidden"))
    outcome = decide_once()
    assert route.call_count == 1
    assert outcome.hold_reason == "auth"


@respx.mock
def test_a_key_echoed_in_another_error_is_blanked() -> None:
    respx.post(COMPLETIONS).mock(return_value=error(418, f"teapot saw {API_KEY}"))
    outcome = decide_once()
    assert outcome.hold_reason == "bad_request"
    assert API_KEY not in "".join(outcome.errors)
    assert "***" in "".join(outcome.errors)


def test_repr_hides_the_key_and_the_injected_client_is_used_and_left_open() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return ok(VALID_TEXT)

    async def run() -> tuple[str, bool, Action]:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
            decider = LLMDecisionMaker(
                LLMConfig(base_url=BASE_URL), api_key=API_KEY, clock=ManualClock(),
                http_client=http,
            )
            outcome = await decider.decide(PROMPT, SNAPSHOT)
            await decider.aclose()
            return repr(decider), http.is_closed, outcome.decision.action

    text, closed, action = asyncio.run(run())
    assert API_KEY not in text and "llm.test" in text
    assert closed is False  # the caller's client is the caller's to close
    assert action is Action.BUY
    # one probe of the server's kind and context, then the question
    assert [r.url for r in seen] == [f"{BASE_URL}/models", COMPLETIONS]


@respx.mock
def test_without_a_key_no_environment_key_is_picked_up(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-the-environment")
    route = respx.post(COMPLETIONS).mock(return_value=ok(VALID_TEXT))

    async def run() -> None:
        async with LLMDecisionMaker(
            LLMConfig(base_url=BASE_URL), api_key=None, clock=ManualClock()
        ) as decider:
            await decider.decide(PROMPT, SNAPSHOT)

    asyncio.run(run())
    assert "sk-from-the-environment" not in route.calls[0].request.headers["authorization"]
