"""Shadow models: other models asked the same question at the same time, never traded.

A ``ShadowingDecider`` wraps the primary decider and any number of shadow deciders. Each
decision asks all of them concurrently with the same prompt and snapshot; the primary's
outcome is the decision (what the engine trades), and the shadows' outcomes ride along
in ``DecisionOutcome.shadows`` to be recorded beside it (``audit.shadow_records``), so
a report can compare models on exactly the same questions. A shadow's fault is its own
HOLD; it never delays the primary's answer beyond the slowest shadow's timeout and never
changes it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Sequence
from typing import Protocol

from ..market.model import MarketSnapshot
from ..prompts.model import Prompt
from .model import DecisionOutcome, TradeDecision

logger = logging.getLogger(__name__)


class _Decider(Protocol):
    name: str
    needs_prompt: bool

    async def decide(self, prompt: Prompt, snapshot: MarketSnapshot) -> DecisionOutcome: ...


class ShadowingDecider:
    """The primary decider, with shadow deciders asked alongside it.

    Args:
        primary: decides what is traded.
        shadows: decide the same prompt; their outcomes are recorded only. Each should
            mark its outcomes ``shadow`` (``LLMDecisionMaker(shadow=True)``); this
            wrapper marks them too.
        models: the shadows' model names, for the HOLD of one that fails outright.
    """

    def __init__(self, primary: _Decider, shadows: Sequence[_Decider],
                 models: Sequence[str] = ()) -> None:
        self.primary = primary
        self.shadows = tuple(shadows)
        self._models = tuple(models)
        self.name = primary.name
        self.needs_prompt = primary.needs_prompt

    def __repr__(self) -> str:
        return f"ShadowingDecider({self.primary!r}, shadows={len(self.shadows)})"

    async def decide(self, prompt: Prompt, snapshot: MarketSnapshot) -> DecisionOutcome:
        """The primary's outcome, with the shadows' outcomes attached."""
        results = await asyncio.gather(
            self.primary.decide(prompt, snapshot),
            *(shadow.decide(prompt, snapshot) for shadow in self.shadows),
            return_exceptions=True,
        )
        primary, *others = results
        if isinstance(primary, BaseException):
            raise primary  # the primary's own contract: it never raises for model faults
        shadows = tuple(self._shadow(index, result) for index, result in enumerate(others))
        return dataclasses.replace(primary, shadows=shadows)

    def _shadow(self, index: int, result: DecisionOutcome | BaseException) -> DecisionOutcome:
        if isinstance(result, DecisionOutcome):
            return dataclasses.replace(result, shadow=True)
        logger.warning("shadow model %d failed: %s", index + 1, type(result).__name__)
        model = self._models[index] if index < len(self._models) else None
        return DecisionOutcome(
            decision=TradeDecision.hold(f"internal_error: {type(result).__name__}"),
            decider="llm", model=model, hold_reason="internal_error", attempts=0,
            shadow=True,
        )

    async def aclose(self) -> None:
        """Close every decider that can be closed."""
        for decider in (self.primary, *self.shadows):
            close = getattr(decider, "aclose", None)
            if close is not None:
                await close()
