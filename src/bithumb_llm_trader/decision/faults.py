"""What a failed model request means: give up, retry, step down a format, or shrink.

Pure functions over the SDK's exceptions and the server's error text. Order matters:
a context-length error (llama.cpp "request (6885 tokens) exceeds the available context
size (4096 tokens)", llama-cpp-python and vLLM "This model's maximum context length is
4096 tokens ...", OpenAI ``context_length_exceeded``) comes back as 400 like a refused
``response_format``, and stepping down a format would only resend the same prompt with
more text in it, so it is recognised first and becomes its own reason,
``context_overflow``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from .server import context_from_error

FORMAT_WORDS = ("response_format", "json_schema", "unsupported", "not supported")
_CONTEXT_CODES = ("context_length_exceeded", "exceed_context_size_error")
_CONTEXT_STATUSES = (400, 413, 422, 500)


@dataclass(frozen=True, slots=True)
class Fault:
    """Why a request, or a whole decision, produced no usable answer."""

    reason: str  # becomes ``DecisionOutcome.hold_reason``
    message: str
    retryable: bool = False
    retry_after: float | None = None
    format_rejected: bool = False
    context_tokens: int | None = None  # a context size the server named


def is_context_overflow(status: int, text: str) -> bool:
    """Whether an error answer says the request does not fit the model's context."""
    if status not in _CONTEXT_STATUSES:
        return False
    lowered = text.lower()
    if any(code in lowered for code in _CONTEXT_CODES) or "n_ctx" in lowered:
        return True
    if "context" in lowered and any(
        word in lowered for word in ("exceed", "length", "size", "window", "too long")
    ):
        return True
    return "too long" in lowered or "reduce the length of the messages" in lowered


def rejects_format(status: int, detail: str) -> bool:
    """Whether an error answer means "this server cannot do this response_format".

    Servers without structured outputs answer 400 or 422, some crash with 500; others
    say so in a 4xx message.
    """
    if status in (400, 422, 500):
        return True
    mentions = any(word in detail.lower() for word in FORMAT_WORDS)
    return 400 <= status < 500 and status not in (404, 429) and mentions


def overflow_fault(status: int, code: str | None, body: object, detail: str) -> Fault | None:
    """``context_overflow`` when the error says so, with the context size it names.

    Args:
        status: the HTTP status.
        code: the error's ``code``, if any.
        body: the parsed error body (its fields, e.g. llama.cpp's ``n_ctx``, count too).
        detail: the error's message as shown.
    """
    dumped = json.dumps(body, default=str) if isinstance(body, (dict, list)) else ""
    text = f"{detail} {code or ''} {dumped}"
    if not is_context_overflow(status, text):
        return None
    return Fault("context_overflow", f"the prompt does not fit the model's context: {detail}",
                 context_tokens=context_from_error(text))
