"""The token budget: does the prompt, as it will be sent, fit the server's context?

There is no tokenizer here (the model's is unknown, and several megabytes), so tokens are
estimated: every digit one token (small models' tokenizers split numbers into digits,
and the prompt is mostly numbers), every other four characters one token, and a few
tokens per message for the chat template. The estimate is then scaled by what the
server counted for earlier requests (``ModelState.token_ratio``), so it converges on
the server's own count after the first answer.

A request needs room for the prompt, the answer (``max_output_tokens``) and, when the
answer must be repaired, the answer sent back plus the list of errors; when the first
request would not leave that room, the candle table is shortened (newest kept) until it
does. With no candles left and still no room, the decision is HOLD
``context_overflow`` without asking.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..prompts.model import Prompt
from ..prompts.shrink import candle_rows, with_candles

MESSAGE_OVERHEAD = 4
"""Tokens a chat template adds around each message (role markers, separators)."""

REPAIR_TEXT_TOKENS = 80
"""Room for the error list and the request of one repair turn."""

Messages = Sequence[Mapping[str, Any]]


def estimate_text(text: str) -> int:
    """Tokens of ``text`` by the digits-plus-chars/4 rule (no tokenizer)."""
    digits = sum(char.isdigit() for char in text)
    return digits + math.ceil((len(text) - digits) / 4)


def estimate_messages(messages: Messages) -> int:
    """Tokens of a chat, before calibration."""
    return sum(MESSAGE_OVERHEAD + estimate_text(str(m.get("content") or "")) for m in messages)


@dataclass(frozen=True, slots=True)
class BudgetPlan:
    """The prompt to send and how it was fitted.

    Attributes:
        prompt: the prompt as it will be sent (fewer candles when shrunk).
        estimated_tokens: the calibrated estimate of the first request's prompt.
        context_tokens: the context it was checked against.
        candles: candle rows in the prompt sent (``None``: no candle table).
        dropped: candle rows left out to fit.
        fits: whether the first request leaves room for its answer (repair turns
            may still not fit; each request is checked again before it is sent).
    """

    prompt: Prompt
    estimated_tokens: int
    context_tokens: int
    candles: int | None
    dropped: int
    fits: bool


@dataclass(frozen=True, slots=True)
class Budget:
    """The limits one decision is planned against."""

    context_tokens: int
    max_output_tokens: int
    repair_attempts: int
    ratio: float = 1.0

    @property
    def reserve(self) -> int:
        """Tokens kept free beside the first prompt: its answer and the repair turns."""
        repair = min(self.max_output_tokens, 400) + REPAIR_TEXT_TOKENS
        return self.max_output_tokens + self.repair_attempts * repair

    def scaled(self, estimate: int) -> int:
        """An estimate scaled by the server's observed ratio."""
        return math.ceil(estimate * self.ratio)

    def fits(self, scaled: int) -> bool:
        """Whether a prompt of ``scaled`` tokens leaves room for its answer."""
        return scaled + self.max_output_tokens <= self.context_tokens


def plan_prompt(
    prompt: Prompt, budget: Budget, to_messages: Callable[[Prompt], Messages]
) -> BudgetPlan:
    """The prompt with as many candles as fit ``budget`` (all of them when they fit).

    Args:
        prompt: the prompt as built.
        budget: the context and the room to keep.
        to_messages: how the prompt becomes the first request's messages (schema text
            included in the unconstrained formats).
    """
    limit = budget.context_tokens - budget.reserve
    shown = candle_rows(prompt)

    def cost(keep: int) -> int:
        return budget.scaled(estimate_messages(to_messages(with_candles(prompt, keep))))

    full = budget.scaled(estimate_messages(to_messages(prompt)))
    if full <= limit or not shown:
        return BudgetPlan(prompt, full, budget.context_tokens, shown, 0, budget.fits(full))
    low, high = 0, shown  # the most candles that fit lies in [low, high); 0 may not fit
    while high - low > 1:
        middle = (low + high) // 2
        if cost(middle) <= limit:
            low = middle
        else:
            high = middle
    fitted = with_candles(prompt, low)
    estimate = cost(low)
    return BudgetPlan(fitted, estimate, budget.context_tokens, candle_rows(fitted) or 0,
                      shown - low, budget.fits(estimate))
