"""The one place that builds real adapters from a config: client, decider, store, engine.

It also decides, and says, whether a run is live: real orders need ``dry_run: false``
in the file AND ``--live`` on the command line; anything less runs dry and the
``notes`` explain why.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from .api_client import BithumbClient
from .clock import SystemClock
from .config import StrategyConfig
from .decision import ResponseFormatMemory, RuleBasedDecider
from .errors import LiveTradingRefused
from .paper import PaperExchange
from .ports import Clock, Decider, Exchange
from .store import SqlStore, open_store

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RunMode:
    live: bool
    notes: tuple[str, ...]

    @property
    def name(self) -> str:
        return "live" if self.live else "dry"


def resolve_mode(config: StrategyConfig, live_flag: bool) -> RunMode:
    """Live only when both the file and the command line ask for it."""
    if live_flag and not config.dry_run:
        return RunMode(True, ("LIVE: real orders will be sent to Bithumb",))
    if live_flag:
        return RunMode(False, ("dry run: the config says dry_run: true, so --live is ignored",))
    if not config.dry_run:
        return RunMode(
            False, ("dry run: the config says dry_run: false, but --live was not given",)
        )
    return RunMode(False, ("dry run: orders are simulated on the real orderbook",))


def openai_key(config: StrategyConfig, override: str | None) -> str | None:
    if override:
        return override
    key = config.llm.api_key
    return key.get_secret_value() if key and key.get_secret_value() else None


def secrets_of(config: StrategyConfig, extra: str | None = None) -> list[str]:
    """Every secret value a log line must never show."""
    values = [extra or ""]
    for secret in (config.api.api_key, config.api.api_secret, config.llm.api_key):
        if secret is not None:
            values.append(secret.get_secret_value())
    return [v for v in values if v]


def check_live(
    config: StrategyConfig, mode: RunMode, llm_key: str | None, *, decides: bool = True
) -> None:
    """Refuse a live run that lacks what it needs, before any connection is made."""
    if not mode.live:
        return
    if not config.api.has_keys:
        raise LiveTradingRefused(
            "live trading needs Bithumb API keys: set BITHUMB_API_KEY and BITHUMB_API_SECRET"
            " (or api.api_key / api.api_secret in the config)"
        )
    if decides and config.strategy.decider == "llm" and not llm_key:
        raise LiveTradingRefused(
            "live trading with the llm decider needs an OpenAI key: set OPENAI_API_KEY or"
            " pass --openai-api-key (or choose strategy.decider: rules)"
        )


@dataclass(slots=True)
class Runtime:
    """Everything one command needs, built from one config; close it when done."""

    config: StrategyConfig
    mode: RunMode
    client: BithumbClient
    exchange: Exchange
    decider: Decider
    store: SqlStore
    clock: Clock
    notes: list[str] = field(default_factory=list)
    llm_http: httpx.AsyncClient | None = None

    async def aclose(self) -> None:
        await self.client.aclose()
        if self.llm_http is not None:
            await self.llm_http.aclose()


def build_client(
    config: StrategyConfig, clock: Clock, transport: httpx.AsyncBaseTransport | None = None
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
    mode: RunMode,
    llm_key: str | None,
    clock: Clock,
    store: SqlStore,
    notes: list[str],
    formats: ResponseFormatMemory | None = None,
    cache: bool | None = None,
) -> tuple[Decider, httpx.AsyncClient | None]:
    """The LLM decider when it can run; the rules when asked for or when dry without a key."""
    rules = rule_decider(config)
    if config.strategy.decider == "rules":
        return rules, None
    if not llm_key:
        if mode.live:
            raise LiveTradingRefused("no OpenAI key for a live run")
        notes.append("no OpenAI key: using the rule-based decider for this dry run")
        return rules, None
    # Imported here: the openai SDK takes a third of a second to import, and most
    # commands (report, validate, dry runs without a key) never need it.
    from .decision.llm import LLMDecisionMaker

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


def build_runtime(
    config: StrategyConfig,
    *,
    live: bool = False,
    db_url: str | None = None,
    openai_api_key: str | None = None,
    clock: Clock | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    reset_paper: bool = False,
    store_factory: Callable[[str], SqlStore] = open_store,
    decides: bool = True,
) -> Runtime:
    """Wire a runtime for one strategy. Makes no network call.

    ``decides=False`` is for commands that only execute (a TWAP): no language model is
    set up and none is needed, so a live TWAP never asks for an OpenAI key.
    """
    clock = clock or SystemClock()
    mode = resolve_mode(config, live)
    llm_key = openai_key(config, openai_api_key)
    check_live(config, mode, llm_key, decides=decides)
    store = store_factory(db_url or config.database.url)
    notes = list(mode.notes)
    client = build_client(config, clock, transport)
    exchange: Exchange
    if mode.live:
        exchange = client
    else:
        paper = PaperExchange(
            client,
            store,
            strategy=config.name,
            initial_balances=config.paper.initial_balances,
            clock=clock,
            fee_rate=config.allocation.fee_rate,
            min_order_krw=config.allocation.min_order_krw,
            account_source=client if config.api.has_keys else None,
        )
        if reset_paper:
            paper.reset()
            notes.append("paper wallet reset to the configured initial balances")
        exchange = paper
    if decides:
        decider, http = build_decider(
            config, mode=mode, llm_key=llm_key, clock=clock, store=store, notes=notes
        )
    else:
        decider, http = rule_decider(config), None
    return Runtime(config=config, mode=mode, client=client, exchange=exchange,
                   decider=decider, store=store, clock=clock, notes=notes, llm_http=http)
