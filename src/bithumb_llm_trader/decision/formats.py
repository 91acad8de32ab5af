"""Which constrained-output request to make, and what each server showed this run.

Servers enforce the answer's shape in different ways, so the ladder of formats depends
on the kind of server (``server.detect_kind``):

- OpenAI: ``json_schema`` (strict structured outputs);
- llama.cpp (and llama-cpp-python): ``json_object`` with a ``schema`` beside it
  (``json_object_schema``), which its grammar engine turns into a grammar;
- vLLM: ``json_schema``, else ``guided_json`` in the request body (older versions);
- Ollama: ``json_schema``, which its OpenAI endpoint hands to the native ``format``;
- unknown servers: ``json_schema``.

Each ladder then steps down to ``json_object`` (shape not enforced, schema in the
prompt) and plain text. Stepping down costs a failed request, so what worked is
remembered per ``base_url`` for the rest of the run, together with the server's kind,
its context size and how the token estimate compares with the server's counts. The
memory is an object the caller creates and shares (bootstrap makes one per run), never
module state: two runs or two tests never see each other's servers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ResponseFormatName = Literal["json_schema", "json_object_schema", "guided_json", "json_object",
                             "text"]
ServerKind = Literal["openai", "llamacpp", "vllm", "ollama", "generic"]

FORMAT_LADDER: tuple[ResponseFormatName, ...] = ("json_schema", "json_object", "text")
"""The ladder of a server of unknown kind: best first; each step asks less of it."""

LADDERS: dict[ServerKind, tuple[ResponseFormatName, ...]] = {
    "openai": FORMAT_LADDER,
    "llamacpp": ("json_object_schema", "json_object", "text"),
    "vllm": ("json_schema", "guided_json", "json_object", "text"),
    "ollama": FORMAT_LADDER,
    "generic": FORMAT_LADDER,
}

CONSTRAINED: frozenset[ResponseFormatName] = frozenset(
    {"json_schema", "json_object_schema", "guided_json"})
"""Formats whose shape the server enforces: the prompt need not spell out the schema."""

_RATIO_MIN, _RATIO_MAX = 0.3, 3.0


@dataclass(slots=True)
class ModelState:
    """What one model on one server showed: its context and how tokens compare."""

    context_tokens: int | None = None
    context_source: str | None = None
    estimated: int = 0  # estimated prompt tokens of requests the server counted
    counted: int = 0  # what the server counted for them

    @property
    def token_ratio(self) -> float:
        """Server-counted tokens per estimated token (1.0 until the server has counted)."""
        if self.estimated <= 0 or self.counted <= 0:
            return 1.0
        return min(max(self.counted / self.estimated, _RATIO_MIN), _RATIO_MAX)


@dataclass(slots=True)
class ServerState:
    """What one server showed during this run; context and token counts per model
    (a primary and a shadow may share a server, each with its own tokenizer)."""

    working: ResponseFormatName | None = None
    kind: ServerKind | None = None
    models: dict[str, ModelState] = field(default_factory=dict)

    def model(self, name: str) -> ModelState:
        """The state of model ``name`` on this server (created empty on first use)."""
        return self.models.setdefault(name, ModelState())


class ResponseFormatMemory:
    """The response format, kind, context size and token ratio of each server this run."""

    def __init__(self) -> None:
        self._servers: dict[str, ServerState] = {}

    def server(self, base_url: str) -> ServerState:
        """The state of ``base_url`` (created empty on first use)."""
        return self._servers.setdefault(base_url, ServerState())

    def working_format(self, base_url: str) -> ResponseFormatName | None:
        """The format ``base_url`` last answered with, or ``None`` if not asked yet."""
        state = self._servers.get(base_url)
        return state.working if state else None

    def remember(self, base_url: str, response_format: ResponseFormatName) -> None:
        """Record that ``base_url`` answered a request made with ``response_format``."""
        self.server(base_url).working = response_format

    def calibrate(self, base_url: str, model: str, estimated: int, counted: int) -> None:
        """Add one request's estimate and the server's count to the model's ratio."""
        if estimated > 0 and counted > 0:
            state = self.server(base_url).model(model)
            state.estimated += estimated
            state.counted += counted

    def __repr__(self) -> str:
        return f"ResponseFormatMemory({self._servers!r})"


def formats_to_try(
    configured: str, remembered: ResponseFormatName | None, kind: ServerKind = "generic"
) -> tuple[ResponseFormatName, ...]:
    """The formats to try, in order, for one decision.

    Args:
        configured: ``config.llm.response_format``; anything but ``"auto"`` is used
            alone, without fallback, because the operator chose it.
        remembered: what this server answered with earlier in the run.
        kind: the server's kind, which picks the ladder.
    """
    if configured != "auto":
        for name in FORMAT_LADDER:
            if configured == name:
                return (name,)
    ladder = LADDERS[kind]
    start = ladder.index(remembered) if remembered in ladder else 0
    return ladder[start:]
