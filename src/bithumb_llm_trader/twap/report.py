"""What a TWAP tells its caller: progress after every slice, and a report at the end."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from ..records import TwapSliceRecord
from .state import (
    SLICE_FAILED,
    SLICE_PLANNED,
    SLICE_SKIPPED,
    TwapRun,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class TwapProgress:
    """A progress line: ``filled`` of ``total`` in ``unit`` (KRW or coins)."""

    twap_run_id: str
    unit: str
    total: Decimal
    filled: Decimal
    filled_volume: Decimal
    filled_funds: Decimal
    avg_price: Decimal | None
    slippage_bps: Decimal | None
    slices_done: int
    slice_count: int
    seconds_left: float
    last_event: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class TwapReport:
    """The outcome of one TWAP run (or of the part of it run by this call).

    ``remaining`` is in ``unit``: KRW for a notional TWAP, coins for a volume one.
    ``status`` is done, stopped (resumable) or failed (resumable once the cause is fixed).
    """

    twap_run_id: str
    run_id: str | None
    strategy: str
    market: str
    side: str
    unit: str
    total: Decimal
    status: str
    dry_run: bool
    filled_volume: Decimal
    filled_funds: Decimal
    fees: Decimal
    avg_price: Decimal | None
    arrival_price: Decimal
    guard_price: Decimal
    slippage_bps: Decimal | None
    remaining: Decimal
    slices_planned: int
    slices_sent: int
    slices_skipped: int
    slices_failed: int
    started_at: datetime
    finished_at: datetime
    error: str | None = None
    notes: tuple[str, ...] = ()
    events: tuple[dict[str, Any], ...] = ()
    slices: tuple[TwapSliceRecord, ...] = ()

    @property
    def ok(self) -> bool:
        return self.status == "done"


def progress_of(run: TwapRun, last_event: str | None = None) -> TwapProgress:
    fills = run.fills()
    pending = run.pending()
    left = (pending[-1].planned_at - run.clock.now()).total_seconds() if pending else 0.0
    return TwapProgress(
        twap_run_id=run.twap_run_id,
        unit=run.unit.value,
        total=run.params.total,
        filled=run.filled(),
        filled_volume=fills.volume,
        filled_funds=fills.funds,
        avg_price=fills.avg_price,
        slippage_bps=run.slippage_bps(),
        slices_done=sum(1 for s in run.slices if s.status != SLICE_PLANNED),
        slice_count=len(run.slices),
        seconds_left=max(left, 0.0),
        last_event=last_event,
    )


def report_of(run: TwapRun, status: str) -> TwapReport:
    record = run.record
    fills = run.fills()
    return TwapReport(
        twap_run_id=run.twap_run_id,
        run_id=record.run_id,
        strategy=record.strategy,
        market=record.market,
        side=record.side,
        unit=run.unit.value,
        total=run.params.total,
        status=status,
        dry_run=record.dry_run,
        filled_volume=fills.volume,
        filled_funds=fills.funds,
        fees=fills.fees,
        avg_price=fills.avg_price,
        arrival_price=run.arrival,
        guard_price=run.guard,
        slippage_bps=run.slippage_bps(),
        remaining=run.remaining(),
        slices_planned=record.slice_count,
        slices_sent=sum(1 for s in run.slices if s.sent_at is not None),
        slices_skipped=sum(1 for s in run.slices if s.status == SLICE_SKIPPED),
        slices_failed=sum(1 for s in run.slices if s.status == SLICE_FAILED),
        started_at=record.created_at,
        finished_at=run.clock.now(),
        error=run.error,
        notes=tuple(run.notes),
        events=tuple(run.events),
        slices=tuple(sorted(run.slices, key=lambda s: s.slice_no)),
    )
