"""The messages of one conversation with the model, and what its answer amounts to.

Pure functions: the first request's messages (with the schema spelt out when the server
does not enforce it), a repair turn, and the reading of one completion's text. Kept
apart from ``llm`` so that module is the transport and the steps only.
"""

from __future__ import annotations

from collections.abc import Callable

from ..prompts.model import Prompt
from .budget import Budget, BudgetPlan
from .completion import Completion
from .faults import Fault
from .formats import CONSTRAINED, ResponseFormatName
from .schema import schema_instruction

Message = dict[str, str]


def first_messages(prompt: Prompt, response_format: ResponseFormatName) -> list[Message]:
    """System and user messages; the schema is added when nothing enforces the shape."""
    system = prompt.system
    if response_format not in CONSTRAINED:
        system = f"{system}\n\n{schema_instruction()}"
    return [{"role": "system", "content": system}, {"role": "user", "content": prompt.user}]


def repair_messages(answer: str, errors: tuple[str, ...]) -> list[Message]:
    """The invalid answer and the request to correct it, field by field."""
    listed = "\n".join(f"- {error}" for error in errors)
    request = (
        f"Your answer is not a valid decision:\n{listed}\n"
        "Reply again with the corrected JSON object only."
    )
    return [{"role": "assistant", "content": answer}, {"role": "user", "content": request}]


def too_long(plan: BudgetPlan, budget: Budget) -> Fault:
    """The fault of a prompt that cannot fit even without candles (it is not sent)."""
    return Fault(
        "context_overflow",
        f"the prompt (~{plan.estimated_tokens} tokens even with {plan.candles or 0} candles)"
        f" and an answer of {budget.max_output_tokens} do not fit the context of"
        f" {budget.context_tokens} tokens; not sent",
    )


def answer_text(completion: Completion, max_output_tokens: int,
                scrub: Callable[[str], str]) -> str | Fault:
    """The answer's text, or why there is none worth parsing."""
    if completion.refusal:
        return Fault("refusal", f"the model refused: {scrub(completion.refusal)}")
    content = completion.content
    if completion.finish_reason == "length":
        return Fault("truncated", f"answer cut off at max_output_tokens={max_output_tokens}")
    if completion.finish_reason == "content_filter":
        return Fault("content_filter", "the server's content filter stopped the answer")
    if content is None or not content.strip():
        return Fault("empty", "the answer is empty")
    return content
