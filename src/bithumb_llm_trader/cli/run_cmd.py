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
from . import numbers as n
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


LABEL_WIDTH = 16
VALUE_WIDTH = 56
"""Fixed widths: with ``--every`` each cycle's table lines up with the one before."""


def summary_table(result: CycleResult) -> Table:
    """A few lines an operator reads at a glance; the JSON on stdout has everything.

    Every cycle shows the same rows (``-`` where a step did not get that far), so a
    repeating run prints tables of one shape and width.
    """
    table = Table(title=f"{result.strategy} {result.market} · {result.mode} · {result.status}",
                  show_header=False, title_justify="left")
    table.add_column(style="bold", width=LABEL_WIDTH, no_wrap=True)
    table.add_column(width=VALUE_WIDTH, overflow="fold")
    coin = result.market.rpartition("-")[2]
    reserve = f"  (reserve {n.krw(result.reserved_pool_krw)})" if result.equity_krw else ""
    rows = [
        ("run", result.run_id),
        ("equity KRW", f"{n.krw(result.equity_krw)}{reserve}"),
        ("state", result.trading_state or n.MISSING),
        ("decision", _decision(result.decision)),
        ("risk", _verdict(result.verdict)),
        ("allocation", _allocation(result.allocation)),
        ("execution", _execution(result.execution)),
        ("cash KRW before", n.krw(result.cash_krw_before)),
        ("cash KRW after", n.krw(result.cash_krw_after)),
        ("position before", f"{n.volume(result.position_size_before)} {coin}"),
        ("position after", f"{n.volume(result.position_size_after)} {coin}"),
    ]
    if result.error:
        rows.append(("error", result.error))
    rows.extend(("warning", warning) for warning in result.warnings)
    for label, value in rows:
        table.add_row(label, value)
    return table


def _decision(decision: dict[str, Any] | None) -> str:
    if not decision:
        return n.MISSING
    action = str(decision.get("action"))
    if not decision.get("decider"):  # nobody was asked (the kill switch): say why
        return f"{action} · {decision.get('rationale') or n.MISSING}"
    parts = [action, f"conf {n.percent(decision.get('confidence'), 0)}",
             f"by {decision.get('decider')}", str(decision.get("agent_intent"))]
    why = decision.get("hold_reason") or decision.get("trigger")
    return " · ".join(parts) + (f" ({why})" if why and why != action else "")


def _verdict(verdict: dict[str, Any] | None) -> str:
    if not verdict:
        return n.MISSING
    reasons = ", ".join(verdict.get("reasons") or ())
    if not verdict.get("approved"):
        return f"rejected: {reasons}" if reasons else "rejected"
    if verdict.get("shrunk"):
        return f"approved, shrunk: {reasons}"
    return f"approved ({reasons})" if reasons else "approved"


def _allocation(allocation: dict[str, Any] | None) -> str:
    if not allocation:
        return n.MISSING
    caps = ", ".join(allocation.get("caps_hit") or ()) or "none"
    return f"{n.krw(allocation.get('final_notional'))} KRW (caps: {caps})"


def _execution(execution: dict[str, Any] | None) -> str:
    """Filled volume at its average price, or why nothing was sent."""
    if not execution:
        return n.MISSING
    status = str(execution.get("status"))
    if execution.get("method") == "none":
        reasons = [r for r in (execution.get("result_json") or {}).get("reasons") or ()
                   if r != status]
        return f"{status}: {', '.join(reasons)}" if reasons else status
    text = (f"{status} {n.volume(execution.get('filled_volume'))}"
            f" @ {n.price(execution.get('avg_price'))}")
    slippage = execution.get("slippage_bps")
    return text if slippage is None else f"{text} (slip {n.bps(slippage)})"
