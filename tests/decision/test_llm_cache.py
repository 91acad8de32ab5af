"""The decision cache: a hit makes no HTTP call and costs nothing."""

from __future__ import annotations

from decimal import Decimal

import respx

from bithumb_llm_trader.decision import Action, decision_cache_key
from bithumb_llm_trader.errors import StoreError
from bithumb_llm_trader.prompts import Prompt
from tests.decision.llm_helpers import (
    BASE_URL,
    COMPLETIONS,
    PROMPT,
    VALID_TEXT,
    DictCache,
    decide,
    decide_once,
    error,
    ok,
)


@respx.mock
def test_a_cache_hit_makes_no_http_call() -> None:
    route = respx.post(COMPLETIONS).mock(return_value=ok(VALID_TEXT))
    store = DictCache()

    first, second = decide(store=store, cache=True, times=2)

    assert route.call_count == 1
    assert first.cached is False and first.cost_usd == Decimal("0.00018000")
    assert second.cached is True
    assert second.decision == first.decision
    assert second.cost_usd == 0
    assert second.attempts == 0
    assert (second.prompt_tokens, second.completion_tokens) == (0, 0)
    key = decision_cache_key("gpt-4o-mini", BASE_URL, PROMPT)
    assert set(store.values) == {key}
    assert store.models[key] == "gpt-4o-mini"


@respx.mock
def test_the_constructor_flag_overrides_the_config() -> None:
    route = respx.post(COMPLETIONS).mock(return_value=ok(VALID_TEXT))
    store = DictCache()
    decide(store=store, use_cache=True, times=2)  # config.cache is False
    assert route.call_count == 1
    decide(store=store, cache=True, use_cache=False, times=1)
    assert route.call_count == 2


@respx.mock
def test_cache_off_by_default_asks_every_time() -> None:
    route = respx.post(COMPLETIONS).mock(return_value=ok(VALID_TEXT))
    store = DictCache()
    decide(store=store, times=2)
    assert route.call_count == 2
    assert store.values == {}


@respx.mock
def test_a_hold_after_a_fault_is_not_cached() -> None:
    route = respx.post(COMPLETIONS).mock(side_effect=[error(400, "x")] * 3 + [ok(VALID_TEXT)])
    store = DictCache()
    first, second = decide(store=store, cache=True, times=2)
    assert first.hold_reason == "bad_request"
    assert second.decision.action is Action.BUY and second.cached is False
    assert route.call_count == 4
    assert len(store.values) == 1


@respx.mock
def test_the_key_depends_on_model_server_and_prompt() -> None:
    other_prompt = Prompt(PROMPT.system, PROMPT.user + " ", PROMPT.version)
    keys = {
        decision_cache_key("gpt-4o-mini", BASE_URL, PROMPT),
        decision_cache_key("gpt-4o", BASE_URL, PROMPT),
        decision_cache_key("gpt-4o-mini", "https://other.test/v1", PROMPT),
        decision_cache_key("gpt-4o-mini", BASE_URL, other_prompt),
    }
    assert len(keys) == 4
    route = respx.post(COMPLETIONS).mock(return_value=ok(VALID_TEXT))
    store = DictCache()
    decide(store=store, cache=True)
    decide(store=store, cache=True, model="gpt-4o")
    assert route.call_count == 2


@respx.mock
def test_a_corrupt_entry_or_a_broken_store_falls_back_to_the_model() -> None:
    route = respx.post(COMPLETIONS).mock(return_value=ok(VALID_TEXT))
    store = DictCache()
    store.values[decision_cache_key("gpt-4o-mini", BASE_URL, PROMPT)] = '{"action": "moon"}'
    assert decide_once(store=store, cache=True).cached is False

    class BrokenStore(DictCache):
        def cache_get(self, key: str) -> str | None:
            raise StoreError("database is locked")

        def cache_put(self, key: str, model: str, value: str) -> None:
            raise StoreError("database is locked")

    outcome = decide_once(store=BrokenStore(), cache=True)
    assert outcome.decision.action is Action.BUY
    assert route.call_count == 2
