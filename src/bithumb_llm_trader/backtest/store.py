"""``BufferedStore``: the engine's ``Store`` for a replay, in memory, written in batches.

A live cycle commits once or twice (``SqlStore.cycle_writes``); replaying fifty thousand
cycles that way would still spend its time in the database. This wrapper keeps the
little state the engine reads back (position guards, the paper wallet and its open
orders, unsettled orders, the first equity of the day, the last fill) in memory and
inserts everything else in one transaction per batch of cycles (``flush``), so memory
stays flat however long the replay. A long replay hands its batches to a writer process
(``background``) and goes on with the next batch while the last one is inserted.

It also isolates the replay: reads are answered from its own memory only, and the
paper wallet and position guards are never written, so a backtest neither sees nor
disturbs the dry or live state a strategy of the same name keeps in the database.
Runs, features, decisions, verdicts, allocations, executions, orders and fills are
written, all tagged with the backtest's run ids (mode ``backtest`` on ``cron_runs``).

How much of each cycle is kept is the caller's choice (``keep``): ``all`` rows, only the
rows of cycles that sent an order (``trades``), or ``none`` but orders and fills. A month
of one-minute decisions is fifty thousand runs and half a million rows; the figures of
the backtest do not depend on them.

It assumes what a replay guarantees: time only moves forward, so
``first_equity_since`` forgets days before the latest one asked about.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import fields, replace
from datetime import datetime
from decimal import Decimal
from operator import attrgetter
from typing import Any, Protocol

from ..domain import ZERO, OrderState
from ..ports import Store
from ..records import (
    ExecutionRecord,
    FillRecord,
    OrderRecord,
    PaperBalanceRecord,
    PaperOrderRecord,
    PositionGuardRecord,
    Record,
    RunRecord,
    RunUpdate,
    SignalRecord,
    TwapRunRecord,
    TwapSliceRecord,
)

log = logging.getLogger(__name__)

_FINAL = frozenset(state.value for state in OrderState if state.is_final)
_WAITING = OrderState.WAIT.value
_RUN_UPDATE_FIELDS = tuple(f.name for f in fields(RunUpdate))
_run_update_values = attrgetter(*_RUN_UPDATE_FIELDS)
_RUN_FIELDS = tuple(f.name for f in fields(RunRecord))
_run_values = attrgetter(*_RUN_FIELDS)
KEEP_CHOICES = ("all", "trades", "none")


class BatchWriter(Protocol):
    """Inserts batches elsewhere (``store.BackgroundWriter``): at most one in flight."""

    def write(self, records: Sequence[Record]) -> None: ...

    def wait(self) -> None: ...

    def idle(self) -> bool:
        """True when no batch is in flight, or the one in flight is stored."""
        ...

    def close(self) -> None: ...


class BufferedStore:
    """Implements ``ports.Store`` over ``inner``; call ``flush`` to write what is held.

    Args:
        inner: the real store (the SQL store); receives inserts, orders and fills, and
            the decision cache's reads and writes unchanged.
        keep: which cycles' rows are written (see the module docstring).
        on_fill: called once with every new fill, for the backtest's trade figures.
        on_signal: called with every decision's signal row (model cost, cache hits).
        background: makes the writer that ``flush(in_background=True)`` hands batches
            to; without it every batch is written here. Before any other use of
            ``inner`` the batch in flight is waited for.
    """

    def __init__(
        self,
        inner: Store,
        *,
        keep: str = "all",
        on_fill: Callable[[FillRecord], None] | None = None,
        on_signal: Callable[[SignalRecord], None] | None = None,
        background: Callable[[], BatchWriter] | None = None,
    ) -> None:
        if keep not in KEEP_CHOICES:
            raise ValueError(f"keep must be one of {', '.join(KEEP_CHOICES)}, not {keep!r}")
        self._inner = inner
        self._keep = keep
        self._on_fill = on_fill
        self._on_signal = on_signal
        self._runs: dict[str, RunRecord] = {}
        self._run_changes: dict[str, dict[str, Any]] = {}
        self._pending: list[Record] = []
        self._orders: dict[str, OrderRecord] = {}  # held since the last flush, or open
        self._open: dict[str, OrderRecord] = {}  # not final yet: what reconcile reads
        self._order_fills: dict[str, list[FillRecord]] = {}
        self._dirty: set[str] = set()
        self._known_fills: dict[str, set[str]] = {}
        self._flushed_open: set[str] = set()
        self._equity_marks: deque[tuple[datetime, Decimal]] = deque()
        self._last_fill_at: datetime | None = None
        self._guards: dict[tuple[str, str], PositionGuardRecord] = {}
        self._wallets: dict[str, list[PaperBalanceRecord]] = {}
        self._paper_orders: dict[tuple[str, str], PaperOrderRecord] = {}
        self.wallet_version = 0
        """Bumped whenever a paper wallet changes, so readers can cache its totals."""
        self._background = background
        self._writer: BatchWriter | None = None

    # -- inserts, buffered ------------------------------------------------------------
    def write(self, records: Sequence[Record]) -> None:
        for record in records:
            if isinstance(record, RunRecord):
                self._runs[record.run_id] = record
                continue
            if (isinstance(record, SignalRecord) and not record.shadow  # shadows never trade
                    and self._on_signal is not None):
                self._on_signal(record)
            self._pending.append(record)

    def update_run(self, run_id: str, update: RunUpdate) -> None:
        """Merge ``update`` into the held run (applied once, when it is written)."""
        run = self._runs.get(run_id)
        if run is None:
            self._settle()
            self._inner.update_run(run_id, update)
            return
        changes = self._run_changes.setdefault(run_id, {})
        if update.total_equity_krw is not None and "total_equity_krw" not in changes:
            self._equity_marks.append((run.started_at, update.total_equity_krw))
        for name, value in zip(_RUN_UPDATE_FIELDS, _run_update_values(update), strict=True):
            if value is not None:
                changes[name] = value

    @property
    def keep(self) -> str:
        return self._keep

    @property
    def pending(self) -> int:
        """Records held for the next flush."""
        return len(self._runs) + len(self._pending)

    def flush(self, *, in_background: bool = False) -> None:
        """Write what is held: new rows in one transaction, and orders changed since.

        Orders written while unsettled are remembered so a later change updates their
        row; settled orders are forgotten once written. ``in_background`` hands the new
        rows to the background writer (when there is one) and returns without waiting.
        """
        new_orders: list[Record] = []
        for client_id in sorted(self._dirty):
            order = self._orders[client_id]
            fills = self._order_fills.pop(client_id, [])
            if client_id in self._flushed_open:
                self._settle()
                self._inner.save_fills_and_order(order, fills)
            else:
                new_orders.append(order)
                new_orders.extend(fills)
            if order.state in _FINAL:
                self._forget_order(client_id)
            else:
                self._flushed_open.add(client_id)
        self._dirty.clear()
        runs = [_updated(run, self._run_changes.pop(run_id, None))
                for run_id, run in self._runs.items()]
        batch = [*self._kept([*runs, *self._pending]), *new_orders]
        self._runs, self._pending, self._run_changes = {}, [], {}
        if not batch:
            return
        writer = self._writer or (self._start_writer() if in_background else None)
        if in_background and writer is not None:
            writer.write(batch)
            return
        self._settle()
        self._inner.write(batch)

    def writer_idle(self) -> bool:
        """True when a background writer runs and has stored every batch handed to it."""
        return self._writer is not None and self._writer.idle()

    def start_background(self) -> None:
        """Start the background writer now rather than at the first background flush,
        so it is ready by then (starting one takes about a second of the other core)."""
        if self._writer is None:
            self._start_writer()

    def _start_writer(self) -> BatchWriter | None:
        if self._background is None:
            return None
        try:
            self._writer = self._background()
        except OSError as exc:  # no interpreter to start, no pipes: slower, not broken
            log.warning("cannot start a writer process (%s); the backtest writes in place",
                        exc)
            self._background = None
        return self._writer

    def close(self) -> None:
        """Wait for the batch in flight and stop the background writer (flush first)."""
        writer, self._writer, self._background = self._writer, None, None
        if writer is not None:
            writer.close()

    def _settle(self) -> None:
        """Wait until the batch in flight is stored: ``inner`` must see every write."""
        if self._writer is not None:
            self._writer.wait()

    def _kept(self, records: list[Record]) -> list[Record]:
        if self._keep == "all":
            return records
        if self._keep == "none":
            return []
        traded = {r.run_id for r in records
                  if isinstance(r, ExecutionRecord) and r.method != "none"}
        return [r for r in records if getattr(r, "run_id", None) in traded]

    def _forget_order(self, client_id: str) -> None:
        self._orders.pop(client_id, None)
        self._open.pop(client_id, None)
        self._known_fills.pop(client_id, None)
        self._flushed_open.discard(client_id)

    # -- orders and fills -------------------------------------------------------------
    def save_order(self, order: OrderRecord) -> None:
        client_id = order.client_order_id
        self._orders[client_id] = order
        self._dirty.add(client_id)
        if order.state in _FINAL:
            self._open.pop(client_id, None)
        else:
            self._open[client_id] = order

    def get_order(self, client_order_id: str) -> OrderRecord | None:
        order = self._orders.get(client_order_id)
        if order is not None:
            return order
        self._settle()
        return self._inner.get_order(client_order_id)

    def unsettled_orders(self, strategy: str, mode: str) -> list[OrderRecord]:
        # Only the replay's own (backtest) orders are ever in memory: ``mode`` is moot.
        if not self._open:
            return []
        mine = [order for order in self._open.values() if order.strategy == strategy]
        return sorted(mine, key=lambda o: (o.created_at, o.client_order_id))

    def save_fills_and_order(self, order: OrderRecord, fills: Sequence[FillRecord]) -> None:
        self.save_order(order)
        known = self._known_fills.setdefault(order.client_order_id, set())
        for fill in fills:
            if fill.trade_id in known:
                continue
            known.add(fill.trade_id)
            self._order_fills.setdefault(order.client_order_id, []).append(fill)
            if self._last_fill_at is None or fill.created_at > self._last_fill_at:
                self._last_fill_at = fill.created_at
            if self._on_fill is not None:
                self._on_fill(fill)

    def close_open_orders(self, at: datetime, why: str) -> list[str]:
        """Mark every unsettled order cancelled (the replay is over); returns their ids."""
        closed = []
        for client_id, order in list(self._open.items()):
            self.save_order(replace(order, state=OrderState.CANCEL.value, updated_at=at,
                                    error=why))
            closed.append(client_id)
        return closed

    # -- what the engine reads back ---------------------------------------------------
    def first_equity_since(self, strategy: str, since: datetime, mode: str) -> Decimal | None:
        marks = self._equity_marks
        while marks and marks[0][0] < since:
            marks.popleft()
        return marks[0][1] if marks else None

    def last_trade_at(self, strategy: str, mode: str) -> datetime | None:
        return self._last_fill_at

    def load_guard(self, strategy: str, market: str, mode: str) -> PositionGuardRecord | None:
        return self._guards.get((strategy, market))

    def save_guard(self, guard: PositionGuardRecord) -> None:
        self._guards[(guard.strategy, guard.market)] = guard

    def clear_guard(self, strategy: str, market: str, mode: str) -> None:
        self._guards.pop((strategy, market), None)

    # -- the paper exchange's state, in memory only -----------------------------------
    def load_paper_state(
        self, strategy: str
    ) -> tuple[list[PaperBalanceRecord], list[PaperOrderRecord]]:
        orders = [o for (owner, _), o in self._paper_orders.items() if owner == strategy]
        return list(self._wallets.get(strategy, [])), orders

    def save_paper_state(
        self,
        strategy: str,
        balances: Sequence[PaperBalanceRecord],
        orders: Sequence[PaperOrderRecord],
    ) -> None:
        """Keep the wallet and the orders still waiting; settled ones are not read back."""
        self._wallets[strategy] = list(balances)
        self.wallet_version += 1
        for order in orders:
            key = (strategy, order.order_id)
            if order.state == _WAITING:
                self._paper_orders[key] = order
            else:
                self._paper_orders.pop(key, None)

    def reset_paper_state(self, strategy: str) -> None:
        self._wallets.pop(strategy, None)
        self.wallet_version += 1
        for key in [key for key in self._paper_orders if key[0] == strategy]:
            del self._paper_orders[key]

    def waiting_paper_orders(self, strategy: str) -> list[str]:
        """Ids of the paper exchange's resting orders of ``strategy``."""
        return [order_id for (owner, order_id) in self._paper_orders if owner == strategy]

    def wallet_totals(self, strategy: str) -> dict[str, Decimal]:
        """Free plus locked balance per currency of the paper wallet."""
        totals: dict[str, Decimal] = {}
        for record in self._wallets.get(strategy, []):
            totals[record.currency] = totals.get(record.currency, ZERO) + (
                record.balance + record.locked)
        return totals

    # -- passed straight through (after the batch in flight) ---------------------------
    def cache_get(self, key: str) -> str | None:
        self._settle()
        return self._inner.cache_get(key)

    def cache_put(self, key: str, model: str, value: str) -> None:
        self._settle()
        self._inner.cache_put(key, model, value)

    def save_twap_run(self, run: TwapRunRecord) -> None:
        self._settle()
        self._inner.save_twap_run(run)

    def load_twap_run(self, twap_run_id: str) -> TwapRunRecord | None:
        self._settle()
        return self._inner.load_twap_run(twap_run_id)

    def save_twap_slice(self, twap_slice: TwapSliceRecord) -> None:
        self._settle()
        self._inner.save_twap_slice(twap_slice)

    def load_twap_slices(self, twap_run_id: str) -> list[TwapSliceRecord]:
        self._settle()
        return self._inner.load_twap_slices(twap_run_id)


def _updated(run: RunRecord, changes: dict[str, Any] | None) -> RunRecord:
    """``run`` with ``changes`` applied (``dataclasses.replace`` costs three times this)."""
    if not changes:
        return run
    return RunRecord(**{**dict(zip(_RUN_FIELDS, _run_values(run), strict=True)), **changes})
