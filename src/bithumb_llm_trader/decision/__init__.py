"""Deciding what to do: the decision type, parsing, the LLM and rule deciders."""

from .model import Action, AgentIntent, DecisionOutcome, TradeDecision

__all__ = ["Action", "AgentIntent", "DecisionOutcome", "TradeDecision"]
