"""``bithumb-trader portfolio PATH``: several strategies as one portfolio, printed as JSON.

PATH is a directory of strategy files (equal weights) or a portfolio file (weights and
limits). Dry-run unless the portfolio says ``dry_run: false`` (in a directory: every
strategy file does) AND ``--live`` is given AND the Bithumb keys are set.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

import typer
from rich.table import Table

from ..bootstrap import secrets_of
from ..bootstrap.portfolio import build_portfolio_runtime
from ..multi_agent import PortfolioCycleResult, PortfolioPlan, load_portfolio
from . import numbers as n
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


def command(
    ctx: typer.Context, *, path: str, live: bool, db: str | None, json_only: bool,
    verbose: int, openai_api_key: str | None, every: str | None, max_cycles: int | None,
    no_log_file: bool, wait_lease: str | None,
) -> None:
    """Run one cycle of every strategy of a portfolio (or one every --every) as JSON;
    the options are ``cli.commands.portfolio``'s."""
    if ctx.args:
        fail(f"unexpected arguments: {' '.join(ctx.args)}")
    code = portfolio_command(
        path, live=live, db=db, json_only=json_only, verbosity=verbose,
        openai_api_key=openai_api_key, every=every, max_cycles=max_cycles,
        no_log_file=no_log_file, injected=dict(ctx.obj or {}), wait_lease=wait_lease,
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
    wait_lease: str | None = None,
) -> int:
    with handled_errors():
        plan = load_portfolio(path)
    interval = duration_option(every, "--every")
    lease_wait = duration_option(wait_lease, "--wait-lease")
    check_max_cycles(max_cycles)
    secrets = [s for m in plan.members for s in secrets_of(m.config, openai_api_key)]
    with handled_errors():
        setup_logging(plan.members[0].config, verbosity, no_log_file, secrets)
        return asyncio.run(_run(plan, live=live, db=db, json_only=json_only,
                                openai_api_key=openai_api_key, every=interval,
                                max_cycles=max_cycles, wait_lease=lease_wait,
                                injected=injected))


async def _run(
    plan: PortfolioPlan,
    *,
    live: bool,
    db: str | None,
    json_only: bool,
    openai_api_key: str | None,
    every: timedelta | None,
    max_cycles: int | None,
    wait_lease: timedelta | None,
    injected: dict[str, Any],
) -> int:
    runtime = build_portfolio_runtime(plan, live=live, db_url=db, openai_api_key=openai_api_key,
                                      clock=injected.get("clock"),
                                      transport=injected.get("transport"),
                                      wait_lease=wait_lease)
    show_notes(runtime.notes, json_only=json_only)
    try:
        return await print_cycles(runtime.manager.run_cycle, clock=runtime.clock, every=every,
                                  max_cycles=max_cycles, notes=runtime.notes,
                                  json_only=json_only, summary=summary_table)
    finally:
        await runtime.aclose()


def summary_table(result: PortfolioCycleResult) -> Table:
    """One line per strategy and per netted market; the JSON on stdout has everything."""
    halted = f" · HALTED ({', '.join(result.halt_reasons)})" if result.halted else ""
    table = Table(title=f"{result.portfolio} · {result.mode} · {result.status}{halted}",
                  title_justify="left")
    table.add_column("strategy")
    table.add_column("status", no_wrap=True)
    table.add_column("equity KRW", justify="right", no_wrap=True)
    table.add_column("cash KRW", justify="right", no_wrap=True)
    table.add_column("trade", ratio=1, overflow="fold")
    for item in result.strategies:
        cycle = item.cycle
        decision = (cycle.decision or {}) if cycle else {}
        execution = (cycle.execution or {}) if cycle else {}
        trade = (f"{decision.get('action', n.MISSING)} · {_execution(execution)}" if execution
                 else (item.error or str(decision.get("action", n.MISSING)))[:60])
        table.add_row(item.strategy, item.status, n.krw(item.equity_krw),
                      n.krw(item.cash_krw), trade)
    for netting in result.netting:
        buying = netting.active_side == "buy"
        amount = (f"{n.krw(netting.external_amount)} KRW" if buying
                  else n.volume(netting.external_amount))
        table.add_row(f"netted {netting.market}", netting.status, n.MISSING, n.MISSING,
                      f"{netting.active_side} {amount}, crossed"
                      f" {n.volume(netting.cross_volume)} @ {n.price(netting.cross_price)}")
    table.add_row("total", result.status, n.krw(result.equity_krw), n.krw(result.cash_krw),
                  f"account {n.krw(result.account_equity_krw)}")
    return table


def _execution(execution: dict[str, Any]) -> str:
    """What an order filled, or the status of a cycle that sent none."""
    status = str(execution.get("status", n.MISSING))
    if execution.get("method") in (None, "none"):
        return status
    return (f"{status} {n.volume(execution.get('filled_volume'))}"
            f" @ {n.price(execution.get('avg_price'))}")
