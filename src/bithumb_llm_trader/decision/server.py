"""What kind of server a ``base_url`` is, and how much context it has: pure functions.

The decider asks ``GET {base_url}/models`` once per server and run, and reads the answer
here. Servers say who they are in different ways: llama.cpp's models have
``owned_by: "llamacpp"`` and a ``meta`` block (``n_ctx_train``, sometimes ``n_ctx``),
llama-cpp-python's have ``owned_by: "me"``, vLLM's ``owned_by: "vllm"`` and
``max_model_len``, Ollama's ``owned_by: "library"`` (or the user's name) and OpenAI's
``system``/``openai``. When the answer says nothing, the ``server`` header or the URL's
host and default port decide (11434 Ollama, 8080 llama.cpp, 8000 vLLM). Nothing here
raises on a strange answer: detection falls back to ``generic``, which asks as before.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from .formats import ServerKind

DEFAULT_CONTEXT_TOKENS = 8192
"""The context assumed when neither the config nor the server says."""

_OWNERS: dict[str, ServerKind] = {
    "llamacpp": "llamacpp", "llama.cpp": "llamacpp", "me": "llamacpp",
    "vllm": "vllm", "ollama": "ollama", "library": "ollama",
    "openai": "openai", "system": "openai", "openai-internal": "openai",
}
_PORTS: dict[int, ServerKind] = {11434: "ollama", 8080: "llamacpp", 8000: "vllm"}
_CONTEXT_KEYS = ("n_ctx", "max_model_len", "context_length", "context_window",
                 "max_context_length", "n_ctx_train")
"""Keys that name a context size, the server's own setting before the model's training."""

_CONTEXT_NUMBERS = (
    re.compile(r"maximum context length is (\d+)"),
    re.compile(r"context window of (\d+)"),
    re.compile(r"available context size \((\d+)"),
    re.compile(r"\bn_ctx\W+(\d+)"),
    re.compile(r"context length \((\d+)"),
)


def kind_from_models(body: object, server_header: str = "") -> ServerKind | None:
    """The kind a ``/models`` answer (parsed JSON) or a ``server`` header shows, if any."""
    if isinstance(body, Mapping):
        if "models" in body and "data" in body:  # llama.cpp lists both
            return "llamacpp"
        for entry in _entries(body):
            if "meta" in entry:
                return "llamacpp"
            if "max_model_len" in entry:
                return "vllm"
            owner = entry.get("owned_by")
            if isinstance(owner, str) and owner.lower() in _OWNERS:
                return _OWNERS[owner.lower()]
    header = server_header.lower()
    if "llama" in header:
        return "llamacpp"
    if "ollama" in header:
        return "ollama"
    return None


def kind_from_url(base_url: str) -> ServerKind:
    """The kind the URL suggests: OpenAI's host, or a local server's default port."""
    try:
        parts = urlsplit(base_url)
        host, port = (parts.hostname or "").lower(), parts.port
    except ValueError:
        return "generic"
    if host == "api.openai.com" or host.endswith(".openai.com"):
        return "openai"
    if "ollama" in host:
        return "ollama"
    return _PORTS.get(port or 0, "generic")


def context_from_models(body: object, model: str) -> int | None:
    """The context size a ``/models`` answer gives for ``model`` (else its first model)."""
    if not isinstance(body, Mapping):
        return None
    entries = _entries(body)
    chosen = [e for e in entries if e.get("id") == model] or entries[:1]
    for entry in chosen:
        for source in (entry.get("meta"), entry):
            found = _context_in(source)
            if found is not None:
                return found
    return None


def context_from_props(body: object) -> int | None:
    """llama.cpp's ``/props``: ``default_generation_settings.n_ctx`` (or ``n_ctx``)."""
    if not isinstance(body, Mapping):
        return None
    settings = body.get("default_generation_settings")
    return _context_in(settings) or _context_in(body)


def context_from_error(text: str) -> int | None:
    """The context size a context-length error names, e.g. llama-cpp-python's
    "This model's maximum context length is 4096 tokens" or llama.cpp's
    "request (6885 tokens) exceeds the available context size (4096 tokens)"."""
    for pattern in _CONTEXT_NUMBERS:
        found = pattern.search(text)
        if found:
            value = int(found.group(1))
            if value >= 256:
                return value
    return None


def _entries(body: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    data = body.get("data")
    if not isinstance(data, list):
        return []
    return [entry for entry in data if isinstance(entry, Mapping)]


def _context_in(source: object) -> int | None:
    if not isinstance(source, Mapping):
        return None
    for key in _CONTEXT_KEYS:
        value = source.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 256:
            return value
    return None
