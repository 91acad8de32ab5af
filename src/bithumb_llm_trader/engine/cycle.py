"""``TradingEngine.run_cycle``: one trading cycle as a list of named steps.

reconcile -> snapshot -> risk_state -> protect -> prompt -> decide -> risk -> allocate
-> execute. Each step hands its records to the store when it ends, and a store that can
(``SqlStore.cycle_writes``) holds them and commits the whole cycle in one transaction
at its end, in two when an order is sent (its ``pending`` row is committed, with what
came before, before the send). A failure still leaves every finished step recorded and
the run row saying ``failed`` and why: the cycle's end writes them all. The engine
imports no adapter and builds nothing: its steps (with their risk manager, order
executor, gate and TWAP executor), snapshot source, store and clock arrive built by the
composition root (``bootstrap``).
"""

from __future__ import annotations

import logging
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any, Protocol, runtime_checkable

from ..config import StrategyConfig
from ..domain import Mode
from ..market import MarketSnapshot
from ..ports import Clock, Store
from ..records import RunRecord, RunUpdate
from ..risk import assess_state, start_of_day_kst
from . import recording as rec
from .notices import CycleNotices
from .results import CycleResult, StepResult
from .state import CycleState, Stop
from .steps import CycleSteps

log = logging.getLogger(__name__)

SnapshotProvider = Callable[[], Awaitable[MarketSnapshot]]


@runtime_checkable
class HoldsWrites(Protocol):
    """A store that can hold a cycle's writes and commit them together (``SqlStore``)."""

    def cycle_writes(self) -> AbstractContextManager[None]: ...


def new_run_id() -> str:
    return uuid.uuid4().hex


class TradingEngine:
    """Runs trading cycles for one strategy and remembers the recent results."""

    def __init__(
        self,
        config: StrategyConfig,
        *,
        steps: CycleSteps,
        snapshot: SnapshotProvider,
        store: Store,
        clock: Clock,
        mode: Mode,
        kill_switch: Callable[[], bool],
        ids: Callable[[], str] = new_run_id,
        history_size: int = 50,
        record_results: bool = True,
        notices: CycleNotices | None = None,
    ) -> None:
        self.config = config
        self.mode = Mode(mode)
        self._mode_value = self.mode.value  # an enum's value is a Python property: read once
        self.history: deque[CycleResult] = deque(maxlen=history_size)
        self._store = store
        self._cycle_writes: Callable[[], AbstractContextManager[None]] = (
            store.cycle_writes if isinstance(store, HoldsWrites) else nullcontext)
        self._clock = clock
        self._ids = ids
        # The whole CycleResult as JSON on its cron_runs row: what an operator reads
        # first. A backtest turns it off: its step tables hold the same facts.
        self._record_results = record_results
        self._kill_switch = kill_switch
        self._snapshot = snapshot
        self._steps = steps
        self._notices = notices
        self._plan = self._steps_in_order()

    @property
    def steps(self) -> CycleSteps:
        return self._steps

    async def run_cycle(self) -> CycleResult:
        """Run one cycle; never raises for a step's failure (the result says failed)."""
        state = CycleState(run_id=self._ids(), started_at=self._clock.now())
        with self._cycle_writes():
            result, fault = await self._run_steps(state)
        if self._notices is not None:
            self._notices.after_cycle(state, result, fault)
        return result

    async def _run_steps(self, state: CycleState) -> tuple[CycleResult, Exception | None]:
        self._store.write([RunRecord(
            run_id=state.run_id, strategy=self.config.name, market=str(self.config.market),
            mode=self._mode_value, started_at=state.started_at,
        )])
        error: str | None = None
        fault: Exception | None = None
        try:
            for name, step in self._plan:
                await self._run_step(state, name, step)
        except Exception as exc:
            error = f"{state.current}: {type(exc).__name__}: {exc}"
            fault = exc
            log.error("cycle %s failed in %s: %s", state.run_id, state.current, exc)
        except BaseException:
            self._finish(state, "interrupted before the cycle ended")
            raise
        return self._finish(state, error), fault

    def _steps_in_order(
        self,
    ) -> list[tuple[str, Callable[[CycleState], Awaitable[dict[str, Any]]]]]:
        s = self._steps
        return [
            ("reconcile", s.reconcile),
            ("snapshot", self._take_snapshot),
            ("risk_state", self._assess),
            ("protect", s.protect),
            ("prompt", s.prompt),
            ("decide", s.decide),
            ("risk", s.review),
            ("allocate", s.allocate),
            ("execute", s.execute),
        ]

    async def _run_step(
        self,
        state: CycleState,
        name: str,
        step: Callable[[CycleState], Awaitable[dict[str, Any]]],
    ) -> None:
        state.current = name
        if state.stopped is not None:
            state.steps.append(StepResult(name, "skipped", 0.0, {"reason": state.stopped.reason}))
            return
        started = self._clock.monotonic()
        try:
            detail = await step(state)
        except Stop as stop:
            # Keep the signal, not its traceback: the traceback holds this frame, which
            # holds the state, a reference cycle only the slow garbage collector frees.
            state.stopped = stop.with_traceback(None)
            elapsed = (self._clock.monotonic() - started) * 1000
            state.steps.append(StepResult(name, "ok", round(elapsed, 3), stop.detail))
            return
        except Exception as exc:
            elapsed = (self._clock.monotonic() - started) * 1000
            state.steps.append(StepResult(name, "failed", round(elapsed, 3),
                                          {"error": f"{type(exc).__name__}: {exc}"}))
            raise
        elapsed = (self._clock.monotonic() - started) * 1000
        state.steps.append(StepResult(name, "ok", round(elapsed, 3), detail))

    async def _take_snapshot(self, state: CycleState) -> dict[str, Any]:
        snapshot = await self._snapshot()
        state.snapshot = snapshot
        run_id, strategy = state.run_id, self.config.name
        account = snapshot.account
        self._store.write([
            *rec.position_records(snapshot, run_id=run_id, strategy=strategy),
            rec.feature_record(snapshot, run_id=run_id, strategy=strategy),
        ])
        self._store.update_run(run_id, RunUpdate(
            total_equity_krw=account.equity_krw,
            reserved_pool_krw=account.reserved_pool_krw,
            cash_krw=account.cash_krw + account.locked_krw,
            position_value_krw=account.position.size * snapshot.last_price,
            last_price=snapshot.last_price,
        ))
        for currency in account.unpriced:
            state.warnings.append(f"{currency} has no KRW market; left out of equity")
        return {
            "last_price": snapshot.last_price,
            "equity_krw": account.equity_krw,
            "reserved_pool_krw": account.reserved_pool_krw,
            "position_size": account.position.size,
            "candles": len(snapshot.candles),
        }

    async def _assess(self, state: CycleState) -> dict[str, Any]:
        snapshot = state.require_snapshot()
        now = self._clock.now()
        day_start = start_of_day_kst(now)
        risk_state = assess_state(
            self.config.risk,
            equity_krw=snapshot.account.equity_krw,
            day_start_equity=self._store.first_equity_since(self.config.name, day_start,
                                                            self._mode_value),
            kill_switch=self._kill_switch(),
            last_trade_at=self._store.last_trade_at(self.config.name, self._mode_value),
            now=now,
            unsettled_orders=bool(state.unresolved_orders),
        )
        state.risk_state = risk_state
        self._store.update_run(state.run_id, RunUpdate(trading_state=risk_state.state.value))
        return {
            "state": risk_state.state,
            "reasons": risk_state.reasons,
            "daily_pnl_krw": risk_state.daily_pnl_krw,
            "in_cooldown": risk_state.in_cooldown,
        }

    def _finish(self, state: CycleState, error: str | None) -> CycleResult:
        finished = self._clock.now()
        result = state.result(
            strategy=self.config.name,
            market=str(self.config.market),
            mode=self._mode_value,
            finished_at=finished,
            error=error,
        )
        self._store.update_run(state.run_id, RunUpdate(
            status=result.status, finished_at=finished, error=error,
            result_json=result.to_dict() if self._record_results else None,
        ))
        self.history.append(result)
        return result
