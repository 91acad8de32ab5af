"""Turning the rows of ``queries`` into report sections.

Each function takes rows of one or of several strategies (the first column is always the
strategy, ignored here): the same code gives a strategy's figures and the total, so the
two can never disagree. Counts and sums simply add up; means and rates are recomputed
from the added sums, never averaged from averages.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from ..domain import ZERO, Side
from ..store.types import load_json
from .model import (
    ACTIONS,
    ActionSummary,
    AllocationSummary,
    DecisionSummary,
    ExecutionSummary,
    FeeSummary,
    ModelSummary,
    ModelUsage,
    RiskSummary,
    RunSummary,
    SlippageSummary,
)
from .queries import Row, read_money
from .stats import mean, ratio, signed_slippage_bps, slippage_stats

CONFIDENCE_STEP = Decimal("0.0001")
LATENCY_STEP = Decimal("0.1")
METHODS = ("order", "twap", "none")
"""Execution methods always listed; ``none`` closes a cycle that sent nothing."""
UNSPECIFIED = "unspecified"
CHOSEN = "chosen"
"""The HOLD reason of a decider that chose to hold (no fault, so no recorded reason)."""
UNKNOWN_MODEL = "unknown"
SLIPPAGE_KINDS = ("single_vs_snapshot", "single_vs_arrival", "twap_vs_snapshot",
                  "twap_vs_arrival")


def money(value: Any) -> Decimal:
    """A money value or sum; SQL gives NULL for a sum of nothing, which is zero here."""
    return read_money(value) or ZERO


def ranked(counts: Mapping[str, int]) -> dict[str, int]:
    """Most frequent first, then by name: the order tables and JSON show them in."""
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def _with_keys(counts: Mapping[str, int], keys: Iterable[str]) -> dict[str, int]:
    """``counts`` with every one of ``keys`` present (zero when absent), then the rest."""
    fixed = {key: counts.get(key, 0) for key in keys}
    fixed.update({key: counts[key] for key in sorted(counts) if key not in fixed})
    return fixed


def run_summary(rows: Iterable[Row]) -> RunSummary:
    """Rows: strategy, mode, status, count (of one mode: a report never adds modes)."""
    by_status: Counter[str] = Counter()
    for _, _, status, count in rows:
        by_status[status] += count
    return RunSummary(
        count=sum(by_status.values()),
        failed=by_status.get("failed", 0),
        by_status=dict(sorted(by_status.items())),
    )


def decision_summary(rows: Iterable[Row]) -> DecisionSummary:
    """Rows of ``signals_stmt``: strategy, action, hold_reason, confidence, decider,
    model, count, ... (the rest is model use)."""
    counts: Counter[str] = Counter()
    confidence: dict[str, Decimal] = {}
    holds: Counter[str] = Counter()
    for row in rows:
        _, action, hold_reason, value, _, _, count = row[:7]
        if row[-1]:  # a shadow model's decision: recorded, never traded
            continue
        counts[action] += count
        confidence[action] = confidence.get(action, ZERO) + money(value) * count
        if action == "hold":
            holds[hold_reason or CHOSEN] += count
    by_action = {
        action: ActionSummary(counts[action],
                              mean(confidence.get(action, ZERO), counts[action], CONFIDENCE_STEP))
        for action in _with_keys(counts, ACTIONS)
    }
    count = sum(counts.values())
    return DecisionSummary(
        count=count,
        mean_confidence=mean(sum(confidence.values(), ZERO), count, CONFIDENCE_STEP),
        by_action=by_action,
        holds_by_reason=ranked(holds),
    )


def model_summary(rows: Iterable[Row]) -> ModelSummary:
    """Rows of ``signals_stmt``; only the ``llm`` decider's count as model use, shadow
    models' included (they cost the same). Integer sums may come back as Decimal
    (MariaDB), hence the ``int``."""
    sums: dict[str, list[Any]] = {}
    for row in rows:
        decider, model, count, prompt, completion, cost, latency, fallbacks, cached = row[4:13]
        http, unknown, shadow = row[13:16]
        if decider != "llm":
            continue
        acc = sums.setdefault(model or UNKNOWN_MODEL, [0, 0, 0, ZERO, 0, 0, 0, 0, 0, 0])
        values = (count, prompt, completion, cost, latency, fallbacks, cached, http, unknown,
                  count if shadow else 0)
        for index, value in enumerate(values):
            acc[index] += money(value) if index == 3 else int(value or 0)
    by_model = {name: _usage(acc) for name, acc in sorted(sums.items())}
    total = [sum((acc[i] for acc in sums.values()), ZERO if i == 3 else 0) for i in range(10)]
    return ModelSummary(total=_usage(total), by_model=by_model)


def _usage(acc: Sequence[Any]) -> ModelUsage:
    requests, prompt, completion, cost, latency, fallbacks, cached, http, unknown, shadow = acc
    return ModelUsage(
        requests=requests, prompt_tokens=prompt, completion_tokens=completion,
        cost_usd=None if unknown else cost, mean_latency_ms=mean(latency, requests, LATENCY_STEP),
        fallbacks_used=fallbacks, cached=cached, http_requests=http, cost_unknown=unknown,
        shadow_decisions=shadow,
    )


def risk_summary(rows: Iterable[Row]) -> RiskSummary:
    """Rows: strategy, approved, shrunk, reasons (a list), count."""
    approved = shrunk = rejected = 0
    reasons: Counter[str] = Counter()
    for _, is_approved, is_shrunk, why, count in rows:
        if is_approved:
            approved += count
        else:
            rejected += count
            for reason in _as_list(why) or [UNSPECIFIED]:
                reasons[reason] += count
        if is_shrunk:
            shrunk += count
    return RiskSummary(approved + rejected, approved, shrunk, rejected, ranked(reasons))


def allocation_summary(rows: Iterable[Row]) -> AllocationSummary:
    """Rows: strategy, caps hit (a list), count, desired notional, final notional."""
    count = capped = 0
    desired = final = ZERO
    caps: Counter[str] = Counter()
    for _, caps_hit, rows_count, desired_sum, final_sum in rows:
        count += rows_count
        desired += money(desired_sum)
        final += money(final_sum)
        hit = _as_list(caps_hit)
        if hit:
            capped += rows_count
        for cap in hit:
            caps[cap] += rows_count
    return AllocationSummary(count, desired, final, capped, ranked(caps))


def _as_list(value: Any) -> list[str]:
    """A ``*_json`` list column; tolerant of text in case a driver skipped the type."""
    if isinstance(value, str):
        value = load_json(value)
    return [str(item) for item in value] if isinstance(value, list) else []


def execution_summary(
    executions: Iterable[Row],
    orders: Iterable[Row],
    totals: Mapping[str, Any],
    twaps: Iterable[Row],
) -> ExecutionSummary:
    """Rows: executions (strategy, method, status, count, requested KRW, filled KRW),
    orders (strategy, state, count), TWAPs as for ``slippage_values``; ``totals`` from
    ``fill_totals``."""
    by_status: Counter[str] = Counter()
    by_method: Counter[str] = Counter()
    attempted = filled = partial = 0
    requested = funds = ZERO
    for _, method, status, count, requested_sum, funds_sum in executions:
        by_status[status] += count
        by_method[method] += count
        requested += money(requested_sum)
        funds += money(funds_sum)
        if method != "none":
            attempted += count
            filled += count if status == "filled" else 0
            partial += count if status == "partial" else 0
    order_states: Counter[str] = Counter()
    for _, state, count in orders:
        order_states[state] += count
    twap_states = Counter(row[2] for row in twaps)
    return ExecutionSummary(
        count=sum(by_status.values()), by_status=dict(sorted(by_status.items())),
        by_method=_with_keys(by_method, METHODS), attempted=attempted, filled=filled,
        partial=partial, fill_rate=ratio(filled, attempted), requested_notional_krw=requested,
        filled_funds_krw=funds, orders=sum(order_states.values()),
        orders_by_state=dict(sorted(order_states.items())), fills=totals["count"],
        bought_volume=totals["bid_volume"], bought_funds_krw=totals["bid_funds"],
        sold_volume=totals["ask_volume"], sold_funds_krw=totals["ask_funds"],
        twap_runs=sum(twap_states.values()), twap_by_status=dict(sorted(twap_states.items())),
    )


def fill_totals(rows: Iterable[Row]) -> dict[str, Any]:
    """Rows of ``fills_scan_stmt`` (strategy, market, dry_run, side, volume, funds, fee,
    in_period, via_twap) with amounts as Decimal; fills before the period (there for
    FIFO) are skipped."""
    totals: dict[str, Any] = {"count": 0, "single_fee": ZERO, "twap_fee": ZERO}
    for side in (Side.BUY.value, Side.SELL.value):
        totals[f"{side}_volume"] = ZERO
        totals[f"{side}_funds"] = ZERO
    for _, _, _, side, volume, funds, fee, in_period, via_twap in rows:
        if not in_period:
            continue
        totals["count"] += 1
        totals[f"{side}_volume"] += volume
        totals[f"{side}_funds"] += funds
        totals["twap_fee" if via_twap else "single_fee"] += fee
    return totals


def fee_summary(totals: Mapping[str, Any]) -> FeeSummary:
    """Fees of the period's fills, from ``fill_totals``."""
    single, twap = totals["single_fee"], totals["twap_fee"]
    return FeeSummary(paid_krw=single + twap, single_krw=single, twap_krw=twap)


def slippage_values(
    singles: Iterable[Row], twaps: Iterable[Row], references: Mapping[str, Decimal]
) -> dict[str, list[Decimal]]:
    """Signed bps per kind, prices as Decimal. Singles: strategy, side, avg, snapshot
    price, arrival price. TWAPs: strategy, id, status, side, avg, arrival; ``references``
    holds the snapshot price of the decision behind each engine-started TWAP."""
    values: dict[str, list[Decimal | None]] = {kind: [] for kind in SLIPPAGE_KINDS}
    for _, side, avg, reference, arrival in singles:
        values["single_vs_snapshot"].append(signed_slippage_bps(side, avg, reference))
        values["single_vs_arrival"].append(signed_slippage_bps(side, avg, arrival))
    for _, twap_run_id, _, side, avg, arrival in twaps:
        reference = references.get(twap_run_id)
        values["twap_vs_snapshot"].append(signed_slippage_bps(side, avg, reference))
        values["twap_vs_arrival"].append(signed_slippage_bps(side, avg, arrival))
    return {kind: [v for v in found if v is not None] for kind, found in values.items()}


def slippage_summary(values: Mapping[str, Sequence[Decimal]]) -> SlippageSummary:
    """Statistics of each kind of ``slippage_values``."""
    return SlippageSummary(**{kind: slippage_stats(values[kind]) for kind in SLIPPAGE_KINDS})
