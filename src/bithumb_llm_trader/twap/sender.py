"""Sending one slice, and settling slices whose orders are not final yet.

Every slice goes through ``OrderExecutor``: its order is saved as pending under the
slice's own client order id before it is sent, a lost answer is looked up rather than
resent, and fills are recorded. A slice is a limit order at the guard price; whatever
part of it does not fill at once is cancelled, so nothing is left resting on the book.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from ..domain import OrderRequest, OrderState, OrderType
from ..errors import ExchangeRejected, RetryableError
from ..execution import OrderExecutor, OrderReport
from ..ports import Clock, MarketData, Store
from ..records import OrderRecord, TwapSliceRecord
from .guard import SliceSizing, size_slice
from .plan import SizeUnit
from .state import (
    SLICE_PLANNED,
    SLICE_SENT,
    SLICE_SKIPPED,
    UNSETTLED_SLICES,
    TwapRun,
    slice_from_order,
)

log = logging.getLogger(__name__)

RESTING = frozenset({OrderState.WAIT.value, OrderState.WATCH.value})
_QUIET_ORDER_EVENTS = frozenset({"recorded", "accepted", "settled"})


class SliceSender:
    """Sends, cancels and reconciles the child orders of TWAP runs."""

    def __init__(
        self,
        exchange: MarketData,
        store: Store,
        clock: Clock,
        orders: OrderExecutor,
        *,
        cancel_attempts: int = 3,
        retry_delay: float = 1.0,
    ) -> None:
        self._exchange = exchange
        self._store = store
        self._clock = clock
        self._orders = orders
        self._cancel_attempts = cancel_attempts
        self._retry_delay = retry_delay

    async def execute(self, run: TwapRun, planned: TwapSliceRecord) -> TwapSliceRecord:
        """Size ``planned`` on the current book and send it, or skip it; returns it updated."""
        params = run.params
        target = run.target(planned.slice_no)
        try:
            book = await self._exchange.orderbook(params.market)
        except RetryableError as exc:
            return self.skip(run, planned, f"orderbook unavailable: {exc}")
        sizing = size_slice(book.side_levels(params.side), params.side, unit=run.unit,
                            target=target, guard=run.guard, min_order_krw=run.min_order)
        if not sizing.send:
            assert sizing.skip_reason is not None
            return self.skip(run, planned, sizing.skip_reason)
        return await self._send(run, planned, sizing)

    def skip(self, run: TwapRun, planned: TwapSliceRecord, reason: str) -> TwapSliceRecord:
        skipped = replace(planned, status=SLICE_SKIPPED, note=reason)
        self.save(run, skipped)
        run.event("slice_skipped", slice=planned.slice_no, reason=reason)
        log.info("TWAP %s slice %d skipped: %s", run.twap_run_id, planned.slice_no, reason)
        return skipped

    def save(self, run: TwapRun, slice_record: TwapSliceRecord) -> None:
        run.put(slice_record)
        self._store.save_twap_slice(slice_record)

    async def _send(
        self, run: TwapRun, planned: TwapSliceRecord, sizing: SliceSizing
    ) -> TwapSliceRecord:
        params = run.params
        request = OrderRequest(
            market=params.market, side=params.side, order_type=OrderType.LIMIT,
            client_order_id=planned.client_order_id, price=run.guard, volume=sizing.volume,
        )
        note = _shrink_note(sizing, run) if sizing.shrunk else None
        sent = replace(planned, sent_at=self._clock.now(), status=SLICE_SENT, note=note)
        self.save(run, sent)
        report: OrderReport | None = None
        try:
            report = await self._orders.execute(
                request, run_id=run.order_run_id, twap_run_id=run.twap_run_id,
                slice_no=planned.slice_no,
            )
            if report.order is not None and report.order.state.value in RESTING:
                await self._cancel_rest(run, planned.client_order_id, report.order.order_id)
        finally:
            # Even when the send raised (state unknown, cancelled), record what we know.
            settled = self._from_store(run, sent)
        if report is not None and report.refused is not None:
            run.refused, run.error = report.refused, report.error
        run.event("slice_sent", slice=planned.slice_no, target=sizing.target,
                  volume=sizing.volume, shrunk=sizing.shrunk, status=settled.status,
                  filled_volume=settled.filled_volume, avg_price=settled.avg_price,
                  order_events=_order_events(report))
        return settled

    def _from_store(self, run: TwapRun, slice_record: TwapSliceRecord) -> TwapSliceRecord:
        order = self._store.get_order(slice_record.client_order_id)
        if order is not None:
            slice_record = slice_from_order(slice_record, order, side=run.params.side,
                                            arrival=run.arrival)
        self.save(run, slice_record)
        return slice_record

    async def _cancel_rest(self, run: TwapRun, client_order_id: str, order_id: str) -> None:
        """Cancel what is left of a limit slice, then read its final fills."""
        for attempt in range(self._cancel_attempts):
            if attempt:
                await self._clock.sleep(self._retry_delay)
            try:
                await self._orders.gate.cancel_order(order_id=order_id)
            except ExchangeRejected:
                break  # already done or cancelled: nothing rests
            except RetryableError as exc:
                run.event("cancel_failed", client_order_id=client_order_id, error=str(exc))
                continue
            run.event("remainder_cancelled", client_order_id=client_order_id)
            break
        record = self._store.get_order(client_order_id)
        if record is not None:
            await self._reconcile(run, record)

    async def _reconcile(self, run: TwapRun, record: OrderRecord) -> OrderRecord:
        try:
            return await self._orders.reconcile(record)
        except RetryableError as exc:
            run.event("reconcile_failed", client_order_id=record.client_order_id,
                      error=str(exc))
            return record

    async def settle_unfinished(self, run: TwapRun) -> None:
        """Bring every slice that is not final up to date from the exchange.

        A slice whose order is found (even one sent just before a crash) takes its
        fills and is never sent again; a resting remainder is cancelled; an order the
        exchange confirms it never received puts the slice back to planned.
        """
        for slice_record in sorted(run.slices, key=lambda s: s.slice_no):
            if slice_record.status not in UNSETTLED_SLICES:
                continue
            order = self._store.get_order(slice_record.client_order_id)
            if order is None:
                if slice_record.status == SLICE_SENT:  # died before the order was recorded
                    self._back_to_planned(run, slice_record, "never recorded; will be sent")
                continue
            if not OrderState(order.state).is_final:
                order = await self._reconcile(run, order)
            if order.state in RESTING and order.order_id is not None:
                await self._cancel_rest(run, order.client_order_id, order.order_id)
                order = self._store.get_order(order.client_order_id) or order
            self._settle_one(run, slice_record, order)

    def _settle_one(self, run: TwapRun, slice_record: TwapSliceRecord,
                    order: OrderRecord) -> None:
        if order.state == OrderState.NOT_SENT.value:
            self._back_to_planned(run, slice_record, "not received by the exchange; will be sent")
            return
        updated = slice_from_order(slice_record, order, side=run.params.side,
                                   arrival=run.arrival)
        if updated != slice_record:
            self.save(run, updated)
            run.event("slice_reconciled", slice=slice_record.slice_no, status=updated.status,
                      filled_volume=updated.filled_volume)

    def _back_to_planned(self, run: TwapRun, slice_record: TwapSliceRecord, why: str) -> None:
        """A slice that certainly never reached the exchange is sent again, same id."""
        if slice_record.status == SLICE_PLANNED:
            return
        self.save(run, replace(slice_record, status=SLICE_PLANNED, sent_at=None, note=why))
        run.event("slice_reconciled", slice=slice_record.slice_no, status=SLICE_PLANNED,
                  reason=why)


def _shrink_note(sizing: SliceSizing, run: TwapRun) -> str:
    sent = sizing.expected_funds if run.unit is SizeUnit.NOTIONAL else sizing.volume
    return f"shrunk by the price guard {run.guard}: {sent} of {sizing.target} {run.unit.value}"


def _order_events(report: OrderReport | None) -> list[dict[str, Any]]:
    if report is None:
        return []
    return [e for e in report.events if e.get("event") not in _QUIET_ORDER_EVENTS]
