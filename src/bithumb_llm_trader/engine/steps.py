"""The decision-to-order steps of a cycle, each a method returning its detail."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Protocol

from ..allocation import AllocationRequest, evaluate_allocation
from ..config import StrategyConfig
from ..decision import Action, AgentIntent, TradeDecision, decision_records, shadow_records
from ..domain import ZERO, OrderRequest, OrderState, OrderType, Side, round_volume
from ..errors import OrderRefused, RetryableError
from ..execution import OrderExecutor
from ..order_ids import cycle_order_id
from ..ports import Clock, Decider, Store
from ..prompts import Prompt, build_trading_prompt
from ..records import OrderRecord, PositionGuardRecord
from ..risk import (
    KILL_SWITCH,
    RiskManager,
    RiskVerdict,
    sell_fraction,
    stop_price,
    take_profit_price,
)
from ..twap import TWAPExecutor, TwapParams
from . import recording as rec
from .state import CycleState, Stop

log = logging.getLogger(__name__)

class Filled(Protocol):
    """What a single order or a TWAP reports of its fills."""

    @property
    def filled_volume(self) -> Decimal: ...

    @property
    def filled_funds(self) -> Decimal: ...


NO_PROMPT = Prompt(system="", user="", version="none")
"""Stands in for the prompt of a decider that does not read one."""

_BLOCKING_STATES = {OrderState.PENDING.value, OrderState.UNKNOWN.value}


class CycleSteps:
    """reconcile, protect, prompt, decide, risk, allocate and execute."""

    def __init__(
        self,
        config: StrategyConfig,
        *,
        decider: Decider,
        store: Store,
        clock: Clock,
        ids: Callable[[], str],
        risk: RiskManager,
        executor: OrderExecutor,
        twap: TWAPExecutor,
        committed_krw: Callable[[], Decimal] = lambda: ZERO,
        stop: asyncio.Event | None = None,
    ) -> None:
        self._config = config
        self._decider = decider
        self._store = store
        self._clock = clock
        self._ids = ids
        self._mode = executor.mode
        self._mode_value = executor.mode.value  # an enum's value is a Python property
        self._risk = risk
        self._orders = executor
        self._twap = twap
        self._committed_krw = committed_krw
        # Set by the caller's Ctrl-C / SIGTERM handler: a TWAP in a cycle stops with it.
        self._stop = stop

    @property
    def strategy(self) -> str:
        return self._config.name

    async def reconcile(self, state: CycleState) -> dict[str, Any]:
        """Settle orders a previous run left open, sent-but-unrecorded, or unknown."""
        settled, still_open, unresolved = [], [], []
        for record in self._store.unsettled_orders(self.strategy, self._mode_value):
            try:
                updated = await self._orders.reconcile(record)
            except RetryableError as exc:
                log.warning("cannot reconcile %s yet: %s", record.client_order_id, exc)
                unresolved.append(record.client_order_id)
                continue
            if updated.state in _BLOCKING_STATES:
                unresolved.append(updated.client_order_id)
            elif OrderState(updated.state).is_final:
                settled.append(updated.client_order_id)
                self._guard_reconciled_buy(updated, state.run_id)
            else:
                still_open.append(updated.client_order_id)
        state.unresolved_orders = unresolved
        return {"settled": settled, "open": still_open, "unresolved": unresolved}

    async def protect(self, state: CycleState) -> dict[str, Any]:
        """Exit first when the open position's stop-loss or take-profit is hit.

        With the kill switch present nothing may trade, so the cycle ends here: the
        model is not asked (no tokens spent while halted) and ``prompt`` and
        ``decide`` are recorded as skipped with reason ``kill_switch``.
        """
        detail = self._protect(state)
        if state.require_risk_state().kill_switch:
            state.decision = TradeDecision.hold("kill switch present: the model was not asked")
            self._close_without_order(state, "halted", (KILL_SWITCH,))
            raise Stop(KILL_SWITCH, **detail)
        return detail

    def _protect(self, state: CycleState) -> dict[str, Any]:
        snapshot = state.require_snapshot()
        market = str(snapshot.market)
        guard = self._store.load_guard(self.strategy, market, self._mode_value)
        held = snapshot.position.size * snapshot.last_price
        if held < max(self._config.allocation.min_order_krw, snapshot.order_chance.min_total):
            # Flat, or dust too small to sell: nothing a stop could protect.
            if guard is not None:
                self._store.clear_guard(self.strategy, market, self._mode_value)
            return {"position": "flat" if snapshot.position.size <= 0 else "dust"}
        if guard is None:
            return {"guard": None}
        # The book, not a lone ticker print: one bad trade price must not sell a whole
        # position. (The snapshot's sanity check also refused a ticker far from the book.)
        price = snapshot.book.mid
        trigger = None
        if guard.stop_loss_price is not None and price <= guard.stop_loss_price:
            trigger = "stop_loss"
        elif guard.take_profit_price is not None and price >= guard.take_profit_price:
            trigger = "take_profit"
        detail = {"stop_loss_price": guard.stop_loss_price,
                  "take_profit_price": guard.take_profit_price, "trigger": trigger}
        risk_state = state.require_risk_state()
        if trigger is None or risk_state.kill_switch:
            return detail
        state.protective = trigger
        state.decision = TradeDecision(
            action=Action.SELL, confidence=Decimal(1), agent_intent=AgentIntent.EXIT,
            rationale=f"{trigger} hit: book mid {price}",
        )
        state.verdict = RiskVerdict(
            approved=True, decision=state.decision, side=Side.SELL,
            reasons=(f"{trigger}_triggered",), shrunk=False, state=risk_state.state,
        )
        return detail

    async def prompt(self, state: CycleState) -> dict[str, Any]:
        if state.protective:
            return {"skipped": "protective exit"}
        if not self._decider.needs_prompt:
            state.prompt = NO_PROMPT
            return {"skipped": f"the {self._decider.name} decider reads the snapshot only"}
        snapshot = state.require_snapshot()
        prompt = build_trading_prompt(snapshot, snapshot.position, self._config)
        state.prompt = prompt
        return {"version": prompt.version, "estimated_tokens": prompt.estimated_tokens}

    async def decide(self, state: CycleState) -> dict[str, Any]:
        if state.protective or state.prompt is None:
            return {"skipped": "protective exit"}
        outcome = await self._decider.decide(state.prompt, state.require_snapshot())
        state.outcome = outcome
        state.decision = outcome.decision
        request_id, now = self._ids(), self._clock.now()
        request, signal = decision_records(
            outcome, state.prompt, run_id=state.run_id, strategy=self.strategy,
            request_id=request_id, created_at=now,
        )
        shadows = shadow_records(outcome, state.prompt, run_id=state.run_id,
                                 strategy=self.strategy, request_id=request_id, created_at=now)
        self._store.write([request, signal, *shadows])
        detail = {"decider": outcome.decider, "action": outcome.decision.action,
                  "confidence": outcome.decision.confidence,
                  "hold_reason": outcome.hold_reason, "cost_usd": outcome.cost_usd}
        if outcome.decision.action is Action.HOLD:
            self._close_without_order(state, "hold", (outcome.hold_reason or "hold",))
            raise Stop("hold", **detail)
        return detail

    async def review(self, state: CycleState) -> dict[str, Any]:
        if state.verdict is None:
            state.verdict = self._risk.review(
                state.require_decision(), state.require_snapshot(), state.require_risk_state()
            )
        verdict = state.verdict
        if not verdict.approved:
            self._store.write([rec.verdict_record(
                verdict, run_id=state.run_id, strategy=self.strategy,
                created_at=self._clock.now())])
            self._close_without_order(state, "rejected", verdict.reasons)
            raise Stop("rejected", reasons=verdict.reasons)
        return {"approved": True, "reasons": verdict.reasons,
                "stop_loss_price": verdict.stop_loss_price,
                "take_profit_price": verdict.take_profit_price}

    async def allocate(self, state: CycleState) -> dict[str, Any]:
        snapshot = state.require_snapshot()
        verdict = state.verdict
        assert verdict is not None and verdict.side is not None
        config = self._config
        proposal = evaluate_allocation(
            self._allocation_request(state, verdict), config.allocation, config.risk, config.twap
        )
        state.proposal = proposal
        final = self._risk.confirm(verdict, proposal)
        state.verdict = final
        now = self._clock.now()
        self._store.write([
            rec.allocation_record(proposal, snapshot, run_id=state.run_id,
                                  strategy=self.strategy, created_at=now),
            rec.verdict_record(final, run_id=state.run_id, strategy=self.strategy,
                               created_at=now),
        ])
        detail = {"final_notional": proposal.final_notional, "caps_hit": proposal.caps_hit,
                  "use_twap": proposal.use_twap, "reason": proposal.reason}
        if not final.approved:
            self._close_without_order(state, "no_order", final.reasons)
            raise Stop("no_order", reasons=final.reasons)
        return detail

    def _allocation_request(self, state: CycleState, verdict: RiskVerdict) -> AllocationRequest:
        snapshot = state.require_snapshot()
        account = snapshot.account
        side = verdict.side
        assert side is not None
        held = next((h for h in account.holdings if h.currency == snapshot.market.base), None)
        free_size = held.size - held.locked if held else ZERO
        chance = snapshot.order_chance
        return AllocationRequest(
            side=side,
            equity_krw=account.equity_krw,
            cash_krw=account.cash_krw,
            reserved_pool_krw=account.reserved_pool_krw,
            invested_krw=account.position.size * snapshot.last_price,
            position_size=free_size,
            risk_pct=verdict.decision.risk_pct,
            stop_fraction=verdict.stop_loss_pct or self._config.risk.stop_loss_pct,
            orderbook=snapshot.orderbook,
            fee_rate=chance.taker_fee(side),
            min_order_krw=max(self._config.allocation.min_order_krw, chance.min_total),
            committed_krw=self._committed_krw(),
            sell_fraction=sell_fraction(verdict.decision, self._config.allocation.reduce_fraction),
        )

    async def execute(self, state: CycleState) -> dict[str, Any]:
        snapshot = state.require_snapshot()
        proposal, verdict = state.proposal, state.verdict
        assert proposal is not None and verdict is not None
        if proposal.use_twap:
            return await self._execute_twap(state, verdict)
        request = self._order_request(state, verdict)
        report = await self._orders.execute(request, run_id=state.run_id)
        execution = rec.order_execution(
            report, proposal, verdict.decision, snapshot,
            execution_id=self._ids(), run_id=state.run_id, strategy=self.strategy,
            created_at=self._clock.now(), mode=self._mode,
            extra={"trigger": state.protective, "use_twap_suggested": proposal.use_twap},
        )
        state.execution = execution
        self._store.write([execution])
        self._update_guard(state, verdict, report)
        return {"status": report.status, "client_order_id": report.client_order_id,
                "filled_volume": report.filled_volume, "avg_price": execution.avg_price,
                "slippage_bps": execution.slippage_bps}

    async def _execute_twap(self, state: CycleState, verdict: RiskVerdict) -> dict[str, Any]:
        """A trade too large for one order goes out in slices over ``twap.duration``."""
        snapshot = state.require_snapshot()
        proposal = state.proposal
        assert proposal is not None and verdict.side is not None
        buying = verdict.side is Side.BUY
        params = TwapParams.from_config(
            self._config, side=verdict.side, run_id=state.run_id,
            notional=proposal.final_notional if buying else None,
            volume=None if buying else proposal.volume,
            limit_price=verdict.limit_price,
            min_order_krw=max(self._config.allocation.min_order_krw,
                              snapshot.order_chance.min_total),
        )
        try:
            report = await self._twap.run(params, stop=self._stop)
        except OrderRefused as exc:  # the gate refused the TWAP as a whole
            self._close_without_order(state, "refused", (exc.reason,))
            raise Stop("refused", reasons=(exc.reason,), error=str(exc)) from None
        execution = rec.twap_execution(
            report, proposal, verdict.decision, snapshot,
            execution_id=self._ids(), run_id=state.run_id, strategy=self.strategy,
            created_at=self._clock.now(), mode=self._mode,
        )
        state.execution = execution
        self._store.write([execution])
        self._update_guard(state, verdict, report)
        return {"status": execution.status, "twap_run_id": report.twap_run_id,
                "filled_volume": report.filled_volume, "avg_price": report.avg_price,
                "slippage_bps": report.slippage_bps}

    def _order_request(self, state: CycleState, verdict: RiskVerdict) -> OrderRequest:
        proposal = state.proposal
        assert proposal is not None and verdict.side is not None
        market = state.require_snapshot().market
        client_id = cycle_order_id(state.run_id)
        if verdict.limit_price is not None:
            volume = proposal.volume if verdict.side is Side.SELL else round_volume(
                proposal.final_notional / verdict.limit_price)
            return OrderRequest(market=market, side=verdict.side, order_type=OrderType.LIMIT,
                                client_order_id=client_id, price=verdict.limit_price,
                                volume=volume)
        if verdict.side is Side.BUY:
            return OrderRequest(market=market, side=Side.BUY, order_type=OrderType.MARKET,
                                client_order_id=client_id, notional=proposal.final_notional)
        return OrderRequest(market=market, side=Side.SELL, order_type=OrderType.MARKET,
                            client_order_id=client_id, volume=proposal.volume)

    def _update_guard(self, state: CycleState, verdict: RiskVerdict, report: Filled) -> None:
        snapshot = state.require_snapshot()
        market = str(snapshot.market)
        position = snapshot.position
        if verdict.side is Side.SELL:
            if report.filled_volume >= position.size:
                self._store.clear_guard(self.strategy, market, self._mode_value)
            return
        if report.filled_volume <= 0:
            return
        size = position.size + report.filled_volume
        entry = (position.size * position.avg_price + report.filled_funds) / size
        self._save_guard(market, entry, verdict.stop_loss_pct, verdict.take_profit_pct,
                         state.run_id)

    def _guard_reconciled_buy(self, record: OrderRecord, run_id: str) -> None:
        """A buy that filled while nobody was watching still gets its stop and target."""
        if record.side != Side.BUY.value or record.executed_volume <= 0:
            return
        if self._store.load_guard(self.strategy, record.market, self._mode_value) is not None:
            return
        entry = record.executed_funds / record.executed_volume
        self._save_guard(record.market, entry, None, None, run_id)

    def _save_guard(
        self, market: str, entry: Decimal, stop_pct: Decimal | None,
        take_pct: Decimal | None, run_id: str,
    ) -> None:
        risk = self._config.risk
        self._store.save_guard(PositionGuardRecord(
            strategy=self.strategy, market=market, mode=self._mode_value,
            stop_loss_price=stop_price(entry, stop_pct or risk.stop_loss_pct),
            take_profit_price=take_profit_price(entry, take_pct or risk.take_profit_pct),
            entry_price=entry.quantize(Decimal("0.00000001")),
            run_id=run_id, updated_at=self._clock.now(),
        ))

    def _close_without_order(self, state: CycleState, status: str, why: tuple[str, ...]) -> None:
        decision = state.require_decision()
        execution = rec.skipped_execution(
            decision, execution_id=self._ids(), run_id=state.run_id, strategy=self.strategy,
            created_at=self._clock.now(), status=status, mode=self._mode, why=why,
        )
        state.execution = execution
        self._store.write([execution])
