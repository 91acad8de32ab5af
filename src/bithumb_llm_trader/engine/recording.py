"""Turning what a cycle saw and did into store records, one builder per table."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..allocation import AllocationProposal
from ..decision import TradeDecision
from ..domain import Mode, average_price
from ..execution import OrderReport
from ..liquidity import signed_slippage_bps
from ..market import MarketSnapshot
from ..records import (
    AllocationRecord,
    ExecutionRecord,
    FeatureRecord,
    PositionRecord,
    RiskVerdictRecord,
)
from ..risk import RiskVerdict
from ..twap import TwapReport
from .results import jsonable


def position_records(
    snapshot: MarketSnapshot, *, run_id: str, strategy: str
) -> list[PositionRecord]:
    account = snapshot.account
    records = []
    for holding in account.holdings:
        pnl = None
        if holding.price_krw is not None and holding.currency != "KRW":
            pnl = holding.size * (holding.price_krw - holding.avg_buy_price)
        records.append(
            PositionRecord(
                run_id=run_id,
                strategy=strategy,
                created_at=snapshot.taken_at,
                currency=holding.currency,
                size=holding.size,
                locked=holding.locked,
                avg_price=holding.avg_buy_price,
                price_krw=holding.price_krw,
                value_krw=holding.value_krw,
                unrealized_pnl_krw=pnl,
            )
        )
    return records


def feature_record(snapshot: MarketSnapshot, *, run_id: str, strategy: str) -> FeatureRecord:
    book = snapshot.book
    features: dict[str, Any] = dict(snapshot.features.as_dict())
    features.update(
        imbalance=book.imbalance,
        bid_depth_krw=book.bid_depth_krw,
        ask_depth_krw=book.ask_depth_krw,
        book_levels=book.levels,
        depth_bps=book.depth_bps,
    )
    return FeatureRecord(
        run_id=run_id,
        strategy=strategy,
        created_at=snapshot.taken_at,
        market=str(snapshot.market),
        last_price=snapshot.last_price,
        best_bid=book.best_bid,
        best_ask=book.best_ask,
        spread_bps=book.spread_bps,
        features_json=features,
    )


def verdict_record(
    verdict: RiskVerdict, *, run_id: str, strategy: str, created_at: datetime
) -> RiskVerdictRecord:
    return RiskVerdictRecord(
        run_id=run_id,
        strategy=strategy,
        created_at=created_at,
        action=verdict.decision.action.value,
        approved=verdict.approved,
        shrunk=verdict.shrunk,
        reasons_json=list(verdict.reasons),
        trading_state=verdict.state.value,
        stop_loss_price=verdict.stop_loss_price,
        take_profit_price=verdict.take_profit_price,
        details_json={
            "stop_loss_pct": verdict.stop_loss_pct,
            "take_profit_pct": verdict.take_profit_pct,
            "limit_price": verdict.limit_price,
            "risk_pct": verdict.decision.risk_pct,
        },
    )


def allocation_record(
    proposal: AllocationProposal,
    snapshot: MarketSnapshot,
    *,
    run_id: str,
    strategy: str,
    created_at: datetime,
) -> AllocationRecord:
    return AllocationRecord(
        run_id=run_id,
        strategy=strategy,
        created_at=created_at,
        side=proposal.side.value,
        desired_notional=proposal.desired_notional,
        final_notional=proposal.final_notional,
        volume=proposal.volume,
        scale_factor=proposal.scale_factor,
        caps_hit_json=list(proposal.caps_hit),
        expected_slippage_bps=proposal.expected_slippage_bps,
        fee_rate=proposal.fee_rate,
        fee_estimate=proposal.fee_estimate,
        use_twap=proposal.use_twap,
        reference_price=proposal.reference_price,
        equity_krw=snapshot.account.equity_krw,
        reason=proposal.reason,
        details_json={"caps": proposal.caps, "expected_avg_price": proposal.expected_avg_price},
    )


def skipped_execution(
    decision: TradeDecision,
    *,
    execution_id: str,
    run_id: str,
    strategy: str,
    created_at: datetime,
    status: str,
    mode: Mode,
    why: tuple[str, ...],
) -> ExecutionRecord:
    """The closing row of a cycle that sent nothing, so every decision has one."""
    return ExecutionRecord(
        execution_id=execution_id,
        run_id=run_id,
        strategy=strategy,
        created_at=created_at,
        agent_intent=decision.agent_intent.value,
        action=decision.action.value,
        side=None,
        method="none",
        status=status,
        dry_run=mode.dry_run,
        mode=mode.value,
        result_json={"agent_intent": decision.agent_intent.value, "reasons": list(why)},
    )


def twap_execution(
    report: TwapReport,
    proposal: AllocationProposal,
    decision: TradeDecision,
    snapshot: MarketSnapshot,
    *,
    execution_id: str,
    run_id: str,
    strategy: str,
    created_at: datetime,
    mode: Mode,
) -> ExecutionRecord:
    """The closing row of a cycle whose trade went out as a TWAP."""
    if report.status == "failed" and report.filled_volume == 0:
        status = "failed"
    elif report.status == "refused" and report.filled_volume == 0:
        status = "refused"
    elif report.filled_volume == 0:
        status = "unfilled"
    else:
        status = "filled" if report.remaining <= 0 else "partial"
    return ExecutionRecord(
        **_trade_fields(proposal, decision, snapshot, execution_id=execution_id,
                        run_id=run_id, strategy=strategy, created_at=created_at,
                        mode=mode),
        method="twap",
        status=status,
        twap_run_id=report.twap_run_id,
        filled_volume=report.filled_volume,
        filled_funds=report.filled_funds,
        avg_price=report.avg_price,
        fee=report.fees,
        arrival_price=report.arrival_price,
        slippage_bps=report.slippage_bps,
        result_json={"agent_intent": decision.agent_intent.value,
                     "twap_status": report.status, "remaining": report.remaining,
                     "slices_sent": report.slices_sent, "error": report.error,
                     "events": jsonable(list(report.events))},
    )


def order_execution(
    report: OrderReport,
    proposal: AllocationProposal,
    decision: TradeDecision,
    snapshot: MarketSnapshot,
    *,
    execution_id: str,
    run_id: str,
    strategy: str,
    created_at: datetime,
    mode: Mode,
    extra: dict[str, Any] | None = None,
) -> ExecutionRecord:
    side = proposal.side
    avg = average_price(report.filled_funds, report.filled_volume)
    arrival = proposal.reference_price
    return ExecutionRecord(
        **_trade_fields(proposal, decision, snapshot, execution_id=execution_id,
                        run_id=run_id, strategy=strategy, created_at=created_at,
                        mode=mode),
        method="order",
        status=report.status,
        client_order_id=report.client_order_id,
        filled_volume=report.filled_volume,
        filled_funds=report.filled_funds,
        avg_price=avg,
        fee=report.fee,
        arrival_price=arrival,
        slippage_bps=signed_slippage_bps(side, avg, arrival),
        result_json={"agent_intent": decision.agent_intent.value,
                     "events": jsonable(list(report.events)), "error": report.error,
                     **(extra or {})},
    )


def _trade_fields(
    proposal: AllocationProposal,
    decision: TradeDecision,
    snapshot: MarketSnapshot,
    *,
    execution_id: str,
    run_id: str,
    strategy: str,
    created_at: datetime,
    mode: Mode,
) -> dict[str, Any]:
    """What a single order's and a TWAP's closing rows share: who, what was asked, and
    the decision's snapshot price the slippage report measures against."""
    return {
        "execution_id": execution_id,
        "run_id": run_id,
        "strategy": strategy,
        "created_at": created_at,
        "dry_run": mode.dry_run,
        "mode": mode.value,
        "agent_intent": decision.agent_intent.value,
        "action": decision.action.value,
        "side": proposal.side.value,
        "requested_notional": proposal.final_notional,
        "requested_volume": proposal.volume,
        "reference_price": snapshot.last_price,
    }
