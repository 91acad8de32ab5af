"""``report --models``: the primary model and its shadows, side by side.

Every model that decided in the scope (the ``llm`` decider only), primary and shadow
apart, with: decisions, the share that were valid (no fault: a chosen HOLD is valid, a
HOLD for ``invalid_output``, ``timeout`` ... is not), agreement with the primary (the
share of the runs both decided in which the action was the same), HTTP requests,
tokens, cost (``None``, unknown, when any decision's model had no price) and mean
latency.

Shadow decisions are never traded, so they have no PnL to read back. What each model's
decisions would have earned is measured the same way for every model, the primary
included: the SIGNAL RETURN of following them with the whole stake, from flat at the
first decision in scope, long from a BUY until a SELL (a HOLD, valid or not, keeps what
is held), marked at each cycle's last price (``cron_runs.last_price``), before fees;
``switches`` counts the position changes (each would pay a fee). Each strategy in each
mode is followed apart (a dry run's prices never mark a live position); with several in
scope it is the mean of their returns. It compares signals like for like; it is not
the primary's PnL (sizing, risk, stops, fees and fills are the report's other sections).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from sqlalchemy import Row

from .queries import Scope, model_rows_stmt
from .sections import LATENCY_STEP, money
from .source import ReportSource
from .stats import mean, ratio

PRIMARY, SHADOW = "primary", "shadow"


@dataclass(frozen=True, slots=True)
class ModelComparison:
    """One model in one role (``primary`` or ``shadow``)."""

    model: str
    role: str
    decisions: int
    valid: int
    valid_rate: Decimal | None
    compared: int  # runs in which the primary decided too
    agreed: int
    agreement: Decimal | None
    http_requests: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: Decimal | None
    mean_latency_ms: Decimal | None
    signal_return: Decimal | None = None  # None: no priced decision
    switches: int = 0


def compare_models(source: ReportSource, scope: Scope) -> list[ModelComparison]:
    """Read the decisions in ``scope`` and compare the models (primary first)."""
    with source.snapshot() as conn, conn.begin():
        rows = list(conn.execute(model_rows_stmt(scope)).all())
    return comparisons(rows)


def comparisons(rows: Iterable[Row[Any] | Sequence[Any]]) -> list[ModelComparison]:
    """Rows of ``model_rows_stmt``: run_id, model, shadow, action, hold_reason, prompt
    and completion tokens, cost, latency, attempts, cached, created_at, strategy, last
    price and mode, oldest first."""
    listed = list(rows)
    primary_action = {row[0]: row[3] for row in listed if not row[2]}
    groups: dict[tuple[str, str], list[Sequence[Any]]] = {}
    for row in listed:
        groups.setdefault((row[1] or "(unknown)", SHADOW if row[2] else PRIMARY), []).append(row)
    ordered = sorted(groups, key=lambda key: (key[1] != PRIMARY, key[0]))
    return [_compare(model, role, groups[(model, role)], primary_action)
            for model, role in ordered]


def _compare(model: str, role: str, rows: list[Sequence[Any]],
             primary_action: dict[str, str]) -> ModelComparison:
    count = len(rows)
    valid = sum(1 for row in rows if row[4] is None)
    paired = [row for row in rows if row[0] in primary_action]
    agreed = sum(1 for row in paired if primary_action[row[0]] == row[3])
    unknown_cost = any(row[7] is None and not row[10] for row in rows)
    signal_return, switches = _signal_return(rows)
    return ModelComparison(
        model=model, role=role, decisions=count, valid=valid, valid_rate=ratio(valid, count),
        compared=len(paired) if role == SHADOW else 0,
        agreed=agreed if role == SHADOW else 0,
        agreement=ratio(agreed, len(paired)) if role == SHADOW else None,
        http_requests=sum(int(row[9] or 0) for row in rows),
        prompt_tokens=sum(int(row[5] or 0) for row in rows),
        completion_tokens=sum(int(row[6] or 0) for row in rows),
        cost_usd=None if unknown_cost else sum((money(row[7]) for row in rows), Decimal(0)),
        mean_latency_ms=mean(sum(int(row[8] or 0) for row in rows), count, LATENCY_STEP),
        signal_return=signal_return, switches=switches,
    )


def _signal_return(rows: Sequence[Sequence[Any]]) -> tuple[Decimal | None, int]:
    """The signal return of ``rows`` (one model's decisions, oldest first) and its
    position changes: see the module docstring."""
    by_strategy: dict[tuple[str, str], list[Sequence[Any]]] = {}
    for row in rows:
        if row[13] is not None:  # a cycle without a price (its snapshot failed) marks nothing
            by_strategy.setdefault((row[12], row[14]), []).append(row)
    returns: list[Decimal] = []
    switches = 0
    for decisions in by_strategy.values():
        growth, long, previous = Decimal(1), False, None
        for row in decisions:
            price = money(row[13])
            if long and previous:
                growth *= price / previous
            previous = price
            action = row[3]
            if (action == "buy" and not long) or (action == "sell" and long):
                long = not long
                switches += 1
        returns.append(growth - 1)
    if not returns:
        return None, 0
    return ratio(sum(returns, Decimal(0)), len(returns)), switches


def comparison_dicts(compared: Sequence[ModelComparison]) -> list[dict[str, Any]]:
    """JSON-able dicts (decimals as text, as in the report's JSON)."""
    return [{key: str(value) if isinstance(value, Decimal) else value
             for key, value in asdict(item).items()} for item in compared]


def render_models(compared: Sequence[ModelComparison], console: Console) -> None:
    """The comparison as one table."""
    table = Table(title="Models (primary and shadow)", title_justify="left",
                  title_style="bold", box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False,
                  collapse_padding=True)
    for column in ("model", "role", "decided", "valid", "agree", "signal", "changes",
                   "HTTP", "tokens in/out", "cost USD", "mean ms"):
        table.add_column(column, justify="left" if column in ("model", "role") else "right")
    for item in compared:
        table.add_row(
            item.model, item.role, f"{item.decisions:,}", _percent(item.valid_rate),
            "-" if item.role == PRIMARY else _percent(item.agreement),
            _percent(item.signal_return), f"{item.switches:,}",
            f"{item.http_requests:,}", f"{item.prompt_tokens:,}/{item.completion_tokens:,}",
            "unknown" if item.cost_usd is None else str(item.cost_usd),
            "-" if item.mean_latency_ms is None else str(item.mean_latency_ms),
        )
    if not compared:
        console.print("no model decisions in this scope")
        return
    console.print(table)


def _percent(value: Decimal | None) -> str:
    return "-" if value is None else f"{(value * 100).quantize(Decimal('0.1'))}%"
