"""``Replay``: candles, one at a time, through the real ``TradingEngine.run_cycle``.

For every candle of the file, oldest first:

1. Before the window (``start``) a candle only warms the features up.
2. Protection inside the candle: with an open position worth selling, the guard's
   stop-loss and take-profit are checked against the candle. A candle that opens
   through a level exits at its open (the gap); otherwise a low at or under the stop
   exits at the stop price, a high at or over the target at the target price, the
   stop first when the candle reaches both (the cautious reading: the order of events
   inside a candle is unknown). The exit is a real cycle whose snapshot's last price is
   that price, so the engine's own ``protect`` step sells it, as a market order
   through the synthetic book around that price (half a spread under it, plus fees).
3. Resting limit orders of the paper exchange are re-checked against the candle's
   range (``BookModel.range_book``); one that was reached fills at its limit price.
4. The candle joins the strategy's bar (``bars``); a completed bar feeds the
   incremental features and the candle window of the prompt.
5. At a decision time (every ``decide_every`` on the UTC clock, from the close of the
   candle that reaches it) a cycle runs with the clock at the candle's close: the
   snapshot's last price is that close, its book is built around it, its candles and
   features end there. The order fills against a book around the NEXT candle's open.
   A decision that falls just before a hole in the data is postponed (and counted) to
   the first candle whose successor exists; the file's last candle decides nothing.
6. Equity is marked at the close for the figures (``metrics``).

Events inside a candle are stamped at its open for a gap, else at its middle.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from itertools import chain, pairwise
from typing import Protocol, cast

from ..clock import ManualClock
from ..config import StrategyConfig
from ..domain import ZERO, Candle, CandleInterval, Mode, Orderbook, Ticker
from ..engine import TradingEngine
from ..market import (
    BookSummary,
    FeatureCalculator,
    FeatureParams,
    MarketSnapshot,
    snapshot_from_parts,
)
from ..paper import PaperExchange
from ..ports import Decider, Store
from ..records import FillRecord
from .bars import BarBuilder, bar_start
from .book_model import BookModel
from .market import ReplayMarket, counter_ids
from .metrics import (
    DecisionTally,
    EquityCurve,
    Exposure,
    MonthTable,
    TradeTally,
    periods_per_year,
)
from .results import Figures
from .store import BatchWriter, BufferedStore
from .trades import TradeLog, exit_reason

log = logging.getLogger(__name__)

FLUSH_EVERY = 1024
"""Cycles between writes: one transaction per batch, since each commit costs milliseconds
of fsync; about 10 MB of records are held at most."""
LAST_BATCHES = FLUSH_EVERY // 8
"""Over the last ``FLUSH_EVERY`` cycles (as estimated) of a replay written in the
background, a batch goes as soon as it holds this many cycles and the writer is idle:
the replay's end then waits for a small batch, not a full one (~50 ms). Earlier, such
small batches would slow the replay: the writer commits far more often."""
YIELD_EVERY = 256
"""Candles between two returns to the event loop, where cancellation (Ctrl-C) arrives."""
PROGRESS_EVERY = 64
"""Candles between two looks at the wall clock for a progress report (cycles look too)."""
_NEVER = datetime.max.replace(tzinfo=timezone.utc)


@dataclass(slots=True)
class Frame:
    """The intervals of a replay, fixed once the file's first candles are seen.

    ``candle`` is the file's candle length, ``bar`` the strategy's candles built from
    them, ``decide_every`` the decision cadence, ``start``/``end`` the traded window.
    """

    candle: timedelta
    bar: CandleInterval
    decide_every: timedelta
    start: datetime | None = None
    end: datetime | None = None
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ReplayProgress:
    """How far a replay is: for a progress line while a long backtest runs."""

    candles: int  # read so far, warm-up included
    at: datetime  # start of the latest candle read
    decisions: int
    orders: int
    equity_krw: Decimal | None  # at the latest close; None before the window starts


class ProgressReporter:
    """Calls ``show`` with the replay's progress, at most once per ``every`` seconds.

    Args:
        show: receives each ``ReplayProgress``.
        monotonic: wall-clock seconds (the replay's own clock is market time).
        every: the least wall time between two reports.
    """

    def __init__(self, show: Callable[[ReplayProgress], None],
                 monotonic: Callable[[], float], every: float = 0.5) -> None:
        self._show = show
        self._monotonic = monotonic
        self._every = every
        self._last = monotonic()

    def tick(self, replay: Replay) -> None:
        now = self._monotonic()
        if now - self._last >= self._every:
            self._last = now
            self._show(replay.progress())


class ReplayEngines(Protocol):
    """Builds the replay's engine (the composition root's ``bootstrap.replay_engine``):
    the replay supplies its paper exchange, in-memory store, clock, ids and snapshots."""

    def __call__(
        self, config: StrategyConfig, *, exchange: PaperExchange, decider: Decider,
        store: Store, clock: ManualClock, ids: Callable[[], str],
        snapshot: Callable[[], Awaitable[MarketSnapshot]],
    ) -> TradingEngine: ...


class Replay:
    """The state of one replay: engine, paper exchange, features and running figures."""

    def __init__(self, config: StrategyConfig, frame: Frame, *, decider: Decider,
                 engines: ReplayEngines,
                 store: Store, first: datetime, backtest_id: str | None = None,
                 keep: str = "all", progress: ProgressReporter | None = None,
                 background: Callable[[], BatchWriter] | None = None,
                 expected_cycles: int | None = None) -> None:
        section = config.strategy.model_copy(update={"candle_interval": frame.bar})
        self.config = config.model_copy(update={"strategy": section})
        self.frame, self.decider = frame, decider
        self._strategy, self._market = config.name, str(config.market)
        self._mode = Mode.BACKTEST.value  # read for every candle: an enum's value is not free
        self._min_order = config.allocation.min_order_krw
        self.backtest_id = backtest_id or uuid.uuid4().hex
        self.clock = ManualClock(first)
        self.figures = Figures(
            curve=EquityCurve(periods_per_year(frame.candle)),
            hold=EquityCurve(periods_per_year(frame.candle)),
            exposure=Exposure(), trades=TradeTally(config.allocation.min_order_krw),
            decisions=DecisionTally(model=decider.name == "llm"),
            log=TradeLog(config.allocation.min_order_krw), months=MonthTable(),
        )
        self.store = BufferedStore(store, keep=keep, on_fill=self._on_fill,
                                   on_signal=self.figures.decisions.on_signal,
                                   background=background)
        self.window: deque[Candle] = deque(maxlen=max(section.prompt_candles, 1))
        self.market = ReplayMarket(config.market, BookModel.from_config(config.backtest),
                                   self.clock, self.window)
        self.paper = PaperExchange(
            self.market, self.store, strategy=config.name,
            initial_balances=config.paper.initial_balances, clock=self.clock,
            fee_rate=fee_rate(config), min_order_krw=config.allocation.min_order_krw,
        )
        self.engine = engines(
            self.config, exchange=self.paper, decider=decider, store=self.store,
            clock=self.clock, ids=counter_ids(self.backtest_id[:10]), snapshot=self.snapshot,
        )
        self.features = FeatureCalculator(FeatureParams.from_config(section))
        self.bars = BarBuilder(frame.candle, frame.bar.duration)
        self.window_start: datetime | None = None
        self.window_end: datetime | None = None
        self._previous: Candle | None = None
        self._next_due = _NEVER  # set when the window begins
        self._book: Orderbook | None = None
        self._price = ZERO
        self._wallet: tuple[int, Decimal, Decimal] = (-1, ZERO, ZERO)
        self._summary: BookSummary | None = None
        self._since_flush = 0
        self._expected_cycles = expected_cycles
        self._progress = progress

    # -- the loop ---------------------------------------------------------------------
    async def play(self, candles: Iterator[Candle]) -> None:
        """Replay ``candles`` (oldest first), then close what is left open."""
        end = self.frame.end
        for number, (candle, following) in enumerate(_pairs(candles), start=1):
            if end is not None and candle.start >= end:
                break
            if following is not None and end is not None and following.start >= end:
                following = None
            if not self._step_quietly(candle):
                await self.step(candle, following)
            if self._progress is not None and not number % PROGRESS_EVERY:
                self._progress.tick(self)
            if not number % YIELD_EVERY:
                # Nothing a rules replay awaits ever suspends, so without this a Ctrl-C
                # (asyncio cancels the task) would only land when the whole file is done.
                await asyncio.sleep(0)
        closed = self.store.close_open_orders(self.clock.now(), "backtest ended")
        if closed:
            self.frame.warnings.append(f"{len(closed)} open order(s) cancelled at the end")

    def _step_quietly(self, candle: Candle) -> bool:
        """``step`` for the common candle, in the window, that reaches no stop or target,
        finds no resting order and brings no decision: bars and figures only, without
        the cost of a coroutine. False, having done nothing, for any other candle."""
        close = candle.start + self.frame.candle
        if self.window_start is None or close >= self._next_due or (
                self._exit_price(candle) is not None
                or self.store.waiting_paper_orders(self._strategy)):
            return False
        self._count_gap(candle)
        self._add_to_bars(candle)
        self._mark(candle, close)
        return True

    async def step(self, candle: Candle, following: Candle | None) -> None:
        """One candle: warm-up only, or exits, resting orders, bars, decision, figures."""
        self._count_gap(candle)
        start = self.frame.start
        if start is not None and candle.start < start:
            self.figures.counts.warmup_candles += 1
            self._add_to_bars(candle)
            return
        if self.window_start is None:
            await self._begin(candle)
        exit_at = self._exit_price(candle)
        if exit_at is not None:
            await self._exit(candle, *exit_at)
        waiting = self.store.waiting_paper_orders(self._strategy)
        if waiting:
            await self._recheck_resting(candle, waiting)
        self._add_to_bars(candle)
        close = candle.start + self.frame.candle
        if close >= self._next_due:
            await self._decide(candle, close, following)
        self._mark(candle, close)

    def _on_fill(self, fill: FillRecord) -> None:
        self.figures.trades.on_fill(fill)
        self.figures.log.on_fill(fill)

    def finish(self) -> None:
        """Close the figures at the end of the data: the month, and a trade left open."""
        figures = self.figures
        figures.curve.end_at(self.window_end)
        figures.hold.end_at(self.window_end)
        figures.months.close(figures.curve.last, figures.hold.last)
        figures.log.finish(self.window_end, figures.hold.last)

    def _add_to_bars(self, candle: Candle) -> None:
        for bar in self.bars.add(candle):
            self.features.push(bar)
            self.window.append(bar)

    async def _begin(self, candle: Candle) -> None:
        self.window_start = candle.start
        self._set_clock(candle.start)
        self.market.quote_at(candle.open)
        await self.paper.accounts()  # the paper wallet starts from the configured balances
        equity, _ = self._equity(candle.open)
        self.figures.curve.begin(equity, candle.start)
        self.figures.hold.begin(candle.open, candle.start)
        self.figures.months.begin(candle.start, equity, candle.open)
        self._next_due = ceil_time(candle.start + self.frame.candle, self.frame.decide_every)
        self._knowledge_warning(candle.start)

    def _count_gap(self, candle: Candle) -> None:
        previous, step = self._previous, self.frame.candle
        self._previous = candle
        if previous is not None and candle.start > previous.start + step:
            self.figures.counts.gaps += 1
            self.figures.counts.missing_candles += (candle.start - previous.start) // step - 1

    # -- cycles -----------------------------------------------------------------------
    async def _decide(self, candle: Candle, close: datetime, following: Candle | None) -> None:
        if following is None:
            return  # the end of the data: no next open to fill at
        if following.start != close:
            self.figures.counts.postponed_decisions += 1
            return
        self._set_clock(close)
        self._quote(candle.close)
        self.market.quote_at(following.open)  # the order fills at the next open
        await self._cycle(protective=False)
        self._next_due = bar_start(close, self.frame.decide_every) + self.frame.decide_every

    async def snapshot(self) -> MarketSnapshot:
        """The engine's snapshot: the decision price, its book, bars and features."""
        now, book, summary = self.clock.now(), self._book, self._summary
        assert book is not None and summary is not None, "a cycle ran without a decision price"
        return snapshot_from_parts(
            self.config, taken_at=now,
            ticker=Ticker(market=self.config.market, last_price=self._price, timestamp=now),
            orderbook=book, candles=self.window, candles_in_order=True,  # built in order
            balances=await self.paper.accounts(),
            order_chance=await self.paper.order_chance(self.config.market),
            features=self.features.features(), book=summary,
        )

    def _quote(self, price: Decimal) -> None:
        """Set the price and book the next snapshot reports (and the market trades at)."""
        self.market.quote_at(price)
        section = self.config.strategy
        self._price, self._book = price, self.market.book()
        self._summary = self.market.summary(section.book_levels, section.depth_bps)

    async def _cycle(self, *, protective: bool) -> None:
        result = await self.engine.run_cycle()
        self.figures.counts.record(result, protective=protective)
        log = self.figures.log
        if log.closed_in_cycle:
            trigger = getattr(result.parts.get("decision"), "trigger", None)
            log.after_cycle(exit_reason(trigger, result.trading_state))
        if log.needs_guard():
            log.set_guard(self.store.load_guard(self._strategy, self._market, self._mode))
        if self._progress is not None:  # cycles can be slow: a model answers each
            self._progress.tick(self)
        self._since_flush += 1
        if self._since_flush >= FLUSH_EVERY or (
                self._since_flush >= LAST_BATCHES and self._in_last_stretch()
                and self.store.writer_idle()):
            self.store.flush(in_background=True)  # written while the next batch builds
            self._since_flush = 0

    def _in_last_stretch(self) -> bool:
        """Within ``FLUSH_EVERY`` cycles of the estimated end; never without an estimate
        (small batches all along would make the writer commit far more often)."""
        if self._expected_cycles is None:
            return False
        counts = self.figures.counts
        done = counts.decision_cycles + counts.protective_cycles
        return self._expected_cycles - done < FLUSH_EVERY

    def _exit_price(self, candle: Candle) -> tuple[Decimal, bool] | None:
        """The stop or target this candle reaches with a sellable position, if any."""
        guard = self.store.load_guard(self._strategy, self._market, self._mode)
        if guard is None:
            return None
        trigger = exit_trigger(candle, guard.stop_loss_price, guard.take_profit_price)
        if trigger is None or self._wallet_totals()[1] * trigger[0] < self._min_order:
            return None  # nothing reached, or dust no exchange would take
        return trigger

    async def _exit(self, candle: Candle, price: Decimal, at_open: bool) -> None:
        self._set_clock(candle.start if at_open else candle.start + self.frame.candle / 2)
        self._quote(price)
        await self._cycle(protective=True)

    async def _recheck_resting(self, candle: Candle, waiting: list[str]) -> None:
        self._set_clock(candle.start + self.frame.candle / 2)
        self.market.trade_through(candle.low, candle.high)
        for order_id in waiting:
            await self.paper.get_order(order_id=order_id)

    # -- figures ----------------------------------------------------------------------
    def progress(self) -> ReplayProgress:
        figures, counts = self.figures, self.figures.counts
        previous = self._previous
        return ReplayProgress(
            candles=counts.warmup_candles + counts.candles_in_window,
            at=previous.start if previous is not None else self.clock.now(),
            decisions=counts.decision_cycles,
            orders=figures.trades.orders,
            equity_krw=figures.curve.last,
        )

    def _mark(self, candle: Candle, close: datetime) -> None:
        equity, position = self._equity(candle.close)
        figures = self.figures
        if close > figures.months.next_start:
            figures.months.roll(close, figures.curve.last, figures.hold.last)
        figures.curve.mark(equity, close)
        figures.hold.mark(candle.close, close)
        figures.exposure.mark(position, equity, self._min_order)
        figures.counts.candles_in_window += 1
        self.window_end = close

    def _equity(self, price: Decimal) -> tuple[Decimal, Decimal]:
        krw, coin = self._wallet_totals()
        if not coin:
            return krw, coin
        position = coin * price
        return krw + position, position

    def _wallet_totals(self) -> tuple[Decimal, Decimal]:
        """KRW and coin held (free and locked), re-read only when the wallet changed."""
        version = self.store.wallet_version
        if self._wallet[0] != version:
            totals = self.store.wallet_totals(self._strategy)
            market = self.config.market
            self._wallet = (version, totals.get(market.quote, ZERO),
                            totals.get(market.base, ZERO))
        return self._wallet[1], self._wallet[2]

    def _set_clock(self, when: datetime) -> None:
        if when > self.clock.now():
            self.clock.set(when)

    def _knowledge_warning(self, start: datetime) -> None:
        if self.decider.name != "llm":
            return
        cutoff = self.config.llm.knowledge_cutoff
        if cutoff is None:
            message = ("llm.knowledge_cutoff is not set: the model may have been trained on "
                       "this window and know its outcome")
        elif start.date() < cutoff:
            message = (f"the window starts {start.date()}, before the model's knowledge "
                       f"cutoff {cutoff}: the model may know the outcome")
        else:
            return
        log.warning(message)
        self.frame.warnings.append(message)


def fee_rate(config: StrategyConfig) -> Decimal:
    """The rate every paper fill pays: the backtest's own, else the allocation's."""
    rate = config.backtest.fee_rate
    return config.allocation.fee_rate if rate is None else rate


def exit_trigger(candle: Candle, stop: Decimal | None,
                 target: Decimal | None) -> tuple[Decimal, bool] | None:
    """The exit price a candle reaches and whether it was at the open (a gap)."""
    if stop is not None and candle.open <= stop:
        return candle.open, True
    if target is not None and candle.open >= target:
        return candle.open, True
    if stop is not None and candle.low <= stop:
        return stop, False
    if target is not None and candle.high >= target:
        return target, False
    return None


def ceil_time(moment: datetime, every: timedelta) -> datetime:
    """The first multiple of ``every`` (since the epoch, UTC) at or after ``moment``."""
    start = bar_start(moment, every)
    return start if start == moment else start + every


def _pairs(candles: Iterator[Candle]) -> Iterator[tuple[Candle, Candle | None]]:
    """Each candle with the one after it (None after the last), in C: no Python frame
    per candle."""
    return cast(Iterator[tuple[Candle, Candle | None]], pairwise(chain(candles, (None,))))
