"""Asking a model server once what it is and how much context it has.

One ``GET {base_url}/models`` per server and run (and llama.cpp's ``/props``, which has
the context the server was started with, when ``/models`` names only the model's
training context). Whatever goes wrong (404, timeout, HTML, garbage), the answer is
"nothing learned": the kind then comes from the ``server`` header or the URL and the
context from the default, and the decider asks as it would have. Nothing here raises.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from ..config import LLMConfig
from .formats import ServerState
from .server import (
    DEFAULT_CONTEXT_TOKENS,
    context_from_models,
    context_from_props,
    kind_from_models,
    kind_from_url,
)

logger = logging.getLogger(__name__)

PROBE_TIMEOUT_S = 5.0

GetJson = Callable[[str, float], Awaitable[tuple[Any, str]]]
"""``GET url`` with a timeout: the parsed JSON and the ``server`` header, or
``(None, "")`` on any fault (it must not raise)."""


async def learn_server(get: GetJson, base_url: str, config: LLMConfig,
                       state: ServerState) -> None:
    """Fill in ``state.kind`` and the model's context (config first, then the server)."""
    configured_kind = None if config.server == "auto" else config.server
    model = state.model(config.model)
    if config.context_tokens is not None:
        model.context_tokens, model.context_source = config.context_tokens, "config"
    if configured_kind is not None and model.context_tokens is not None:
        state.kind = configured_kind
        return
    timeout = min(PROBE_TIMEOUT_S, config.timeout)
    models, header = await get(f"{base_url}/models", timeout)
    kind = configured_kind or kind_from_models(models, header) or kind_from_url(base_url)
    state.kind = kind
    if model.context_tokens is not None:
        return
    context = None
    if kind == "llamacpp":
        props, _ = await get(_root(base_url) + "/props", timeout)
        context = context_from_props(props)
        source = "server /props"
    if context is None:
        context = context_from_models(models, config.model)
        source = "server /models"
    if context is None:
        context, source = DEFAULT_CONTEXT_TOKENS, "default"
    model.context_tokens, model.context_source = context, source
    logger.debug("%s: %s server, context %s (%s)", base_url, kind, context, source)


def _root(base_url: str) -> str:
    """The server's root: ``http://host:8080/v1`` -> ``http://host:8080``."""
    trimmed = base_url.rstrip("/")
    return trimmed[:-3] if trimmed.endswith("/v1") else trimmed
