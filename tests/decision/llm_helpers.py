"""Shared pieces of the LLM decider tests: answers, the decider, request bodies."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any

import httpx
import respx

from bithumb_llm_trader.clock import ManualClock
from bithumb_llm_trader.config import LLMConfig, StrategyConfig
from bithumb_llm_trader.decision import DecisionOutcome, LLMDecisionMaker, ResponseFormatMemory
from bithumb_llm_trader.decision.cache import DecisionCacheStore
from bithumb_llm_trader.prompts import Prompt, build_trading_prompt
from tests.prompts.snapshots import snapshot

BASE_URL = "https://llm.test/v1"
COMPLETIONS = f"{BASE_URL}/chat/completions"
API_KEY = "sk-test-0123456789abcdef"

VALID_BUY = {
    "action": "buy",
    "agent_intent": "enter_long",
    "confidence": 0.72,
    "risk_pct": 0.005,
    "stop_loss_pct": 0.015,
    "take_profit_pct": 0.03,
    "order_type": "market",
    "limit_price": None,
    "rationale": "uptrend with room below resistance",
}
VALID_TEXT = json.dumps(VALID_BUY)

SNAPSHOT = snapshot()
PROMPT = build_trading_prompt(SNAPSHOT, SNAPSHOT.position, StrategyConfig())


def answer(content: str | None, **changes: Any) -> dict[str, Any]:
    """A chat-completion body as the server sends it."""
    message = {"role": "assistant", "content": content, "refusal": changes.pop("refusal", None)}
    body: dict[str, Any] = {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 1_759_233_600,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [
            {"index": 0, "message": message, "finish_reason": changes.pop("finish_reason", "stop")}
        ],
        "usage": {"prompt_tokens": 1000, "completion_tokens": 50, "total_tokens": 1050},
    }
    body.update(changes)
    return body


def ok(content: str | None, **changes: Any) -> httpx.Response:
    return httpx.Response(200, json=answer(content, **changes))


def error(status: int, message: str = "error", headers: Mapping[str, str] | None = None,
          code: str | None = None) -> httpx.Response:
    body = {"error": {"message": message, "type": "invalid_request_error", "code": code}}
    return httpx.Response(status, json=body, headers=headers)


def body_of(route: respx.Route, index: int) -> dict[str, Any]:
    """The JSON body of the route's ``index``-th request."""
    return json.loads(route.calls[index].request.content)  # type: ignore[no-any-return]


def format_of(route: respx.Route, index: int) -> str:
    """The response_format type of a request; ``text`` when none was sent."""
    return str(body_of(route, index).get("response_format", {"type": "text"})["type"])


class DictCache:
    """The decision cache as a dict (the SQL store implements the same two methods)."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}
        self.models: dict[str, str] = {}

    def cache_get(self, key: str) -> str | None:
        return self.values.get(key)

    def cache_put(self, key: str, model: str, value: str) -> None:
        self.values[key] = value
        self.models[key] = model


def decide(
    *,
    clock: ManualClock | None = None,
    formats: ResponseFormatMemory | None = None,
    store: DecisionCacheStore | None = None,
    prompt: Prompt = PROMPT,
    times: int = 1,
    use_cache: bool | None = None,
    **config: Any,
) -> list[DecisionOutcome]:
    """Run ``times`` decisions with one decider, as a cycle would, and close it.

    ``store`` is the decision cache; ``config`` holds ``LLMConfig`` fields (``cache=True``
    turns the cache on).
    """
    settings = {"base_url": BASE_URL, **config}
    llm_config = LLMConfig.model_validate(settings)

    async def run() -> list[DecisionOutcome]:
        async with LLMDecisionMaker(
            llm_config,
            api_key=API_KEY,
            clock=clock or ManualClock(),
            cache=store,
            formats=formats,
            use_cache=use_cache,
        ) as decider:
            return [await decider.decide(prompt, SNAPSHOT) for _ in range(times)]

    return asyncio.run(run())


def decide_once(**kwargs: Any) -> DecisionOutcome:
    return decide(**kwargs)[0]
