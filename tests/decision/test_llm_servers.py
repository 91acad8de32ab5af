"""Constrained output per server kind (issue 18): what each kind is sent, how the kind
is detected, and that detection never breaks a decision."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import respx

from bithumb_llm_trader.decision import Action, ResponseFormatMemory, TradeDecision
from bithumb_llm_trader.decision.schema import decision_json_schema
from bithumb_llm_trader.decision.server import (
    context_from_error,
    context_from_models,
    kind_from_models,
    kind_from_url,
)
from tests.decision.llm_helpers import (
    BASE_URL,
    COMPLETIONS,
    VALID_TEXT,
    body_of,
    decide,
    decide_once,
    error,
    ok,
)

MODELS = f"{BASE_URL}/models"
MODEL = "gpt-4o-mini"  # LLMConfig's default
LLAMACPP_MODELS = {"object": "list", "data": [
    {"id": "smollm2", "object": "model", "owned_by": "llamacpp",
     "meta": {"n_ctx_train": 8192, "n_vocab": 49152}}]}
VLLM_MODELS = {"object": "list", "data": [
    {"id": "qwen", "object": "model", "owned_by": "vllm", "max_model_len": 32768}]}
OLLAMA_MODELS = {"object": "list", "data": [
    {"id": "llama3.2:1b", "object": "model", "owned_by": "library"}]}
OPENAI_MODELS = {"object": "list", "data": [
    {"id": "gpt-4o-mini", "object": "model", "owned_by": "system"}]}


def _serve_models(body: Any, status: int = 200) -> None:
    respx.get(MODELS).mock(return_value=httpx.Response(status, json=body))
    respx.get("https://llm.test/props").mock(return_value=httpx.Response(404))


@respx.mock
def test_llamacpp_gets_json_object_with_a_grammar_ready_schema() -> None:
    _serve_models(LLAMACPP_MODELS)
    route = respx.post(COMPLETIONS).mock(return_value=ok(VALID_TEXT))

    outcome = decide_once()

    sent = body_of(route, 0)
    assert sent["response_format"]["type"] == "json_object"
    schema = sent["response_format"]["schema"]
    assert schema == decision_json_schema("grid")
    variants = schema["anyOf"]
    # one object per action and order type: intents and limit prices always fit
    assert len(variants) == 5
    hold = next(v for v in variants if v["properties"]["action"]["enum"] == ["hold"])
    assert hold["properties"]["agent_intent"]["enum"] == ["hold"]
    assert hold["properties"]["limit_price"]["enum"] == [None]
    confidence = variants[0]["properties"]["confidence"]["enum"]
    assert min(confidence) == 0 and max(confidence) == 1  # bounds a grammar enforces
    assert max(variants[0]["properties"]["risk_pct"]["enum"]) == 0.05
    assert "JSON Schema" not in sent["messages"][0]["content"]  # enforced, not spelt out
    assert outcome.response_format == "json_object_schema"
    assert outcome.fallback_used is False
    assert outcome.audit is not None and outcome.audit.server_kind == "llamacpp"
    assert outcome.audit.context_tokens == 8192  # n_ctx_train, /props being absent


def test_a_grid_answer_passes_validation() -> None:
    for variant in decision_json_schema("grid")["anyOf"]:
        answer = {name: (prop["enum"][0] if "enum" in prop else None)
                  for name, prop in variant["properties"].items()}
        answer["rationale"] = "x"
        if answer["order_type"] == "limit":
            answer["limit_price"] = 1000
        TradeDecision.model_validate(answer)


@respx.mock
def test_llamacpp_props_give_the_context_the_server_runs_with() -> None:
    respx.get(MODELS).mock(return_value=httpx.Response(200, json=LLAMACPP_MODELS))
    respx.get("https://llm.test/props").mock(return_value=httpx.Response(
        200, json={"default_generation_settings": {"n_ctx": 4096}}))
    respx.post(COMPLETIONS).mock(return_value=ok(VALID_TEXT))

    outcome = decide_once()

    assert outcome.audit is not None and outcome.audit.context_tokens == 4096


@respx.mock
def test_vllm_gets_json_schema_with_ranges_then_guided_json() -> None:
    _serve_models(VLLM_MODELS)
    route = respx.post(COMPLETIONS).mock(side_effect=[
        error(400, "unknown field response_format.json_schema"), ok(VALID_TEXT)])

    outcome = decide_once()

    first, second = body_of(route, 0), body_of(route, 1)
    schema = first["response_format"]["json_schema"]["schema"]
    assert schema["properties"]["confidence"]["maximum"] == 1
    assert schema["properties"]["stop_loss_pct"]["exclusiveMinimum"] == 0
    assert "response_format" not in second
    assert second["guided_json"] == decision_json_schema("range")
    assert outcome.response_format == "guided_json"
    assert outcome.audit is not None and outcome.audit.context_tokens == 32768


@respx.mock
def test_ollama_gets_json_schema_with_grid_bounds() -> None:
    _serve_models(OLLAMA_MODELS)
    route = respx.post(COMPLETIONS).mock(return_value=ok(VALID_TEXT))

    outcome = decide_once()

    sent = body_of(route, 0)["response_format"]
    assert sent["type"] == "json_schema"
    assert sent["json_schema"]["schema"] == decision_json_schema("grid")
    assert outcome.audit is not None and outcome.audit.server_kind == "ollama"


@respx.mock
def test_openai_gets_strict_json_schema_with_ranges() -> None:
    _serve_models(OPENAI_MODELS)
    route = respx.post(COMPLETIONS).mock(return_value=ok(VALID_TEXT))

    decide_once()

    sent = body_of(route, 0)["response_format"]
    assert sent["json_schema"]["strict"] is True
    assert sent["json_schema"]["schema"] == decision_json_schema("range")


@respx.mock
def test_configured_server_skips_detection_and_context_skips_the_probe() -> None:
    models = respx.get(MODELS).mock(return_value=httpx.Response(200, json=OPENAI_MODELS))
    route = respx.post(COMPLETIONS).mock(return_value=ok(VALID_TEXT))

    outcome = decide_once(server="llamacpp", context_tokens=4096)

    assert models.call_count == 0
    assert body_of(route, 0)["response_format"]["type"] == "json_object"
    assert outcome.audit is not None and outcome.audit.context_tokens == 4096


@pytest.mark.parametrize("answer", [
    httpx.Response(200, text="<html><title>Open WebUI</title></html>",
                   headers={"content-type": "text/html"}),
    httpx.Response(200, json=["not", "a", "listing"]),
    httpx.Response(500, text="boom"),
    httpx.ConnectError("refused"),
])
@respx.mock
def test_detection_never_breaks_a_decision(answer: Any) -> None:
    models = respx.get(MODELS)
    if isinstance(answer, Exception):
        models.mock(side_effect=answer)
    else:
        models.mock(return_value=answer)
    route = respx.post(COMPLETIONS).mock(return_value=ok(VALID_TEXT))
    memory = ResponseFormatMemory()

    first, second = decide(formats=memory, times=2)

    assert first.decision.action is second.decision.action is Action.BUY
    assert models.call_count == 1  # asked once per server and run, answer or not
    assert body_of(route, 0)["response_format"]["type"] == "json_schema"
    assert memory.server(BASE_URL).kind == "generic"
    assert memory.server(BASE_URL).model(MODEL).context_tokens == 8192


def test_kind_from_the_listing_header_or_url() -> None:
    assert kind_from_models(LLAMACPP_MODELS) == "llamacpp"
    assert kind_from_models({"data": [{"id": "x", "owned_by": "me"}]}) == "llamacpp"
    assert kind_from_models(VLLM_MODELS) == "vllm"
    assert kind_from_models(OLLAMA_MODELS) == "ollama"
    assert kind_from_models(OPENAI_MODELS) == "openai"
    assert kind_from_models({"data": [{"id": "x", "owned_by": "someone"}]}) is None
    assert kind_from_models(None, "llama.cpp") == "llamacpp"
    assert kind_from_models("garbage") is None
    assert kind_from_url("http://localhost:11434/v1") == "ollama"
    assert kind_from_url("http://127.0.0.1:8080/v1") == "llamacpp"
    assert kind_from_url("http://gpu:8000/v1") == "vllm"
    assert kind_from_url("https://api.openai.com/v1") == "openai"
    assert kind_from_url("https://example.com/v1") == "generic"
    assert kind_from_url("http://[::1/v1") == "generic"


def test_context_sizes_from_listings_and_errors() -> None:
    assert context_from_models(VLLM_MODELS, "qwen") == 32768
    meta = {"data": [{"id": "m", "meta": {"n_ctx": 4096, "n_ctx_train": 8192}}]}
    assert context_from_models(meta, "m") == 4096  # the server's own before training's
    assert context_from_models(OPENAI_MODELS, "gpt-4o-mini") is None
    assert context_from_error("This model's maximum context length is 4096 tokens. "
                              "However, you requested 7485 tokens") == 4096
    assert context_from_error("request (6885 tokens) exceeds the available context size "
                              "(4096 tokens), try increasing it") == 4096
    assert context_from_error("the request exceeds the available context size") is None
