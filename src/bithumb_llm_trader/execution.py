"""Sending an order so that a network fault can never create a second one.

Every order is saved as ``pending`` with its ``client_order_id`` before it is sent.
When the send fails in a way that leaves its fate open (timeout, connection reset,
5xx, 429), the order is looked up by that id before anything else happens: found, it
is followed as if the answer had arrived; confirmed absent, it is sent once more with
the SAME id (the exchange refuses a duplicate id, a second guard); if the lookup itself
keeps failing the order is marked ``unknown``, trading stops, and the next run
reconciles it.

The executor sends through a ``PreTradeGate`` and nothing else: it is typed so, and the
composition root (``bootstrap``) builds it so. A refusal by the gate is recorded on the
order's row (state ``rejected``, the reason first in ``error``) and reported ``refused``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from .domain import ZERO, Mode, Order, OrderRequest, OrderState, OrderType
from .errors import (
    AuthError,
    ExchangeRejected,
    OrderNotFound,
    OrderRefused,
    OrderStateUnknown,
    RejectedError,
    RetryableError,
)
from .fast_init import fast_init
from .gate import PreTradeGate
from .ports import Clock, Store
from .records import FillRecord, OrderRecord

log = logging.getLogger(__name__)

FEE_STEP = Decimal("0.0001")


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class OrderReport:
    """What became of one order, and the log of how it got there."""

    client_order_id: str
    status: str  # filled, partial, unfilled, open, refused, rejected, not_sent, unknown
    order: Order | None = None
    error: str | None = None
    events: tuple[dict[str, Any], ...] = ()
    refused: str | None = None  # the gate's reason, when it refused the order

    @property
    def filled_volume(self) -> Decimal:
        return self.order.executed_volume if self.order else ZERO

    @property
    def filled_funds(self) -> Decimal:
        return self.order.executed_funds if self.order else ZERO

    @property
    def fee(self) -> Decimal:
        return self.order.paid_fee if self.order else ZERO


@dataclass(slots=True)
class _Log:
    clock: Clock
    events: list[dict[str, Any]] = field(default_factory=list)

    def add(self, event: str, **detail: Any) -> None:
        self.events.append({"at": self.clock.now().isoformat(), "event": event, **detail})


def status_of(order: Order) -> str:
    """A one-word summary of an order's fate for reports."""
    if order.state is OrderState.DONE:
        return "filled"
    if order.state is OrderState.CANCEL:
        return "partial" if order.executed_volume > 0 else "unfilled"
    if order.state in (OrderState.WAIT, OrderState.WATCH):
        return "partial" if order.executed_volume > 0 else "open"
    return str(order.state.value)


class OrderExecutor:
    """Places, looks up, follows and records orders for one strategy."""

    def __init__(
        self,
        gate: PreTradeGate,
        store: Store,
        clock: Clock,
        *,
        strategy: str,
        mode: Mode,
        lookup_attempts: int = 3,
        lookup_delay: float = 1.0,
        follow_attempts: int = 5,
        follow_delay: float = 0.5,
    ) -> None:
        self.gate = gate
        self._store = store
        self._clock = clock
        self._strategy = strategy
        self.mode = mode
        self._lookup_attempts = lookup_attempts
        self._lookup_delay = lookup_delay
        self._follow_attempts = follow_attempts
        self._follow_delay = follow_delay

    async def execute(
        self,
        request: OrderRequest,
        *,
        run_id: str,
        twap_run_id: str | None = None,
        slice_no: int | None = None,
    ) -> OrderReport:
        """Send ``request`` at most once in effect, follow it, and record every change."""
        record = self._pending_record(request, run_id, twap_run_id, slice_no)
        self._store.save_order(record)
        events = _Log(self._clock)
        events.add("recorded", client_order_id=request.client_order_id)
        try:
            order = await self._send(request, events)
        except OrderRefused as exc:
            report = self._close(record, OrderState.REJECTED, "refused", exc, events)
            return replace(report, refused=exc.reason)
        except RejectedError as exc:
            return self._close(record, OrderState.REJECTED, "rejected", exc, events)
        except AuthError as exc:
            self._close(record, OrderState.REJECTED, "rejected", exc, events)
            raise
        except OrderStateUnknown as exc:
            self._close(record, OrderState.UNKNOWN, "unknown", exc, events)
            raise
        if order is None:
            error = ExchangeRejected("not accepted after a lookup and one resend", status=0)
            return self._close(record, OrderState.NOT_SENT, "not_sent", error, events)
        order = await self._follow(order, events)
        self._save(record, order)
        if order.state is OrderState.UNKNOWN:
            # The exchange answered with a state we do not know: it may have filled. The
            # row says unknown, so trading halts until a later run settles it.
            raise OrderStateUnknown(
                f"order {request.client_order_id} is in a state we do not know; "
                "recorded unknown until it is reconciled",
                client_order_id=request.client_order_id,
            )
        events.add("settled", state=order.state.value,
                   executed_volume=str(order.executed_volume))
        return OrderReport(client_order_id=request.client_order_id, status=status_of(order),
                           order=order, events=tuple(events.events))

    async def reconcile(self, record: OrderRecord) -> OrderRecord:
        """Bring an unsettled order up to date from the exchange; returns the new record.

        Raises:
            RetryableError: the exchange could not be asked; the order stays unsettled.
        """
        try:
            order = await self.gate.get_order(client_order_id=record.client_order_id)
        except OrderNotFound:
            state = OrderState.NOT_SENT if record.order_id is None else OrderState(record.state)
            updated = replace(record, state=state.value, updated_at=self._clock.now(),
                              error="not found on the exchange when reconciled")
            self._store.save_order(updated)
            return updated
        return self._save(record, order)

    async def _send(self, request: OrderRequest, events: _Log) -> Order | None:
        for attempt in (1, 2):
            try:
                order = await self.gate.place_order(request)
            except RetryableError as exc:
                events.add("send_failed", attempt=attempt, error=_describe(exc))
            except ExchangeRejected as exc:
                if "duplicate" not in (exc.name or ""):
                    raise
                # An order with this id exists (an earlier send arrived after all, perhaps
                # from a run that crashed): follow that one, never place another.
                events.add("duplicate_client_order_id", attempt=attempt, error=_describe(exc))
            else:
                events.add("accepted", attempt=attempt, order_id=order.order_id)
                return order
            found = await self._lookup(request.client_order_id, events)
            if found is not None:
                return found
            if attempt == 1:
                events.add("resend", reason="confirmed absent after lookup")
        return None

    async def _lookup(self, client_order_id: str, events: _Log) -> Order | None:
        """The order with this id, None if the exchange confirms it does not exist.

        The exchange may need a moment to index an order it accepted, so "not found"
        is only believed after every attempt says so.
        """
        last_error: Exception | None = None
        for attempt in range(1, self._lookup_attempts + 1):
            if attempt > 1:
                await self._clock.sleep(self._lookup_delay)
            try:
                order = await self.gate.get_order(client_order_id=client_order_id)
            except OrderNotFound:
                events.add("lookup", attempt=attempt, found=False)
                last_error = None
                continue
            except RetryableError as exc:
                events.add("lookup_failed", attempt=attempt, error=_describe(exc))
                last_error = exc
                continue
            events.add("lookup", attempt=attempt, found=True, order_id=order.order_id)
            return order
        if last_error is not None:
            raise OrderStateUnknown(
                f"order {client_order_id} may have been placed but cannot be looked up: "
                f"{last_error}",
                client_order_id=client_order_id,
            ) from last_error
        return None

    async def _follow(self, order: Order, events: _Log) -> Order:
        """Poll a market order until it is final; refresh a limit order once.

        A market order accepted but never seen again (every lookup failed) may well have
        filled: it is returned ``unknown`` rather than as the acceptance said (``wait``,
        nothing filled), so trading halts until a later run settles it.
        """
        market = order.order_type is OrderType.MARKET
        attempts = self._follow_attempts if market else 1
        seen = order.state.is_final and bool(order.fills)
        for attempt in range(attempts):
            if order.state.is_final and order.fills:
                break
            if attempt > 0:
                await self._clock.sleep(self._follow_delay)
            try:
                order = await self.gate.get_order(order_id=order.order_id)
            except RetryableError as exc:
                events.add("follow_failed", error=_describe(exc))
                continue
            seen = True
            if order.state.is_final:
                break
        if market and not seen and not order.state.is_final:
            events.add("follow_lost", state=order.state.value)
            return replace(order, state=OrderState.UNKNOWN)
        return order

    def _pending_record(
        self, request: OrderRequest, run_id: str, twap_run_id: str | None,
        slice_no: int | None,
    ) -> OrderRecord:
        now = self._clock.now()
        return OrderRecord(
            client_order_id=request.client_order_id,
            run_id=run_id,
            strategy=self._strategy,
            market=str(request.market),
            side=request.side.value,
            order_type=request.order_type.value,
            state=OrderState.PENDING.value,
            dry_run=self.mode.dry_run,
            mode=self.mode.value,
            created_at=now,
            updated_at=now,
            price=request.price,
            volume=request.volume,
            notional=request.notional,
            twap_run_id=twap_run_id,
            slice_no=slice_no,
        )

    def _close(
        self, record: OrderRecord, state: OrderState, status: str, exc: Exception,
        events: _Log,
    ) -> OrderReport:
        # A refusal's text starts with its reason (``kill_switch: ...``): keep it first.
        error = str(exc) if isinstance(exc, OrderRefused) else _describe(exc)
        events.add(status, error=error)
        self._store.save_order(
            replace(record, state=state.value, updated_at=self._clock.now(), error=error[:500])
        )
        # A backtest counts the gate's refusals in its result (by reason); a line each
        # would bury its output (one per refused add over years of candles).
        counted = status == "refused" and self.mode is Mode.BACKTEST
        level = logging.INFO if counted else logging.WARNING
        log.log(level, "order %s %s: %s", record.client_order_id, status, error)
        return OrderReport(client_order_id=record.client_order_id, status=status,
                           error=error, events=tuple(events.events))

    def _save(self, record: OrderRecord, order: Order) -> OrderRecord:
        updated = replace(
            record,
            order_id=order.order_id,
            state=order.state.value,
            updated_at=self._clock.now(),
            executed_volume=order.executed_volume,
            executed_funds=order.executed_funds,
            paid_fee=order.paid_fee,
            error=None,
        )
        self._store.save_fills_and_order(updated, fill_records(updated, order))
        return updated


def fill_records(record: OrderRecord, order: Order) -> list[FillRecord]:
    """Fills of ``order`` as records; fees the exchange reports only per order are split
    over the fills by value, the last fill taking the rounding remainder."""
    fills = order.fills
    if not fills:
        return []
    if all(f.fee is not None for f in fills):
        fees = [f.fee or ZERO for f in fills]
    else:
        fees = _split_fee(order.paid_fee, [f.funds for f in fills])
    return [
        FillRecord(
            client_order_id=record.client_order_id,
            trade_id=f.trade_id,
            run_id=record.run_id,
            strategy=record.strategy,
            market=record.market,
            side=record.side,
            price=f.price,
            volume=f.volume,
            funds=f.funds,
            fee=fee,
            created_at=f.created_at,
            dry_run=record.dry_run,
            mode=record.mode,
        )
        for f, fee in zip(fills, fees, strict=True)
    ]


def _split_fee(total: Decimal, funds: list[Decimal]) -> list[Decimal]:
    value = sum(funds, ZERO)
    if value == 0:
        return [ZERO] * (len(funds) - 1) + [total]
    shares = [(total * f / value).quantize(FEE_STEP) for f in funds[:-1]]
    return [*shares, total - sum(shares, ZERO)]


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"
