"""The working state of one cycle as its steps fill it in."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from ..allocation import AllocationProposal
from ..decision import DecisionOutcome, TradeDecision
from ..domain import Side
from ..fast_init import fast_init
from ..market import MarketSnapshot
from ..prompts import Prompt
from ..records import ExecutionRecord
from ..risk import RiskState, RiskVerdict
from .results import CycleResult, StepResult


class Stop(Exception):
    """Raised by a step to end the cycle early and normally (HOLD, rejected, no order)."""

    def __init__(self, reason: str, **detail: Any) -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = {"stopped": reason, **detail}


@fast_init
@dataclass(frozen=True, slots=True)
class DecisionSummary:
    """The decision and who made it; rendered as JSON only when someone reads it."""

    decision: TradeDecision
    outcome: DecisionOutcome | None
    trigger: str | None

    def __json__(self) -> dict[str, Any]:
        summary: dict[str, Any] = dict(self.decision)
        if self.outcome is not None:
            summary["decider"] = self.outcome.decider
            summary["hold_reason"] = self.outcome.hold_reason
            summary["model"] = self.outcome.model
        if self.trigger:
            summary["decider"] = "guard"
            summary["trigger"] = self.trigger
        return summary


@dataclass(slots=True)
class CycleState:
    run_id: str
    started_at: datetime
    current: str = "start"
    steps: list[StepResult] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    stopped: Stop | None = None
    snapshot: MarketSnapshot | None = None
    risk_state: RiskState | None = None
    unresolved_orders: list[str] = field(default_factory=list)
    prompt: Prompt | None = None
    outcome: DecisionOutcome | None = None
    decision: TradeDecision | None = None
    protective: str | None = None
    verdict: RiskVerdict | None = None
    proposal: AllocationProposal | None = None
    execution: ExecutionRecord | None = None

    def require_snapshot(self) -> MarketSnapshot:
        if self.snapshot is None:
            raise RuntimeError("no market snapshot yet")
        return self.snapshot

    def require_risk_state(self) -> RiskState:
        if self.risk_state is None:
            raise RuntimeError("trading state not assessed yet")
        return self.risk_state

    def require_decision(self) -> TradeDecision:
        if self.decision is None:
            raise RuntimeError("no decision yet")
        return self.decision

    def result(
        self, *, strategy: str, market: str, mode: str, finished_at: datetime, error: str | None
    ) -> CycleResult:
        snapshot = self.snapshot
        account = snapshot.account if snapshot else None
        cash_after, size_after = self._after_trade()
        return CycleResult(
            run_id=self.run_id,
            strategy=strategy,
            market=market,
            mode=mode,
            status="failed" if error else "ok",
            started_at=self.started_at,
            finished_at=finished_at,
            steps=tuple(self.steps),
            error=error,
            trading_state=self.risk_state.state.value if self.risk_state else None,
            equity_krw=account.equity_krw if account else None,
            reserved_pool_krw=account.reserved_pool_krw if account else None,
            cash_krw=account.cash_krw if account else None,
            position_size=account.position.size if account else None,
            last_price=snapshot.last_price if snapshot else None,
            cash_krw_after=cash_after,
            position_size_after=size_after,
            parts={
                "decision": self._decision_summary(),
                "verdict": self._verdict_summary() if self.verdict else None,
                "allocation": self.proposal,
                "execution": self.execution,
            },
            warnings=tuple(self.warnings),
        )

    def _after_trade(self) -> tuple[Decimal | None, Decimal | None]:
        """Free cash and position once this cycle's fills and fees are counted.

        KRW pays the fee on both sides. Funds still locked in an unfilled order are
        not subtracted: the next snapshot reads them from the exchange.
        """
        if self.snapshot is None:
            return None, None
        account = self.snapshot.account
        cash, size = account.cash_krw, account.position.size
        execution = self.execution
        if execution is None or execution.side is None:
            return cash, size
        if execution.side == Side.BUY.value:
            return (cash - execution.filled_funds - execution.fee,
                    size + execution.filled_volume)
        return (cash + execution.filled_funds - execution.fee,
                size - execution.filled_volume)

    def _decision_summary(self) -> DecisionSummary | None:
        if self.decision is None:
            return None
        return DecisionSummary(self.decision, self.outcome, self.protective)

    def _verdict_summary(self) -> dict[str, Any]:
        verdict = self.verdict
        assert verdict is not None
        return {
            "approved": verdict.approved,
            "shrunk": verdict.shrunk,
            "reasons": verdict.reasons,
            "state": verdict.state,
            "stop_loss_price": verdict.stop_loss_price,
            "take_profit_price": verdict.take_profit_price,
            "limit_price": verdict.limit_price,
        }
