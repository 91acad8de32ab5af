"""Response-format fallback: json_schema, then json_object, then plain text."""

from __future__ import annotations

import httpx
import pytest
import respx

from bithumb_llm_trader.decision import Action, ResponseFormatMemory
from tests.decision.llm_helpers import (
    BASE_URL,
    COMPLETIONS,
    VALID_TEXT,
    body_of,
    decide,
    decide_once,
    error,
    format_of,
    ok,
)


def refusing(status: int, *refused: str):  # type: ignore[no-untyped-def]
    """A server that fails requests asking for any of ``refused`` formats."""

    def handle(request: httpx.Request) -> httpx.Response:
        body = request.read()
        wanted = "text"
        for name in ("json_schema", "json_object"):
            if f'"type":"{name}"'.encode() in body.replace(b" ", b""):
                wanted = name
        if wanted in refused:
            return error(status, f"response_format {wanted} is not supported")
        return ok(VALID_TEXT)

    return handle


@pytest.mark.parametrize("status", [400, 500])
@respx.mock
def test_refused_json_schema_falls_back_to_json_object_and_is_remembered(status: int) -> None:
    route = respx.post(COMPLETIONS).mock(side_effect=refusing(status, "json_schema"))
    memory = ResponseFormatMemory()

    first, second = decide(formats=memory, times=2)

    assert [format_of(route, i) for i in range(route.call_count)] == [
        "json_schema", "json_object", "json_object"
    ]
    assert first.decision.action is Action.BUY
    assert first.response_format == "json_object"
    assert first.fallback_used is True
    assert first.attempts == 2
    assert any(f"HTTP {status}" in e and "json_schema refused" in e for e in first.errors)
    assert second.attempts == 1  # the memory skipped json_schema
    assert second.response_format == "json_object"
    assert memory.working_format(BASE_URL) == "json_object"
    # without structured outputs, the schema goes into the system text
    assert "JSON Schema" in body_of(route, 1)["messages"][0]["content"]
    assert "JSON Schema" not in body_of(route, 0)["messages"][0]["content"]


@respx.mock
def test_memory_is_per_server_and_per_memory_object() -> None:
    route = respx.post(COMPLETIONS).mock(side_effect=refusing(400, "json_schema"))
    decide(formats=ResponseFormatMemory())
    decide(formats=ResponseFormatMemory())  # a new run starts from the top again
    assert [format_of(route, i) for i in range(4)] == [
        "json_schema", "json_object", "json_schema", "json_object"
    ]


@respx.mock
def test_plain_text_fallback_with_the_schema_in_the_prompt() -> None:
    route = respx.post(COMPLETIONS).mock(side_effect=refusing(400, "json_schema", "json_object"))

    outcome = decide_once()

    assert [format_of(route, i) for i in range(3)] == ["json_schema", "json_object", "text"]
    assert "response_format" not in body_of(route, 2)
    system = body_of(route, 2)["messages"][0]["content"]
    assert "JSON Schema" in system and '"additionalProperties":false' in system
    assert outcome.decision.action is Action.BUY
    assert outcome.response_format == "text"
    assert outcome.fallback_used is True
    assert outcome.attempts == 3


@respx.mock
def test_unsupported_in_a_4xx_message_also_falls_back() -> None:
    responses = [error(415, "json_schema is not supported by this model"), ok(VALID_TEXT)]
    route = respx.post(COMPLETIONS).mock(side_effect=responses)
    outcome = decide_once()
    assert [format_of(route, i) for i in range(2)] == ["json_schema", "json_object"]
    assert outcome.decision.action is Action.BUY


@respx.mock
def test_when_every_format_is_refused_the_result_is_hold() -> None:
    route = respx.post(COMPLETIONS).mock(return_value=error(400, "bad request"))
    outcome = decide_once()
    assert route.call_count == 3
    assert outcome.decision.action is Action.HOLD
    assert outcome.hold_reason == "bad_request"
    assert len(outcome.errors) == 3


@respx.mock
def test_a_configured_format_is_used_alone_without_fallback() -> None:
    route = respx.post(COMPLETIONS).mock(return_value=error(400, "no json mode here"))
    outcome = decide_once(response_format="json_object")
    assert route.call_count == 1
    assert format_of(route, 0) == "json_object"
    assert outcome.hold_reason == "bad_request"
    assert outcome.fallback_used is False


@respx.mock
def test_configured_text_sends_no_response_format() -> None:
    route = respx.post(COMPLETIONS).mock(return_value=ok(f"```json\n{VALID_TEXT}\n```"))
    outcome = decide_once(response_format="text")
    assert "response_format" not in body_of(route, 0)
    assert outcome.decision.action is Action.BUY
    assert outcome.fallback_used is False
