"""What a cycle tells the operator: fills, trading-state changes, orders of unknown fate
and their settling, failures (one message for a failing loop, not one a cycle), and a
daily summary at a configured KST time.

Events go to an ``Emitter`` that never blocks and never raises (the notify package's
``Notifier`` sends them beside the cycle); building them must not break a cycle either,
so every call here is guarded and a fault in it is only logged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, time
from decimal import Decimal

from ..domain import ZERO
from ..errors import OrderStateUnknown
from ..notify import ConsecutiveFailures, DailySummaryClock, Emitter, Event, events
from ..risk import start_of_day_kst
from .results import CycleResult
from .state import CycleState

log = logging.getLogger(__name__)

DayTotals = Callable[[datetime], tuple[Decimal, Decimal]]
"""Fees (KRW) and model cost (USD) of the strategy's mode since the given time."""


class CycleNotices:
    """Turns finished cycles into events for one strategy in one mode."""

    def __init__(self, emitter: Emitter, *, strategy: str, mode: str, market: str,
                 failures_threshold: int, summary_at: time | None,
                 day_totals: DayTotals | None = None,
                 summary_sent: datetime | None = None) -> None:
        self._emit = emitter.emit
        self._strategy, self._mode, self._market = strategy, mode, market
        self._failures = ConsecutiveFailures(failures_threshold, strategy=strategy, mode=mode)
        self._summary = DailySummaryClock(summary_at, last_sent=summary_sent)
        self._day_totals = day_totals
        self._last_state: str | None = None

    def after_cycle(self, state: CycleState, result: CycleResult,
                    error: BaseException | None) -> None:
        """Emit what ``result`` says; never raises."""
        try:
            self._after(state, result, error)
        except Exception as exc:  # a notice must never break trading
            log.warning("notifications: could not build an event: %s", exc)

    def _after(self, state: CycleState, result: CycleResult,
               error: BaseException | None) -> None:
        at = result.finished_at
        self._reconciled(state, at)
        self._state_change(state, at)
        self._filled(state, at)
        if isinstance(error, OrderStateUnknown):
            self._send(events.order_unknown(self._strategy, self._mode, error.client_order_id,
                                            str(error), at, market=self._market))
        step = state.current if not result.ok else ""
        if not result.ok:
            self._send(events.cycle_failed(self._strategy, self._mode, step,
                                           result.error or "", at, run_id=result.run_id))
        streak = self._failures.record(result.ok, at=at, step=step, error=result.error or "")
        if streak is not None:
            self._send(streak)
        if result.equity_krw is not None and self._summary.due(at):
            self._daily(state, result.equity_krw, at)

    def _reconciled(self, state: CycleState, at: datetime) -> None:
        step = next((s for s in state.steps if s.name == "reconcile"), None)
        if step is None or step.status != "ok":
            return
        for client_order_id in step.detail.get("settled", ()):
            self._send(events.order_settled(self._strategy, self._mode, client_order_id,
                                            "settled", at, market=self._market))
        for client_order_id in step.detail.get("unresolved", ()):
            self._send(events.order_unknown(self._strategy, self._mode, client_order_id,
                                            "still not settled by reconciliation", at,
                                            market=self._market))

    def _state_change(self, state: CycleState, at: datetime) -> None:
        risk = state.risk_state
        if risk is None:
            return
        now = risk.state.value
        before, self._last_state = self._last_state, now
        if now != (before or "active"):
            self._send(events.trading_state_changed(self._strategy, self._mode,
                                                    before or "active", now, risk.reasons, at))

    def _filled(self, state: CycleState, at: datetime) -> None:
        execution = state.execution
        if execution is None or execution.method != "order" or execution.filled_volume <= 0:
            return  # a TWAP tells its own end; a netted order, its portfolio
        self._send(events.order_filled(
            self._strategy, self._mode, execution.side or "", execution.filled_volume,
            execution.avg_price or ZERO, execution.filled_funds, execution.fee, at,
            market=self._market, order_id=execution.client_order_id or ""))

    def _daily(self, state: CycleState, equity: Decimal, at: datetime) -> None:
        risk = state.risk_state
        pnl = risk.daily_pnl_krw if risk is not None and risk.daily_pnl_krw is not None \
            else ZERO
        fees, cost = ZERO, ZERO
        if self._day_totals is not None and risk is not None:
            fees, cost = self._day_totals(start_of_day_kst(at))
        self._send(events.daily_summary(self._strategy, self._mode, equity, pnl, fees, cost,
                                        at))

    def _send(self, event: Event) -> None:
        self._emit(event)
