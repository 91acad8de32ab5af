"""The working state of one TWAP run, and the records that make it resumable.

The slices are the source of truth: the parent's filled volume, funds, fees, average
price and slippage are always summed from them, so a resumed run cannot count a fill
twice or forget one.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from ..domain import ZERO, Mode, OrderState, Side, average_price
from ..liquidity import signed_slippage_bps
from ..order_ids import slice_order_id
from ..ports import Clock
from ..records import OrderRecord, TwapRunRecord, TwapSliceRecord
from .guard import guard_price
from .params import TwapParams, params_to_json
from .plan import SizeUnit, SlicePlan

RUN_RUNNING = "running"
RUN_STOPPED = "stopped"  # Ctrl-C or the kill switch; resumable
RUN_DONE = "done"  # the total filled, less DONE_TOLERANCE
RUN_INCOMPLETE = "incomplete"  # every slice went, but less than that filled
RUN_REFUSED = "refused"  # the pre-trade gate refused a slice; ``error`` says why
RUN_FAILED = "failed"
RESUMABLE = frozenset({RUN_RUNNING, RUN_STOPPED, RUN_FAILED})

DONE_TOLERANCE = Decimal("0.01")
"""A TWAP is ``done`` when what is left is at most this share of its total, or too small
to be sent as an order (under the minimum order); otherwise it is ``incomplete``."""

SLICE_PLANNED = "planned"
SLICE_SENT = "sent"  # an order exists (or may) but its fate is not final yet
SLICE_FILLED = "filled"
SLICE_PARTIAL = "partial"
SLICE_SKIPPED = "skipped"
SLICE_FAILED = "failed"
UNSETTLED_SLICES = frozenset({SLICE_PLANNED, SLICE_SENT})

def slice_client_order_id(twap_run_id: str, slice_no: int) -> str:
    """The slice's client order id (``order_ids``): the same after a restart."""
    return slice_order_id(twap_run_id, slice_no)


@dataclass(frozen=True, slots=True)
class Fills:
    volume: Decimal
    funds: Decimal
    fees: Decimal

    @property
    def avg_price(self) -> Decimal | None:
        return average_price(self.funds, self.volume)


@dataclass(slots=True)
class TwapRun:
    """One run in progress: its parent record, its slices and the log of what happened."""

    record: TwapRunRecord
    params: TwapParams
    min_order: Decimal
    slices: list[TwapSliceRecord]
    clock: Clock
    events: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error: str | None = None
    refused: str | None = None  # the gate's reason, once it refused a slice

    @property
    def twap_run_id(self) -> str:
        return self.record.twap_run_id

    @property
    def unit(self) -> SizeUnit:
        return self.params.unit

    @property
    def arrival(self) -> Decimal:
        assert self.record.arrival_price is not None
        return self.record.arrival_price

    @property
    def guard(self) -> Decimal:
        params = self.params
        return guard_price(self.arrival, params.side, params.max_slippage_bps,
                           params.limit_price)

    @property
    def step(self) -> timedelta:
        """The planned time between slices."""
        return int(self.record.params_json["step_ms"]) * timedelta(milliseconds=1)

    @property
    def order_run_id(self) -> str:
        """The run id orders are recorded under: the cycle's, else the TWAP's own."""
        return self.params.run_id or self.twap_run_id

    def fills(self) -> Fills:
        return Fills(
            volume=sum((s.filled_volume for s in self.slices), ZERO),
            funds=sum((s.filled_funds for s in self.slices), ZERO),
            fees=sum((s.fee for s in self.slices), ZERO),
        )

    def slippage_bps(self) -> Decimal | None:
        """The average fill so far against the arrival price; positive is worse."""
        return signed_slippage_bps(self.params.side, self.fills().avg_price, self.arrival)

    def filled(self) -> Decimal:
        """What has been done, in the plan's unit (KRW or coins)."""
        fills = self.fills()
        return fills.funds if self.unit is SizeUnit.NOTIONAL else fills.volume

    def remaining(self) -> Decimal:
        return max(self.params.total - self.filled(), ZERO)

    def filled_enough(self) -> bool:
        """Done within ``DONE_TOLERANCE``, or what is left could not be an order."""
        left = self.remaining()
        if left <= self.params.total * DONE_TOLERANCE:
            return True
        left_krw = left if self.unit is SizeUnit.NOTIONAL else left * self.arrival
        return left_krw < self.min_order

    def is_sweep(self, slice_no: int) -> bool:
        return slice_no > self.record.slice_count

    def target(self, slice_no: int) -> Decimal:
        """What slice ``slice_no`` should trade: the plan so far minus what was filled.

        Anything earlier slices left undone is carried forward into this one.
        """
        if self.is_sweep(slice_no):
            return self.remaining()
        planned = sum((_planned(s) for s in self.slices if s.slice_no <= slice_no), ZERO)
        return max(planned - self.filled(), ZERO)

    def pending(self) -> list[TwapSliceRecord]:
        return sorted((s for s in self.slices if s.status == SLICE_PLANNED),
                      key=lambda s: s.slice_no)

    def put(self, updated: TwapSliceRecord) -> None:
        self.slices = [updated if s.slice_no == updated.slice_no else s for s in self.slices]
        if all(s.slice_no != updated.slice_no for s in self.slices):
            self.slices.append(updated)

    def event(self, name: str, **detail: Any) -> None:
        self.events.append({"at": self.clock.now().isoformat(), "event": name, **detail})

    def updated_record(self, status: str) -> TwapRunRecord:
        """The parent record with the totals of the slices, ready to save."""
        fills = self.fills()
        return replace(
            self.record, status=status, updated_at=self.clock.now(),
            filled_volume=fills.volume, filled_funds=fills.funds, fees=fills.fees,
            avg_price=fills.avg_price, slippage_bps=self.slippage_bps(),
            error=self.error[:2000] if self.error else None,
        )


def _planned(slice_record: TwapSliceRecord) -> Decimal:
    if slice_record.planned_notional is not None:
        return slice_record.planned_notional
    return slice_record.planned_volume if slice_record.planned_volume is not None else ZERO


def new_run_records(
    *, twap_run_id: str, params: TwapParams, plan: SlicePlan, strategy: str, mode: Mode,
    arrival: Decimal, min_order: Decimal, seed: int | None, started_at: datetime,
) -> tuple[TwapRunRecord, list[TwapSliceRecord]]:
    """The parent record (status running) and one planned record per slice."""
    run = TwapRunRecord(
        twap_run_id=twap_run_id, strategy=strategy, market=str(params.market),
        side=params.side.value, status=RUN_RUNNING, dry_run=mode.dry_run, mode=mode.value,
        created_at=started_at, updated_at=started_at,
        duration_s=int(params.duration.total_seconds()), slice_count=plan.count,
        run_id=params.run_id, total_notional=params.notional, total_volume=params.volume,
        limit_price=params.limit_price, max_slippage_bps=params.max_slippage_bps,
        arrival_price=arrival,
        params_json={
            "params": params_to_json(replace(params, seed=seed)),
            "min_order_krw": str(min_order),
            "step_ms": plan.step // timedelta(milliseconds=1),
            "requested_slices": plan.requested_slices,
            "plan_notes": list(plan.notes),
        },
    )
    slices = [
        planned_slice(twap_run_id, p.slice_no, started_at + p.offset, p.size, plan.unit)
        for p in plan.slices
    ]
    return run, slices


def planned_slice(
    twap_run_id: str, slice_no: int, planned_at: datetime, size: Decimal, unit: SizeUnit
) -> TwapSliceRecord:
    notional = size if unit is SizeUnit.NOTIONAL else None
    return TwapSliceRecord(
        twap_run_id=twap_run_id, slice_no=slice_no, planned_at=planned_at,
        status=SLICE_PLANNED, client_order_id=slice_client_order_id(twap_run_id, slice_no),
        planned_notional=notional, planned_volume=None if notional is not None else size,
    )


def slice_status(order: OrderRecord) -> str:
    """A slice's status from its order: only final orders give a final status."""
    state = OrderState(order.state)
    if state is OrderState.DONE:
        return SLICE_FILLED
    if state is OrderState.CANCEL:
        return SLICE_PARTIAL if order.executed_volume > 0 else SLICE_FAILED
    if state in (OrderState.REJECTED, OrderState.NOT_SENT):
        return SLICE_FAILED
    return SLICE_SENT


def slice_from_order(
    slice_record: TwapSliceRecord, order: OrderRecord, *, side: Side, arrival: Decimal,
    note: str | None = None,
) -> TwapSliceRecord:
    """The slice brought up to date from its order record (fills, fee, status).

    ``note`` replaces the slice's note; the order's error, if any, is added to it.
    """
    avg = average_price(order.executed_funds, order.executed_volume)
    base = slice_record.note if note is None else note
    return replace(
        slice_record,
        status=slice_status(order),
        sent_at=slice_record.sent_at or order.created_at,
        filled_volume=order.executed_volume,
        filled_funds=order.executed_funds,
        fee=order.paid_fee,
        avg_price=avg,
        slippage_bps=signed_slippage_bps(side, avg, arrival),
        note=_with_error(base, order.error),
    )


def _with_error(note: str | None, error: str | None) -> str | None:
    if not error or (note and error in note):
        return note
    return f"{note}; {error}" if note else error
