"""``bithumb-trader run``: one cycle, or one every ``--every``, printed as JSON."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

from rich.table import Table

from ..bootstrap import build_runtime, secrets_of
from ..config import StrategyConfig
from ..engine import CycleResult
from .common import (
    check_max_cycles,
    duration_option,
    handled_errors,
    load,
    print_cycles,
    setup_logging,
    show_notes,
)

log = logging.getLogger(__name__)


def run_command(
    config_path: str,
    *,
    live: bool,
    db: str | None,
    json_only: bool,
    verbosity: int,
    openai_api_key: str | None,
    every: str | None,
    max_cycles: int | None,
    reset_paper: bool,
    no_log_file: bool,
    injected: dict[str, Any],
    wait_lease: str | None = None,
) -> int:
    config = load(config_path)
    interval = duration_option(every, "--every")
    lease_wait = duration_option(wait_lease, "--wait-lease")
    check_max_cycles(max_cycles)
    with handled_errors():
        setup_logging(config, verbosity, no_log_file, secrets_of(config, openai_api_key))
        return asyncio.run(_run(config, live=live, db=db, json_only=json_only,
                                openai_api_key=openai_api_key, every=interval,
                                max_cycles=max_cycles, reset_paper=reset_paper,
                                wait_lease=lease_wait, injected=injected))


async def _run(
    config: StrategyConfig,
    *,
    live: bool,
    db: str | None,
    json_only: bool,
    openai_api_key: str | None,
    every: timedelta | None,
    max_cycles: int | None,
    reset_paper: bool,
    wait_lease: timedelta | None,
    injected: dict[str, Any],
) -> int:
    runtime = build_runtime(
        config, live=live, db_url=db, openai_api_key=openai_api_key,
        reset_paper=reset_paper, clock=injected.get("clock"),
        transport=injected.get("transport"), wait_lease=wait_lease,
    )
    show_notes(runtime.notes, json_only=json_only)
    stop = asyncio.Event()
    engine = runtime.engine(stop=stop)
    try:
        return await print_cycles(engine.run_cycle, clock=runtime.clock, every=every,
                                  max_cycles=max_cycles, notes=runtime.notes,
                                  json_only=json_only, summary=summary_table, stop=stop)
    finally:
        await runtime.aclose()


def summary_table(result: CycleResult) -> Table:
    """A few lines an operator reads at a glance; the JSON on stdout has everything."""
    table = Table(title=f"{result.strategy} {result.market} · {result.mode} · {result.status}",
                  show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    table.add_row("run", result.run_id)
    if result.equity_krw is not None:
        table.add_row("equity KRW", f"{result.equity_krw}  (reserve {result.reserved_pool_krw})")
    if result.trading_state is not None:
        table.add_row("state", result.trading_state)
    decision = result.decision or {}
    if decision:
        table.add_row("decision", f"{decision.get('action')} conf {decision.get('confidence')}"
                      f" by {decision.get('decider')} ({decision.get('agent_intent')})")
    if result.verdict:
        verdict = result.verdict
        table.add_row("risk", f"{'approved' if verdict['approved'] else 'rejected'}"
                      f" {', '.join(verdict['reasons'])}")
    if result.allocation:
        table.add_row("allocation", f"{result.allocation['final_notional']} KRW"
                      f" (caps: {', '.join(result.allocation['caps_hit']) or 'none'})")
    if result.execution:
        execution = result.execution
        table.add_row("execution", f"{execution['status']} {execution['filled_volume']}"
                      f" @ {execution['avg_price']}")
    if result.error:
        table.add_row("error", result.error)
    for warning in result.warnings:
        table.add_row("warning", warning)
    return table
