"""The runtime of a portfolio: one client, one store, one gated executor, its engines.

Every member strategy's engine is built by ``trading_engine`` on its ledger exchange, so
each member's orders pass a gate with the member's own limits; the netted order the
portfolio sends passes the portfolio's gate (its kill switch and daily loss, the price
band and the account's balance).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

import httpx

from ..api_client import BithumbClient, RateLimiter
from ..clock import SystemClock
from ..config import StrategyConfig
from ..domain import Mode
from ..engine import TradingEngine
from ..errors import LeaseHeld
from ..gate import GateRules
from ..lease import Lease
from ..multi_agent import (
    MultiAgentPortfolioManager,
    PortfolioPlan,
    SharedMarketData,
)
from ..multi_agent.ledger import LedgerExchange
from ..notify import Emitter, NullEmitter
from ..ports import Account, Clock, Decider, OrderGateway
from ..store import SqlStore
from .adapters import build_client, build_decider, build_paper
from .database import open_database, portfolio_urls
from .engines import kill_switch_file, order_executor, trading_engine
from .leasing import account_key, hold_account, holds, release_and_close
from .mode import ModeChoice, check_live, choose_mode, openai_key
from .notifying import build_notifier, close_notifier, engine_notices, tell_lease_refused


@dataclass(slots=True)
class PortfolioRuntime:
    """Everything one portfolio run needs; ``aclose`` it when done."""

    manager: MultiAgentPortfolioManager
    client: BithumbClient
    store: SqlStore
    clock: Clock
    choice: ModeChoice
    notes: list[str] = field(default_factory=list)
    llm_clients: list[httpx.AsyncClient] = field(default_factory=list)
    lease: Lease | None = None
    events: Emitter = field(default_factory=NullEmitter)

    @property
    def mode(self) -> Mode:
        return self.choice.mode

    async def aclose(self) -> None:
        close_notifier(self.events)
        try:
            await self.client.aclose()
            for client in self.llm_clients:
                await client.aclose()
        finally:
            release_and_close(self.lease, self.store)


def portfolio_mode(plan: PortfolioPlan, live_flag: bool) -> ModeChoice:
    """Live only when the portfolio AND the command line ask for it."""
    choice = choose_mode(
        plan.config.dry_run, live_flag,
        where="a strategy file" if plan.from_directory else "the portfolio file",
        everywhere="every strategy file" if plan.from_directory else "the portfolio file",
    )
    if choice.live or live_flag or not plan.config.dry_run:
        return choice
    return ModeChoice(Mode.DRY, ("dry run: netted orders are simulated on the real orderbook",))


def build_portfolio_runtime(
    plan: PortfolioPlan,
    *,
    live: bool = False,
    db_url: str | None = None,
    openai_api_key: str | None = None,
    clock: Clock | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    wait_lease: timedelta | None = None,
) -> PortfolioRuntime:
    """Wire one client (one rate limiter), one store and one manager, and take the one
    lease of the account. No network call but the database's.

    Raises:
        LeaseHeld: another process holds the account (after ``wait_lease``, if given).
    """
    clock = clock or SystemClock()
    choice = portfolio_mode(plan, live)
    for member in plan.members:
        check_live(member.config, choice, openai_key(member.config, openai_api_key))
    url, fallback_url = portfolio_urls(plan, db_url)
    store, db_notes = open_database(url, fallback_url=fallback_url, mode=choice.mode)
    lease: Lease | None = None
    try:
        first = plan.members[0].config  # every member names this account (checked on load)
        key = account_key(first, choice.mode, plan.config.name)
        try:
            lease = hold_account(store, key, wait=wait_lease)
        except LeaseHeld as refusal:
            tell_lease_refused(first, choice.mode, store, clock, refusal, key)
            raise
        owned = holds(lease)
        # One notifier for the process, with the first member's notifications section.
        events = build_notifier(first, store, extra_secret=openai_api_key)
        client = build_client(first, clock, transport, rate_limiter=RateLimiter(clock))
        data = SharedMarketData(client)
        account, gateway = _account(plan, choice, data, store, client, clock)
        notes, llm_clients = [*choice.notes, *db_notes], list[httpx.AsyncClient]()
        deciders = _deciders(plan, choice, openai_api_key, clock, store, notes, llm_clients)
        executor = order_executor(gateway, market_data=data, account=account, store=store,
                                  clock=clock, rules=_portfolio_rules(plan, choice.mode, owned))
        manager = MultiAgentPortfolioManager(
            plan.config, plan.members, deciders=deciders, market_data=data, account=account,
            executor=executor,
            engines=member_engines(store, clock, choice.mode, owned, events),
            store=store, clock=clock, failures=plan.failures,
            twap_runs=lambda: store.active_twap_runs(choice.mode.value),
        )
    except BaseException:
        release_and_close(lease, store)
        raise
    return PortfolioRuntime(manager=manager, client=client, store=store, clock=clock,
                            choice=choice, notes=notes, llm_clients=llm_clients, lease=lease,
                            events=events)


def _portfolio_rules(plan: PortfolioPlan, mode: Mode, owned: Callable[[], bool]) -> GateRules:
    """The netted order's gate: its members' caps were each checked on their intents."""
    config = plan.config
    return GateRules(owner=config.name, mode=mode, holds_account=owned,
                     kill_switch=kill_switch_file(config.kill_switch_file),
                     daily_loss_limit_pct=config.daily_loss_limit_pct,
                     daily_loss_limit_krw=config.daily_loss_limit_krw)


def member_engines(store: SqlStore, clock: Clock, mode: Mode,
                   owned: Callable[[], bool] = lambda: True,
                   events: Emitter | None = None) -> Callable[..., TradingEngine]:
    """Builds each member's engine on its ledger exchange, gated by the member's limits."""

    def build(config: StrategyConfig, *, exchange: LedgerExchange, decider: Decider,
              kill_switch: Callable[[], bool], committed_krw: Callable[[], Decimal],
              ids: Callable[[], str]) -> TradingEngine:
        return trading_engine(config, exchange=exchange, decider=decider, store=store,
                              clock=clock, mode=mode, kill_switch=kill_switch, ids=ids,
                              committed_krw=committed_krw, holds_account=owned,
                              events=events,
                              notices=engine_notices(config, mode, events or NullEmitter(),
                                                     store))
    return build


def _account(
    plan: PortfolioPlan, choice: ModeChoice, data: SharedMarketData, store: SqlStore,
    client: BithumbClient, clock: Clock,
) -> tuple[Account, OrderGateway]:
    """Live: the real account. Dry: one paper account for the whole portfolio."""
    if choice.live:
        return client, client
    paper = build_paper(plan.members[0].config, source=data, client=client, store=store,
                        clock=clock, owner=plan.config.name,
                        initial_balances=plan.paper_balances())
    return paper, paper


def _deciders(
    plan: PortfolioPlan, choice: ModeChoice, openai_api_key: str | None, clock: Clock,
    store: SqlStore, notes: list[str], llm_clients: list[httpx.AsyncClient],
) -> dict[str, Decider]:
    """One decider per strategy (its own model settings); their notes name the strategy."""
    deciders: dict[str, Decider] = {}
    for member in plan.members:
        member_notes: list[str] = []
        decider, http = build_decider(
            member.config, mode=choice, llm_key=openai_key(member.config, openai_api_key),
            clock=clock, store=store, notes=member_notes,
        )
        deciders[member.name] = decider
        notes.extend(f"{member.name}: {note}" for note in member_notes)
        if http is not None:
            llm_clients.append(http)
    return deciders
