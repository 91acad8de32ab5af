"""``TWAPExecutor``: a large order as time-sliced child orders, resumable after a crash.

The run is planned once (``plan_slices``) and stored before the first slice is sent:
the parent in ``twap_runs``, every slice in ``twap_slices`` with its time, size and
client order id. Each slice then waits for its time on the injected clock, is sized
on the current book inside the price guard, and is sent through ``OrderExecutor``.
A stop request ends the run after the current slice; ``resume`` picks a stopped or
crashed run up from the database, looks up every slice that may have been sent, and
sends only the ones that certainly were not.

Every slice goes out through the ``OrderExecutor`` it is given, and so through its
``PreTradeGate``: the whole TWAP is checked by the gate before anything is recorded
(``preflight``), the kill switch is looked at again before every slice (it stops the
run, resumable), and a slice the gate refuses ends the run ``refused`` with the reason.
The status is honest: ``done`` only when the total filled (less ``DONE_TOLERANCE``).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
import zlib
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from ..clock import sleep_or_stop
from ..domain import Orderbook, Side, to_decimal
from ..errors import InvalidOrder, OrderStateUnknown, RetryableError
from ..execution import OrderExecutor
from ..gate import Exposure
from ..notify import Emitter, NullEmitter
from ..notify import events as notices
from ..ports import Account, Clock, MarketData, Store
from ..records import TwapSliceRecord
from .params import TwapParams, params_from_json
from .plan import plan_slices
from .report import TwapProgress, TwapReport, progress_of, report_of
from .sender import SliceSender
from .state import (
    RESUMABLE,
    RUN_DONE,
    RUN_FAILED,
    RUN_INCOMPLETE,
    RUN_REFUSED,
    RUN_RUNNING,
    RUN_STOPPED,
    TwapRun,
    new_run_records,
    planned_slice,
)

log = logging.getLogger(__name__)

ProgressCallback = Callable[[TwapProgress], None]


def _new_run_id() -> str:
    return uuid.uuid4().hex


class _MarketAccount(MarketData, Account, Protocol):
    """Books for sizing slices, fees and minimums for planning them."""


class TWAPExecutor:
    """Runs TWAPs for one strategy on one exchange (live or paper), through its gate."""

    def __init__(
        self,
        exchange: _MarketAccount,
        clock: Clock,
        store: Store,
        *,
        strategy: str,
        orders: OrderExecutor,
        new_id: Callable[[], str] = _new_run_id,
        cancel_attempts: int = 3,
        retry_delay: float = 1.0,
        events: Emitter | None = None,
    ) -> None:
        self._exchange = exchange
        self._clock = clock
        self._store = store
        self._strategy = strategy
        self._mode = orders.mode
        self._gate = orders.gate
        self._new_id = new_id
        self._events: Emitter = events or NullEmitter()
        self._slices = SliceSender(exchange, store, clock, orders,
                                   cancel_attempts=cancel_attempts, retry_delay=retry_delay)

    async def run(
        self,
        params: TwapParams,
        *,
        progress: ProgressCallback | None = None,
        stop: asyncio.Event | None = None,
    ) -> TwapReport:
        """Plan, record and execute a new TWAP; returns when it is done or stopped.

        Raises:
            InvalidOrder: the book has no opposite side, or the total is below the
                minimum order (nothing is recorded then).
            OrderRefused: the pre-trade gate refused the TWAP as a whole (an
                ``InvalidOrder``; nothing is recorded or sent).
            StopError: credentials or the database failed; the run is marked failed.
        """
        run = await self._start(params)
        return await self._drive(run, progress, stop)

    async def resume(
        self,
        twap_run_id: str,
        *,
        progress: ProgressCallback | None = None,
        stop: asyncio.Event | None = None,
    ) -> TwapReport:
        """Continue a stopped, failed or crashed run without sending any slice twice.

        Raises:
            InvalidOrder: no such run, a finished one, or one of another strategy or mode.
        """
        run = self._load(twap_run_id)
        run.event("resumed", previous_status=run.record.status)
        await self._slices.settle_unfinished(run)
        self._reschedule(run)
        self._save_run(run, RUN_RUNNING)
        return await self._drive(run, progress, stop)

    # -- starting and loading -------------------------------------------------------
    async def _start(self, params: TwapParams) -> TwapRun:
        await self._gate.preflight(Exposure(params.market, params.side,
                                            notional=params.notional, volume=params.volume))
        book = await self._exchange.orderbook(params.market)
        arrival = _arrival(book, params.side)
        min_order = await self._min_order(params)
        twap_run_id = self._new_id()
        seed = params.seed if params.seed is not None else zlib.crc32(twap_run_id.encode())
        plan = plan_slices(
            params.total, params.duration, slices=params.slices, interval=params.interval,
            unit=params.unit, min_order_krw=min_order, reference_price=arrival,
            jitter=params.jitter, seed=seed,
        )
        record, slices = new_run_records(
            twap_run_id=twap_run_id, params=params, plan=plan, strategy=self._strategy,
            mode=self._mode, arrival=arrival, min_order=min_order, seed=seed,
            started_at=self._clock.now(),
        )
        self._store.save_twap_run(record)
        for slice_record in slices:
            self._store.save_twap_slice(slice_record)
        run = TwapRun(record=record, params=replace(params, seed=seed), min_order=min_order,
                      slices=slices, clock=self._clock, notes=list(plan.notes))
        run.event("planned", slices=plan.count, step_s=plan.step.total_seconds(),
                  arrival_price=arrival, guard_price=run.guard, min_order_krw=min_order)
        log.info("TWAP %s: %s %s %s in %d slices, guard %s", twap_run_id, params.side.name,
                 params.total, params.unit.value, plan.count, run.guard)
        return run

    async def _min_order(self, params: TwapParams) -> Decimal:
        """The larger of the configured minimum and the exchange's own."""
        try:
            chance = await self._exchange.order_chance(params.market)
        except RetryableError as exc:
            log.warning("TWAP: using the configured minimum order; %s", exc)
            return params.min_order_krw
        return max(params.min_order_krw, chance.min_total)

    def _load(self, twap_run_id: str) -> TwapRun:
        record = self._store.load_twap_run(twap_run_id)
        if record is None:
            raise InvalidOrder(f"no TWAP run {twap_run_id!r} in the database")
        if record.status not in RESUMABLE:
            raise InvalidOrder(f"TWAP run {twap_run_id} is {record.status}: nothing to resume")
        if record.strategy != self._strategy:
            raise InvalidOrder(f"TWAP run {twap_run_id} belongs to strategy "
                               f"{record.strategy!r}, not {self._strategy!r}")
        if record.mode != self._mode.value:
            raise InvalidOrder(f"TWAP run {twap_run_id} was {record.mode}, this process is "
                               f"{self._mode.value}; resume it the same way")
        stored = record.params_json
        return TwapRun(
            record=record, params=params_from_json(stored["params"]),
            min_order=to_decimal(stored["min_order_krw"]),
            slices=self._store.load_twap_slices(twap_run_id), clock=self._clock,
            notes=list(stored.get("plan_notes", [])),
        )

    def _reschedule(self, run: TwapRun) -> None:
        """Shift overdue slices so they keep their spacing from now on."""
        pending = run.pending()
        if not pending:
            return
        late = self._clock.now() - pending[0].planned_at
        if late.total_seconds() <= 0:
            return
        for slice_record in pending:
            self._slices.save(run, replace(slice_record,
                                           planned_at=slice_record.planned_at + late))
        run.event("rescheduled", slices=len(pending), shift_s=late.total_seconds())

    # -- running ----------------------------------------------------------------------
    async def _drive(
        self, run: TwapRun, progress: ProgressCallback | None, stop: asyncio.Event | None
    ) -> TwapReport:
        stop = stop or asyncio.Event()
        self._tell(run, progress, "started")
        try:
            status = await self._slices_until_stopped(run, progress, stop)
        except OrderStateUnknown as exc:
            run.error = f"{type(exc).__name__}: {exc}"
            status = RUN_FAILED
        except asyncio.CancelledError:
            run.error = "cancelled"
            self._save_run(run, RUN_STOPPED)
            raise
        except Exception as exc:
            run.error = f"{type(exc).__name__}: {exc}"
            self._save_run(run, RUN_FAILED)
            raise
        if status != RUN_FAILED:
            await self._slices.settle_unfinished(run)
        if status == RUN_DONE and not run.filled_enough():
            status = RUN_INCOMPLETE
        self._save_run(run, status)
        run.event("finished", status=status, remaining=run.remaining())
        self._tell(run, progress, status)
        report = report_of(run, status)
        self._announce(report)
        return report

    def _announce(self, report: TwapReport) -> None:
        """Tell the operator how the TWAP ended (the emitter never blocks or raises)."""
        try:
            filled = report.filled_funds if report.unit == "notional" else report.filled_volume
            self._events.emit(notices.twap_ended(
                self._strategy, self._mode.value, report.twap_run_id, report.status,
                report.side, filled, report.total, report.avg_price, self._clock.now(),
                market=report.market, unit=report.unit, reason=report.error or ""))
        except Exception as exc:
            log.warning("notifications: could not build the TWAP event: %s", exc)

    async def _slices_until_stopped(
        self, run: TwapRun, progress: ProgressCallback | None, stop: asyncio.Event
    ) -> str:
        while (planned := self._next_slice(run)) is not None:
            if await self._wait_until(planned.planned_at, stop):
                run.event("stopped", before_slice=planned.slice_no)
                return RUN_STOPPED
            if self._gate.halted_by_kill_switch():
                # Checked after the wait, right before sending: a switch created
                # while the TWAP slept stops it here. Resumable once removed.
                run.error = "kill_switch: the kill-switch file exists"
                run.event("stopped", before_slice=planned.slice_no, reason="kill_switch")
                return RUN_STOPPED
            done = await self._slices.execute(run, planned)
            self._save_run(run, RUN_RUNNING)
            self._tell(run, progress, f"slice {done.slice_no} {done.status}")
            if run.refused is not None:
                return RUN_STOPPED if run.refused == "kill_switch" else RUN_REFUSED
        return RUN_DONE

    def _next_slice(self, run: TwapRun) -> TwapSliceRecord | None:
        """The earliest planned slice; after the last, the final sweep if one is due."""
        pending = run.pending()
        if pending:
            return pending[0]
        return self._plan_sweep(run) if _needs_sweep(run) else None

    def _plan_sweep(self, run: TwapRun) -> TwapSliceRecord:
        """One more slice, one step after the last, for whatever is left then.

        Planned (and saved) before it waits, so a run stopped before it resumes with it.
        """
        remaining = run.remaining()
        due = max(s.planned_at for s in run.slices) + run.step
        sweep = planned_slice(run.twap_run_id, run.record.slice_count + 1, due,
                              run.unit.round(remaining), run.unit)
        self._slices.save(run, sweep)
        run.event("final_sweep", remaining=remaining, due=due)
        return sweep

    async def _wait_until(self, when: datetime, stop: asyncio.Event) -> bool:
        """Sleep on the clock until ``when``; True when ``stop`` was set first."""
        if stop.is_set():
            return True
        return await sleep_or_stop(self._clock, (when - self._clock.now()).total_seconds(), stop)

    def _save_run(self, run: TwapRun, status: str) -> None:
        run.record = run.updated_record(status)
        self._store.save_twap_run(run.record)

    @staticmethod
    def _tell(run: TwapRun, progress: ProgressCallback | None, what: str) -> None:
        if progress is not None:
            progress(progress_of(run, what))


def _arrival(book: Orderbook, side: Side) -> Decimal:
    """The best opposite quote: what the whole order would have started paying."""
    best = book.best_ask if side is Side.BUY else book.best_bid
    if best is None:
        quote = "asks" if side is Side.BUY else "bids"
        raise InvalidOrder(f"the {book.market} orderbook has no {quote}: no arrival price")
    return best


def _needs_sweep(run: TwapRun) -> bool:
    """Asked for, something left, and not swept already (a resumed run may have)."""
    swept = any(run.is_sweep(s.slice_no) for s in run.slices)
    return run.params.final_sweep and not swept and run.remaining() > 0
