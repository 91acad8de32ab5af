"""The adapters: the Bithumb client, the paper exchange and the deciders."""

from __future__ import annotations

from decimal import Decimal

import httpx

from ..api_client import BithumbClient, RateLimiter
from ..config import StrategyConfig
from ..decision import ResponseFormatMemory, RuleBasedDecider
from ..errors import LiveTradingRefused
from ..paper import PaperExchange
from ..ports import Clock, Decider, MarketData, Store
from .mode import ModeChoice, keyless_server


def build_client(
    config: StrategyConfig, clock: Clock, transport: httpx.AsyncBaseTransport | None = None,
    *, rate_limiter: RateLimiter | None = None,
) -> BithumbClient:
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
    decider = LLMDecisionMaker(
        config.llm,
        api_key=llm_key,
        clock=clock,
        http_client=http,
        cache=store,
        use_cache=use_cache,
        formats=formats or ResponseFormatMemory(),
    )
    return decider, http


def public_client(base_url: str, clock: Clock,
                  transport: httpx.AsyncBaseTransport | None = None) -> BithumbClient:
    """A client of the public API only (no keys): candles for ``download-candles``."""
    return BithumbClient(base_url, transport=transport, clock=clock)
