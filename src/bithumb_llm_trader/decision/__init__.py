"""Deciding what to do: the decision type, parsing, the LLM and rule deciders.

``LLMDecisionMaker`` is loaded on first use: it brings in ``openai`` and ``httpx``, which
the trading core (engine, risk) must not import just to read a ``TradeDecision``.
"""

from typing import TYPE_CHECKING, Any

from .audit import decision_payload, decision_records, public_base_url, shadow_records
from .cache import DecisionCacheStore, decision_cache_key
from .cost import estimate_cost_usd, price_for
from .formats import FORMAT_LADDER, ResponseFormatMemory, ResponseFormatName, formats_to_try
from .model import Action, AgentIntent, DecisionOutcome, TradeDecision
from .parsing import parse_decision
from .rules import RuleBasedDecider
from .schema import decision_json_schema, json_schema_response_format, schema_in_words

if TYPE_CHECKING:
    from .llm import LLMDecisionMaker

__all__ = [
    "FORMAT_LADDER",
    "Action",
    "AgentIntent",
    "DecisionCacheStore",
    "DecisionOutcome",
    "LLMDecisionMaker",
    "ResponseFormatMemory",
    "ResponseFormatName",
    "RuleBasedDecider",
    "TradeDecision",
    "decision_cache_key",
    "decision_json_schema",
    "decision_payload",
    "decision_records",
    "estimate_cost_usd",
    "formats_to_try",
    "json_schema_response_format",
    "parse_decision",
    "price_for",
    "public_base_url",
    "schema_in_words",
    "shadow_records",
]


def __getattr__(name: str) -> Any:
    if name == "LLMDecisionMaker":
        from .llm import LLMDecisionMaker

        return LLMDecisionMaker
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
