"""Which ``response_format`` to ask for, and what each server accepted this run.

Structured outputs (``json_schema``, strict) are best: the server guarantees the shape.
Not every OpenAI-compatible server has them, so the decider steps down to
``json_object`` and then to plain text with the schema in the prompt. Stepping down
costs a failed request, so what worked is remembered per ``base_url`` for the rest of
the run. The memory is an object the caller creates and shares (bootstrap makes one
per run), never module state: two runs or two tests never see each other's servers.
"""

from __future__ import annotations

from typing import Literal

ResponseFormatName = Literal["json_schema", "json_object", "text"]

FORMAT_LADDER: tuple[ResponseFormatName, ...] = ("json_schema", "json_object", "text")
"""Best first; each step asks less of the server."""


class ResponseFormatMemory:
    """The response format each server answered with during this run."""

    def __init__(self) -> None:
        self._working: dict[str, ResponseFormatName] = {}

    def working_format(self, base_url: str) -> ResponseFormatName | None:
        """The format ``base_url`` last answered with, or ``None`` if not asked yet."""
        return self._working.get(base_url)

    def remember(self, base_url: str, response_format: ResponseFormatName) -> None:
        """Record that ``base_url`` answered a request made with ``response_format``."""
        self._working[base_url] = response_format

    def __repr__(self) -> str:
        return f"ResponseFormatMemory({self._working!r})"


def formats_to_try(
    configured: str, remembered: ResponseFormatName | None
) -> tuple[ResponseFormatName, ...]:
    """The formats to try, in order, for one decision.

    Args:
        configured: ``config.llm.response_format``; anything but ``"auto"`` is used
            alone, without fallback, because the operator chose it.
        remembered: what this server answered with earlier in the run.
    """
    for name in FORMAT_LADDER:
        if configured == name:
            return (name,)
    start = FORMAT_LADDER.index(remembered) if remembered is not None else 0
    return FORMAT_LADDER[start:]
