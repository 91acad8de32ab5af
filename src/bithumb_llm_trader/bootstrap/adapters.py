"""The adapters: the Bithumb client, the paper exchange and the deciders."""

from __future__ import annotations

import importlib
from contextlib import suppress
from decimal import Decimal

import httpx

from ..api_client import BithumbClient, RateLimiter
from ..config import LLMConfig, StrategyConfig
from ..decision import ResponseFormatMemory, RuleBasedDecider
from ..errors import LiveTradingRefused
from ..paper import PaperExchange
from ..ports import Clock, Decider, MarketData, Store
from .mode import ModeChoice, keyless_server


def build_client(
    config: StrategyConfig, clock: Clock, transport: httpx.AsyncBaseTransport | None = None,
    *, rate_limiter: RateLimiter | None = None,
) -> BithumbClient:
    _load_async_backend()
    api = config.api
    return BithumbClient(
        api.base_url,
        api_key=api.api_key.get_secret_value() if api.api_key else None,
        api_secret=api.api_secret.get_secret_value() if api.api_secret else None,
        timeout=api.timeout,
        max_retries=api.max_retries,
        transport=transport,
        clock=clock,
        rate_limiter=rate_limiter,
    )


def _load_async_backend() -> None:
    """Load now what httpx's connection pool loads on its first connection (anyio's
    asyncio backend, 15-30 ms): otherwise the first cycle's snapshot pays for it while
    the market moves. A later anyio may keep it elsewhere: then it loads as before."""
    with suppress(ImportError):
        importlib.import_module("anyio._backends._asyncio")


def build_paper(
    config: StrategyConfig, *, source: MarketData, client: BithumbClient, store: Store,
    clock: Clock, owner: str | None = None,
    initial_balances: dict[str, Decimal] | None = None,
) -> PaperExchange:
    """A paper wallet that fills against ``source``'s real books (a dry run)."""
    return PaperExchange(
        source, store, strategy=owner or config.name,
        initial_balances=initial_balances or config.paper.initial_balances, clock=clock,
        fee_rate=config.allocation.fee_rate, min_order_krw=config.allocation.min_order_krw,
        account_source=client if config.api.has_keys else None,
    )


def rule_decider(config: StrategyConfig) -> RuleBasedDecider:
    return RuleBasedDecider(
        config.strategy.rules,
        stop_loss_pct=config.risk.stop_loss_pct,
        take_profit_pct=config.risk.take_profit_pct,
    )


def build_decider(
    config: StrategyConfig,
    *,
    mode: ModeChoice,
    llm_key: str | None,
    clock: Clock,
    store: Store,
    notes: list[str],
    formats: ResponseFormatMemory | None = None,
    cache: bool | None = None,
) -> tuple[Decider, httpx.AsyncClient | None]:
    """The LLM decider when it can run; the rules when asked for or when dry without a key.

    A ``llm.base_url`` on a server other than OpenAI's needs no key: the model there is
    called without one (the SDK gets a dummy), and the notes say so.
    """
    rules = rule_decider(config)
    if config.strategy.decider == "rules":
        return rules, None
    local = keyless_server(config.llm)
    if not llm_key and local is None:
        if mode.live:
            raise LiveTradingRefused("no OpenAI key for a live run")
        notes.append("no OpenAI key: using the rule-based decider for this dry run")
        return rules, None
    if llm_key:
        notes.append(f"decider: llm, model {config.llm.model} at {local or 'OpenAI'}")
    else:
        notes.append(f"decider: llm, model {config.llm.model} at {local}, without a key"
                     " (not OpenAI's server, so none is needed)")
    # Imported here: the openai SDK takes a third of a second to import, and most
    # commands (report, validate, dry runs without a key) never need it.
    from ..decision.llm import LLMDecisionMaker

    http = httpx.AsyncClient(timeout=config.llm.timeout)
    use_cache = config.llm.cache if cache is None else cache
    formats = formats or ResponseFormatMemory()
    decider = LLMDecisionMaker(
        config.llm,
        api_key=llm_key,
        clock=clock,
        http_client=http,
        cache=store,
        use_cache=use_cache,
        formats=formats,
    )
    if not config.llm.shadow_models:
        return decider, http
    shadows = [
        LLMDecisionMaker(shadow_config, api_key=key, clock=clock, http_client=http,
                         formats=formats, shadow=True)
        for shadow_config, key in shadow_configs(config.llm, llm_key, notes)
    ]
    from ..decision.shadow import ShadowingDecider

    notes.append(f"shadow models (recorded, never traded): "
                 f"{', '.join(s.model for s in shadows) or 'none usable'}")
    return ShadowingDecider(decider, shadows, [s.model for s in shadows]), http


def shadow_configs(
    llm: LLMConfig, llm_key: str | None, notes: list[str]
) -> list[tuple[LLMConfig, str | None]]:
    """Each shadow model's full ``llm`` section (the primary's, with the shadow's fields
    over it) and its key.

    The primary's key goes only where the primary's goes (the same ``base_url``) or to
    OpenAI's own server; a key is never sent to another host. A shadow on OpenAI's
    server without any key is left out, and the notes say so.
    """
    chosen = []
    for shadow in llm.shadow_models:
        changes = {name: value for name, value in shadow.model_dump(exclude={"api_key"}).items()
                   if value is not None}
        shadow_config = llm.model_copy(update={**changes, "api_key": shadow.api_key,
                                               "shadow_models": [], "cache": False})
        key = shadow.api_key.get_secret_value() if shadow.api_key else None
        keyless = keyless_server(shadow_config) is not None
        if key is None and (not keyless or shadow_config.base_url == llm.base_url):
            key = llm_key
        if key is None and not keyless:
            notes.append(f"shadow model {shadow.model}: no key for OpenAI's server; left out")
            continue
        chosen.append((shadow_config, key))
    return chosen


def public_client(base_url: str, clock: Clock,
                  transport: httpx.AsyncBaseTransport | None = None) -> BithumbClient:
    """A client of the public API only (no keys): candles for ``download-candles``."""
    return BithumbClient(base_url, transport=transport, clock=clock)
