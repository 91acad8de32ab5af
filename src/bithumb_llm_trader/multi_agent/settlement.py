"""Settling a netting plan so that no fill is lost and none is booked twice.

Order of events for one plan: the plan is saved (the link between the strategies'
intent orders and the netted order), the passive side is booked, the one netted order
goes out through the portfolio's ``OrderExecutor`` (saved as pending before it is
sent, looked up by its client id after any fault), and the active side is booked from
what it filled. Each intent is booked at most once (its ledger order becomes final), so
a plan interrupted anywhere is finished by ``resume`` at the next cycle's start.

If the netted order's fate is unknown, or it is still working, the active side's
intents are recorded as ``unknown``: their strategies stop trading (the engine halts
on unsettled orders) until ``resume`` settles the order and books them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..domain import ZERO, Order, OrderRequest, OrderState, OrderType, Side, average_price
from ..errors import OrderStateUnknown, RetryableError, StopError
from ..execution import OrderExecutor, OrderReport
from ..paper import PaperStateStore
from ..ports import Clock, Store
from ..records import ExecutionRecord, OrderRecord, PaperOrderRecord
from .ledger import Ledger
from .netting import (
    ExternalFill,
    Intent,
    NettingPlan,
    Share,
    active_shares,
    passive_shares,
    plan_from_json,
    plan_to_json,
)

log = logging.getLogger(__name__)

OPEN = "open"
UNSETTLED = "unsettled"
SETTLED = "settled"


class NettingBook:
    """Plans not yet fully booked, kept under ``<portfolio>#netting`` in the store."""

    def __init__(self, store: PaperStateStore, portfolio: str, clock: Clock) -> None:
        self.key = f"{portfolio}#netting"
        self._store = store
        self._clock = clock
        self._open: dict[str, NettingPlan] = {}
        self._intents: dict[str, Intent] = {}

    def load(self) -> list[NettingPlan]:
        """The plans a previous cycle or process left open."""
        _, records = self._store.load_paper_state(self.key)
        self._open = {}
        for record in records:
            if record.state != SETTLED:
                self._remember(plan_from_json(record.order_json))
        self._index()
        return list(self._open.values())

    def save(self, plan: NettingPlan, state: str) -> None:
        record = PaperOrderRecord(
            strategy=self.key, order_id=plan.netting_id,
            client_order_id=f"{plan.netting_id}-plan", state=state,
            updated_at=self._clock.now(), order_json={**plan_to_json(plan), "state": state},
        )
        self._store.save_paper_state(self.key, [], [record])
        if state == SETTLED:
            self._open.pop(plan.netting_id, None)
        else:
            self._remember(plan)
        self._index()

    def in_flight(self, client_order_id: str) -> Intent | None:
        return self._intents.get(client_order_id)

    def compact(self) -> None:
        """Drop settled plans once none is open (``llm_executions`` keeps the audit)."""
        if not self._open:
            self._store.reset_paper_state(self.key)

    def _remember(self, plan: NettingPlan) -> None:
        self._open[plan.netting_id] = plan

    def _index(self) -> None:
        self._intents = {i.client_order_id: i for p in self._open.values() for i in p.intents}


@dataclass(slots=True)
class Settlement:
    """What became of one plan: the orders each intent gets, or the error it gets."""

    plan: NettingPlan
    status: str  # crossed, filled, partial, unfilled, rejected, not_sent, unsettled, failed
    orders: dict[str, Order] = field(default_factory=dict)
    errors: dict[str, Exception] = field(default_factory=dict)
    shares: list[Share] = field(default_factory=list)
    external: ExternalFill = field(default_factory=ExternalFill)
    report: OrderReport | None = None
    error: str | None = None


class Settler:
    """Runs plans to the end and finishes the ones a previous cycle left open."""

    def __init__(
        self,
        *,
        portfolio: str,
        book: NettingBook,
        ledgers: Mapping[str, Ledger],
        executor: OrderExecutor,
        store: Store,
        clock: Clock,
        ids: Callable[[], str],
    ) -> None:
        self._portfolio = portfolio
        self._book = book
        self._ledgers = ledgers
        self._executor = executor
        self._store = store
        self._clock = clock
        self._ids = ids
        self._mode = executor.mode

    async def settle(self, plan: NettingPlan, run_id: str) -> Settlement:
        self._book.save(plan, OPEN)
        outcome = Settlement(plan, "crossed")
        self._book_shares(outcome, passive_shares(plan))
        failure: Exception | None = None
        if plan.sends_order:
            try:
                outcome.report = await self._executor.execute(_request(plan), run_id=run_id)
            except Exception as exc:
                failure, outcome.error = exc, f"{type(exc).__name__}: {exc}"
                log.warning("netted order %s failed: %s", plan.netting_id, outcome.error)
            record = self._store.get_order(plan.netting_id)
            if record is not None and not OrderState(record.state).is_final:
                return self._leave_unsettled(outcome, run_id)
            outcome.external = _external_fill(record)
            outcome.status = _status(outcome.report, record)
        self._book_shares(outcome, active_shares(plan, outcome.external))
        if isinstance(failure, StopError):  # keys, permissions: each strategy must say so
            for intent in plan.of_side(plan.active_side):
                outcome.errors[intent.client_order_id] = failure
        return self._finish(outcome, run_id)

    async def resume(self, run_id: str) -> list[Settlement]:
        """Finish every plan left open: look its order up and book what it filled."""
        finished = []
        for plan in self._book.load():
            record = self._store.get_order(plan.netting_id) if plan.sends_order else None
            if record is not None and not OrderState(record.state).is_final:
                try:
                    record = await self._executor.reconcile(record)
                except RetryableError as exc:
                    log.warning("netted order %s still unsettled: %s", plan.netting_id, exc)
                    continue
                if not OrderState(record.state).is_final:
                    continue
            status = "crossed" if not plan.sends_order else (
                _status(None, record) if record is not None else "not_sent")
            outcome = Settlement(plan, status)
            outcome.external = _external_fill(record)
            self._book_shares(outcome, passive_shares(plan))
            self._book_shares(outcome, active_shares(plan, outcome.external))
            finished.append(self._finish(outcome, run_id))
        self._book.compact()
        return finished

    def _book_shares(self, outcome: Settlement, shares: tuple[Share, ...]) -> None:
        for share in shares:
            intent = share.intent
            outcome.shares.append(share)
            outcome.orders[intent.client_order_id] = self._ledgers[intent.strategy].apply(
                share, outcome.plan)

    def _leave_unsettled(self, outcome: Settlement, run_id: str) -> Settlement:
        plan = outcome.plan
        outcome.status = "unsettled"
        for intent in plan.of_side(plan.active_side):
            self._ledgers[intent.strategy].mark_unknown(intent, plan)
            outcome.errors[intent.client_order_id] = OrderStateUnknown(
                f"netted order {plan.netting_id} is not settled yet"
                f"{': ' + outcome.error if outcome.error else ''}; the next cycle settles it",
                client_order_id=intent.client_order_id,
            )
        self._book.save(plan, UNSETTLED)
        self._store.write([self._execution_record(outcome, run_id)])
        return outcome

    def _finish(self, outcome: Settlement, run_id: str) -> Settlement:
        self._book.save(outcome.plan, SETTLED)
        self._store.write([self._execution_record(outcome, run_id)])
        return outcome

    def _execution_record(self, outcome: Settlement, run_id: str) -> ExecutionRecord:
        plan, external = outcome.plan, outcome.external
        is_buy = plan.active_side is Side.BUY
        return ExecutionRecord(
            execution_id=self._ids(), run_id=run_id, strategy=self._portfolio,
            created_at=self._clock.now(), agent_intent="netting",
            action=plan.active_side.name.lower(),
            side=plan.active_side.value if plan.sends_order else None,
            method="netted", status=outcome.status, dry_run=self._mode.dry_run,
            mode=self._mode.value,
            client_order_id=plan.netting_id if plan.sends_order else None,
            requested_notional=plan.external_amount if is_buy and plan.sends_order else None,
            requested_volume=plan.external_amount if not is_buy and plan.sends_order else None,
            filled_volume=external.volume, filled_funds=external.funds,
            avg_price=average_price(external.funds, external.volume), fee=external.fee,
            reference_price=plan.price,
            result_json={"agent_intent": "netting", **_audit(outcome)},
        )


def _request(plan: NettingPlan) -> OrderRequest:
    if plan.active_side is Side.BUY:
        return OrderRequest(market=plan.market, side=Side.BUY, order_type=OrderType.MARKET,
                            client_order_id=plan.netting_id, notional=plan.external_amount)
    return OrderRequest(market=plan.market, side=Side.SELL, order_type=OrderType.MARKET,
                        client_order_id=plan.netting_id, volume=plan.external_amount)


def _external_fill(record: OrderRecord | None) -> ExternalFill:
    if record is None:
        return ExternalFill()
    return ExternalFill(volume=record.executed_volume, funds=record.executed_funds,
                        fee=record.paid_fee, complete=record.state == OrderState.DONE.value)


def _status(report: OrderReport | None, record: OrderRecord | None) -> str:
    if report is not None:
        return report.status
    if record is None:
        return "failed"
    if record.state == OrderState.DONE.value:
        return "filled"
    if record.state == OrderState.CANCEL.value:
        return "partial" if record.executed_volume > ZERO else "unfilled"
    return record.state


def _audit(outcome: Settlement) -> dict[str, Any]:
    return {
        "plan": plan_to_json(outcome.plan),
        "shares": [share_summary(share) for share in outcome.shares],
        "events": list(outcome.report.events) if outcome.report else [],
        "error": outcome.error,
    }


def share_summary(share: Share) -> dict[str, Any]:
    """One intent's fill, JSON-ready, for the audit row and the cycle result."""
    intent = share.intent
    return {
        "strategy": intent.strategy, "client_order_id": intent.client_order_id,
        "side": intent.side.value, "requested": str(intent.requested),
        "amount": str(intent.amount), "volume": str(share.volume),
        "funds": str(share.funds), "fee": str(share.fee),
        "cross_volume": str(share.cross_volume), "complete": share.complete,
    }
