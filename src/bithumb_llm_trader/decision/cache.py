"""The decision cache: the same prompt to the same model on the same server, asked once.

Useful for backtests and reruns, where identical snapshots recur. Only decisions the
model actually gave are cached, never a HOLD made up after a fault, so a transient
outage is not replayed. The store is a small port (``DecisionCacheStore``) that the SQL
store implements; a cache failure is logged and the model is asked instead.

A cached decision is ``TradeDecision.model_dump_json()`` text, whose Decimals are
strings (exact). ``TradeDecision`` refuses numbers given as text, which a model must not
send, so the cache turns its own strings back into numbers before validating; the
decision is then checked like a model's answer.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
from decimal import Decimal
from typing import Any, Protocol

from ..errors import DecisionError, StoreError
from ..prompts.model import Prompt
from .model import NUMBER_FIELDS, TradeDecision
from .parsing import parse_decision

logger = logging.getLogger(__name__)


class DecisionCacheStore(Protocol):
    """Where cached decisions live (``Store`` satisfies it)."""

    def cache_get(self, key: str) -> str | None: ...

    def cache_put(self, key: str, model: str, value: str) -> None: ...


def decision_cache_key(model: str, base_url: str, prompt: Prompt) -> str:
    """SHA-256 of model, base URL and prompt digest (newline-separated, so no two
    different triples can run together into the same text)."""
    text = f"{model}\n{base_url}\n{prompt.digest}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def load_cached_decision(store: DecisionCacheStore, key: str) -> TradeDecision | None:
    """The cached decision under ``key``; ``None`` when absent, unreadable or invalid."""
    try:
        value = store.cache_get(key)
    except StoreError as exc:
        logger.warning("decision cache unavailable, asking the model: %s", exc)
        return None
    if value is None:
        return None
    try:
        return parse_decision(_numbers_from_text(value))
    except DecisionError as exc:
        logger.warning("ignoring an invalid cached decision %s: %s", key[:12], exc)
        return None


def _numbers_from_text(value: str) -> str | dict[str, Any]:
    """The cached object with its numeric fields' strings as Decimals; ``value`` itself
    when it is no JSON object (``parse_decision`` then says what is wrong)."""
    try:
        data = json.loads(value, parse_float=Decimal)
    except (ValueError, RecursionError):
        return value
    if not isinstance(data, dict):
        return value
    for name in NUMBER_FIELDS:
        text = data.get(name)
        if isinstance(text, str):
            with contextlib.suppress(ArithmeticError):  # not a number: left as text
                data[name] = Decimal(text)
    return data


def save_decision(
    store: DecisionCacheStore, key: str, model: str, decision: TradeDecision
) -> None:
    """Cache ``decision``; a store fault is logged, not raised (the decision stands)."""
    try:
        store.cache_put(key, model, decision.model_dump_json())
    except StoreError as exc:
        logger.warning("could not cache the decision: %s", exc)
