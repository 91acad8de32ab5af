"""``bithumb-trader portfolio PATH``: several strategies as one portfolio, printed as JSON.

PATH is a directory of strategy files (equal weights) or a portfolio file (weights and
limits). Dry-run unless the portfolio says ``dry_run: false`` (in a directory: every
strategy file does) AND ``--live`` is given AND the Bithumb keys are set.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Annotated, Any

import httpx
import typer
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from ..api_client import BithumbClient, RateLimiter
from ..bootstrap import RunMode, build_decider, check_live, openai_key, secrets_of
from ..clock import SystemClock
from ..errors import StoreError
from ..multi_agent import (
    MultiAgentPortfolioManager,
    PortfolioCycleResult,
    PortfolioPlan,
    SharedMarketData,
    load_portfolio,
)
from ..multi_agent.capital import ACTIVE_TWAP_STATES
from ..paper import PaperExchange
from ..ports import Account, Clock, Decider, OrderGateway
from ..records import TwapRunRecord
from ..store import SqlStore, open_store
from ..store.schema import RECORD_FIELDS, twap_runs
from .common import (
    check_max_cycles,
    duration_option,
    fail,
    handled_errors,
    print_cycles,
    setup_logging,
    show_notes,
)

log = logging.getLogger(__name__)

PathArg = Annotated[str, typer.Argument(
    help="a directory of strategy files, or a portfolio file (.json, .yaml, .yml, .toml)")]
LiveOpt = Annotated[bool, typer.Option("--live", help="send real orders (needs dry_run: false)")]
DbOpt = Annotated[str | None, typer.Option("--db", help="database URL (default from the files)")]
JsonOpt = Annotated[bool, typer.Option("--json", help="print only JSON, no summary")]
VerboseOpt = Annotated[int, typer.Option("-v", "--verbose", count=True, help="-v info, -vv debug")]
NoLogFileOpt = Annotated[bool, typer.Option("--no-log-file", help="do not write logs/")]
KeyOpt = Annotated[str | None, typer.Option("--openai-api-key", help="overrides OPENAI_API_KEY")]
EveryOpt = Annotated[str | None, typer.Option("--every", help="repeat, e.g. 15m; Ctrl-C stops")]
CyclesOpt = Annotated[int | None, typer.Option("--max-cycles", help="stop after N cycles")]


def command(
    ctx: typer.Context,
    path: PathArg,
    live: LiveOpt = False,
    db: DbOpt = None,
    json_only: JsonOpt = False,
    verbose: VerboseOpt = 0,
    openai_api_key: KeyOpt = None,
    every: EveryOpt = None,
    max_cycles: CyclesOpt = None,
    no_log_file: NoLogFileOpt = False,
) -> None:
    """Run one cycle of every strategy of a portfolio (or one every --every) as JSON."""
    if ctx.args:
        fail(f"unexpected arguments: {' '.join(ctx.args)}")
    code = portfolio_command(
        path, live=live, db=db, json_only=json_only, verbosity=verbose,
        openai_api_key=openai_api_key, every=every, max_cycles=max_cycles,
        no_log_file=no_log_file, injected=dict(ctx.obj or {}),
    )
    raise typer.Exit(code)


def portfolio_command(
    path: str,
    *,
    live: bool,
    db: str | None,
    json_only: bool,
    verbosity: int,
    openai_api_key: str | None,
    every: str | None,
    max_cycles: int | None,
    no_log_file: bool,
    injected: dict[str, Any],
) -> int:
    with handled_errors():
        plan = load_portfolio(path)
    interval = duration_option(every, "--every")
    check_max_cycles(max_cycles)
    secrets = [s for m in plan.members for s in secrets_of(m.config, openai_api_key)]
    with handled_errors():
        setup_logging(plan.members[0].config, verbosity, no_log_file, secrets)
        return asyncio.run(_run(plan, live=live, db=db, json_only=json_only,
                                openai_api_key=openai_api_key, every=interval,
                                max_cycles=max_cycles, injected=injected))


async def _run(
    plan: PortfolioPlan,
    *,
    live: bool,
    db: str | None,
    json_only: bool,
    openai_api_key: str | None,
    every: timedelta | None,
    max_cycles: int | None,
    injected: dict[str, Any],
) -> int:
    runtime = build_portfolio_runtime(plan, live=live, db_url=db, openai_api_key=openai_api_key,
                                      clock=injected.get("clock"),
                                      transport=injected.get("transport"))
    show_notes(runtime.notes, json_only=json_only)
    try:
        return await print_cycles(runtime.manager.run_cycle, clock=runtime.clock, every=every,
                                  max_cycles=max_cycles, notes=runtime.notes,
                                  json_only=json_only, summary=summary_table)
    finally:
        await runtime.aclose()


@dataclass(slots=True)
class PortfolioRuntime:
    """Everything one portfolio run needs; close it when done."""

    manager: MultiAgentPortfolioManager
    client: BithumbClient
    store: SqlStore
    clock: Clock
    mode: RunMode
    notes: list[str] = field(default_factory=list)
    llm_clients: list[httpx.AsyncClient] = field(default_factory=list)

    async def aclose(self) -> None:
        await self.client.aclose()
        for client in self.llm_clients:
            await client.aclose()
        self.store.close()


def portfolio_mode(plan: PortfolioPlan, live_flag: bool) -> RunMode:
    """Live only when the portfolio AND the command line ask for it."""
    if live_flag and not plan.config.dry_run:
        return RunMode(True, ("LIVE: real orders will be sent to Bithumb",))
    if live_flag:
        where = "a strategy file" if plan.from_directory else "the portfolio file"
        return RunMode(False, (f"dry run: {where} says dry_run: true, so --live is ignored",))
    if not plan.config.dry_run:
        where = "every strategy file" if plan.from_directory else "the portfolio file"
        return RunMode(False, (f"dry run: {where} says dry_run: false, but --live was not"
                               " given",))
    return RunMode(False, ("dry run: netted orders are simulated on the real orderbook",))


def build_portfolio_runtime(
    plan: PortfolioPlan,
    *,
    live: bool = False,
    db_url: str | None = None,
    openai_api_key: str | None = None,
    clock: Clock | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> PortfolioRuntime:
    """Wire one client (one rate limiter), one store and one manager. No network call."""
    clock = clock or SystemClock()
    mode = portfolio_mode(plan, live)
    for member in plan.members:
        check_live(member.config, mode, openai_key(member.config, openai_api_key))
    store = open_store(plan.database_url(db_url))
    try:
        client = _client(plan, clock, transport)
        data = SharedMarketData(client)
        account, gateway = _account(plan, mode, data, store, client, clock)
        notes, llm_clients = list(mode.notes), list[httpx.AsyncClient]()
        deciders = _deciders(plan, mode, openai_api_key, clock, store, notes, llm_clients)
        manager = MultiAgentPortfolioManager(
            plan.config, plan.members, deciders=deciders, market_data=data, account=account,
            gateway=gateway, store=store, clock=clock, mode=mode.name, failures=plan.failures,
            twap_runs=lambda: active_twap_runs(store),
        )
    except BaseException:
        store.close()
        raise
    return PortfolioRuntime(manager=manager, client=client, store=store, clock=clock,
                            mode=mode, notes=notes, llm_clients=llm_clients)


def _client(plan: PortfolioPlan, clock: Clock,
            transport: httpx.AsyncBaseTransport | None) -> BithumbClient:
    api = plan.members[0].config.api  # every member names this account (checked on load)
    return BithumbClient(
        api.base_url,
        api_key=api.api_key.get_secret_value() if api.api_key else None,
        api_secret=api.api_secret.get_secret_value() if api.api_secret else None,
        timeout=api.timeout, max_retries=api.max_retries, transport=transport, clock=clock,
        rate_limiter=RateLimiter(clock),
    )


def _account(
    plan: PortfolioPlan, mode: RunMode, data: SharedMarketData, store: SqlStore,
    client: BithumbClient, clock: Clock,
) -> tuple[Account, OrderGateway]:
    """Live: the real account. Dry: one paper account for the whole portfolio."""
    if mode.live:
        return client, client
    first = plan.members[0].config
    paper = PaperExchange(
        data, store, strategy=plan.config.name, initial_balances=plan.paper_balances(),
        clock=clock, fee_rate=first.allocation.fee_rate,
        min_order_krw=first.allocation.min_order_krw,
        account_source=client if first.api.has_keys else None,
    )
    return paper, paper


def _deciders(
    plan: PortfolioPlan, mode: RunMode, openai_api_key: str | None, clock: Clock,
    store: SqlStore, notes: list[str], llm_clients: list[httpx.AsyncClient],
) -> dict[str, Decider]:
    """One decider per strategy (its own model settings); their notes name the strategy."""
    deciders: dict[str, Decider] = {}
    for member in plan.members:
        member_notes: list[str] = []
        decider, http = build_decider(
            member.config, mode=mode, llm_key=openai_key(member.config, openai_api_key),
            clock=clock, store=store, notes=member_notes,
        )
        deciders[member.name] = decider
        notes.extend(f"{member.name}: {note}" for note in member_notes)
        if http is not None:
            llm_clients.append(http)
    return deciders


def active_twap_runs(store: SqlStore) -> list[TwapRunRecord]:
    """TWAP runs still planned or running, from any process writing to this database."""
    query = select(twap_runs).where(twap_runs.c.status.in_(sorted(ACTIVE_TWAP_STATES)))
    names = RECORD_FIELDS[TwapRunRecord]
    try:
        with store.engine.connect() as connection:
            rows = connection.execute(query).mappings().all()
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot read running TWAPs from {store!r}: {exc}") from exc
    return [TwapRunRecord(**{name: row[name] for name in names}) for row in rows]


def summary_table(result: PortfolioCycleResult) -> Table:
    """One line per strategy and per netted market; the JSON on stdout has everything."""
    halted = f" · HALTED ({', '.join(result.halt_reasons)})" if result.halted else ""
    table = Table(title=f"{result.portfolio} · {result.mode} · {result.status}{halted}",
                  title_justify="left")
    for column in ("strategy", "status", "equity KRW", "cash KRW", "decision", "execution"):
        table.add_column(column)
    for item in result.strategies:
        cycle = item.cycle
        decision = (cycle.decision or {}) if cycle else {}
        execution = (cycle.execution or {}) if cycle else {}
        table.add_row(
            item.strategy, item.status, str(item.equity_krw), str(item.cash_krw),
            str(decision.get("action", "")),
            str(execution.get("status", "")) if execution else (item.error or "")[:60],
        )
    for netting in result.netting:
        table.add_row(f"netted {netting.market}", netting.status, "", "",
                      f"{netting.active_side} {netting.external_amount}",
                      f"crossed {netting.cross_volume} @ {netting.cross_price}")
    table.add_row("total", result.status, str(result.equity_krw), str(result.cash_krw), "",
                  f"account {result.account_equity_krw}")
    return table
