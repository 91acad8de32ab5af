"""``Backtest``: open a candle file, replay it, store and return the result."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import chain, islice
from pathlib import Path
from typing import Any

from ..config import StrategyConfig
from ..domain import Candle, CandleInterval
from ..errors import ConfigError
from ..ports import Clock, Decider, Store
from ..store import SqlStore
from ..store.background import BackgroundWriter
from .candles import LOOKAHEAD, CandleFile, detect_interval, open_candle_file
from .replay import (
    FLUSH_EVERY,
    Frame,
    ProgressReporter,
    Replay,
    ReplayEngines,
    ReplayProgress,
    fee_rate,
)
from .results import BacktestResult, headline, research, summary_run

STAND_IN_NOTE = "Upbit candles standing in for Bithumb's (the same KRW-BTC pair)"

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class BacktestSettings:
    """What to replay and how.

    Args:
        data: the candle file (see ``candles``).
        start: first candle start traded; earlier candles only warm the features up.
        end: candles starting at or after it are not read.
        decide_every: decision cadence; the strategy's candle interval when None.
        records: which cycles' rows are written: ``all``, ``trades`` (cycles that sent
            an order) or ``none`` (orders and fills only); see ``store.BufferedStore``.
        backtest_id: id of the result run (a random hex id when None).
    """

    data: Path
    start: datetime | None = None
    end: datetime | None = None
    decide_every: timedelta | None = None
    records: str = "all"
    backtest_id: str | None = None


class Backtest:
    """One replay of one strategy over one candle file.

    Args:
        config: the strategy file.
        settings: the data, the window and the cadence.
        decider: rules or a language model (with its decision cache on).
        store: where the replay's records and the result run are written.
        wall_clock: the real clock, to stamp and time the run and pace ``progress``.
        progress: called with the replay's progress about twice a second of wall time.
    """

    def __init__(self, config: StrategyConfig, settings: BacktestSettings, *,
                 decider: Decider, engines: ReplayEngines, store: Store, wall_clock: Clock,
                 progress: Callable[[ReplayProgress], None] | None = None) -> None:
        self._config = config
        self._settings = settings
        self._decider = decider
        self._engines = engines
        self._store = store
        self._wall = wall_clock
        self._progress = progress

    async def run(self) -> BacktestResult:
        """Replay the file, write every record and the result run, return the result.

        Raises:
            ConfigError: the file cannot be read, or holds no candle in the window, or
                its interval does not suit the cadence.
        """
        ran_at, began = self._wall.now(), self._wall.monotonic()
        file = open_candle_file(self._settings.data)
        candles = iter(file)
        head = list(islice(candles, LOOKAHEAD))
        frame = make_frame(self._config, detect_interval(head), self._settings)
        in_file = file.metadata.get("market")
        if in_file and in_file.upper() != str(self._config.market):
            frame.warnings.append(f"{file.path} holds {in_file} candles; the strategy trades "
                                  f"{self._config.market}")
        reporter = None if self._progress is None else ProgressReporter(
            self._progress, self._wall.monotonic)
        expected = expected_cycles(file, head, frame)
        replay = Replay(self._config, frame, decider=self._decider, engines=self._engines,
                        store=self._store,
                        first=head[0].start, backtest_id=self._settings.backtest_id,
                        keep=self._settings.records, progress=reporter,
                        background=background_writer(self._store), expected_cycles=expected)
        if expected is not None and expected >= BACKGROUND_FROM_CYCLES:
            replay.store.start_background()
        interrupted = False
        try:
            with _long_lived_objects_frozen():
                try:
                    await replay.play(chain(head, candles))
                except asyncio.CancelledError:  # Ctrl-C: keep what was replayed, then stop
                    interrupted = True
            replay.finish()
        finally:
            try:
                replay.store.flush()
            finally:
                replay.store.close()
        if replay.window_start is None:
            if interrupted:
                raise asyncio.CancelledError
            raise ConfigError(f"{file.path} has no candle in the window asked for")
        if interrupted:
            replay.frame.warnings.append(
                f"interrupted: the figures cover {replay.window_start:%Y-%m-%d %H:%M} to "
                f"{replay.window_end:%Y-%m-%d %H:%M} UTC only")
        result = _result(replay, file, ran_at, self._wall.monotonic() - began)
        self._store.write([summary_run(result, finished_at=self._wall.now(),
                                       status="interrupted" if interrupted else "ok")])
        if interrupted:
            log.warning("backtest %s interrupted; what it replayed is recorded (report "
                        "--backtest %s)", result.backtest_id, result.backtest_id)
            raise asyncio.CancelledError
        return result


BACKGROUND_FROM_CYCLES = 2 * FLUSH_EVERY
"""A replay expected to run this many cycles writes its batches from a second process:
with fewer, starting that process costs more than it saves."""


def expected_cycles(file: CandleFile, head: list[Candle], frame: Frame) -> int | None:
    """About how many decisions the replay will make: the file's size over the length of
    its first lines gives the candles, the window and the cadence the rest. None when
    that cannot tell (a JSON file, or fewer than two candles)."""
    if file.layout != "csv" or len(head) < 2:
        return None  # a JSON file is read whole and is small: Bithumb pages 200 candles
    with file.path.open("rb") as handle:
        sample = handle.read(_SAMPLE_BYTES)
    lines = max(sample.count(b"\n"), 1)
    candles = file.path.stat().st_size * lines // len(sample)
    first, last = head[0].start, head[0].start + frame.candle * candles
    if frame.end is not None:
        last = min(last, frame.end)
    if frame.start is not None:
        first = max(first, frame.start)
    return max((last - first) // frame.decide_every, 0)


_SAMPLE_BYTES = 64 * 1024


def background_writer(store: Store) -> Callable[[], BackgroundWriter] | None:
    """How to start a writer process for ``store``: a database another process can open
    (not an in-memory SQLite), behind a ``SqlStore``; else None (written in place)."""
    if not isinstance(store, SqlStore) or os.name != "posix":  # the pipes are POSIX ones
        return None
    url = store.engine.url
    if url.get_backend_name() == "sqlite" and (not url.database or "memory" in url.database):
        return None
    target = url.render_as_string(hide_password=False)
    return lambda: BackgroundWriter(target, label=store.label)


@contextmanager
def _long_lived_objects_frozen() -> Iterator[None]:
    """Keep the collector from re-scanning every loaded module during a replay.

    A replay allocates millions of short-lived objects, which starts Python's full
    collections; each walked the whole heap (SQLAlchemy, pydantic, ...), about 2% of
    a one-minute replay. Frozen objects are skipped; ``unfreeze`` hands them back.
    """
    gc.freeze()  # without a collection first: that alone would cost ~25 ms a backtest
    try:
        yield
    finally:
        gc.unfreeze()


def make_frame(config: StrategyConfig, interval: CandleInterval,
               settings: BacktestSettings) -> Frame:
    """The strategy's bars and the cadence for candles of ``interval``.

    Bars of ``strategy.candle_interval`` are built from the file's candles when it is a
    whole multiple of them; otherwise the strategy sees the file's candles, with a
    warning.
    """
    candle, wanted = interval.duration, config.strategy.candle_interval
    bar, warnings = wanted, []
    if wanted is CandleInterval.MO1 or wanted.duration < candle or wanted.duration % candle:
        bar = interval
        warnings.append(f"strategy.candle_interval {wanted.value} cannot be built from "
                        f"{interval.value} candles; the strategy sees {interval.value} candles")
    every = settings.decide_every or bar.duration
    if every < candle:
        raise ConfigError(f"cannot decide every {every}: the data has one candle per {candle}")
    return Frame(candle=candle, bar=bar, decide_every=every, start=settings.start,
                 end=settings.end, warnings=warnings)


def _result(replay: Replay, file: CandleFile, ran_at: datetime, seconds: float) -> BacktestResult:
    figures, config = replay.figures, replay.config
    counts = figures.counts
    read = file.stats.candles
    details: dict[str, Any] = {
        "decider": {"name": replay.decider.name,
                    "model": config.llm.model if replay.decider.name == "llm" else None},
        "data": _data_details(replay, file),
        "settings": {
            "candle_interval": replay.frame.bar.value,
            "records": replay.store.keep,
            "decide_every_s": replay.frame.decide_every.total_seconds(),
            "fee_rate": fee_rate(config),
            "book_model": config.backtest.model_dump(exclude={"fee_rate"}),
            "initial_balances": config.paper.initial_balances,
        },
        "trades": figures.trades.summary(),
        "decisions": figures.decisions.summary(),
        "cycles": {
            "decision_cycles": counts.decision_cycles,
            "protective_cycles": counts.protective_cycles,
            "protective_exits": counts.exits,
            "refused_orders": counts.refused_orders,
            "failed_cycles": counts.failed_cycles,
            "errors": counts.errors,
            "postponed_decisions": counts.postponed_decisions,
        },
        **research(figures),
        "performance": {"seconds": round(seconds, 3),
                        "candles_per_second": round(read / seconds) if seconds > 0 else None},
    }
    return BacktestResult(
        backtest_id=replay.backtest_id, strategy=config.name, market=str(config.market),
        started_at=ran_at, window_start=replay.window_start, window_end=replay.window_end,
        results=headline(figures), details=details, warnings=tuple(replay.frame.warnings),
        fills=tuple(figures.log.fills),
    )


def _data_details(replay: Replay, file: CandleFile) -> dict[str, Any]:
    counts, stats = replay.figures.counts, file.stats
    source = file.source
    return {
        "file": str(file.path),
        "source_exchange": source or "unknown",
        "note": STAND_IN_NOTE if source == "upbit" else None,
        "market_in_file": file.metadata.get("market"),
        "interval": _interval_name(replay.frame.candle),
        "candles_read": stats.candles,
        "candles_in_window": counts.candles_in_window,
        "warmup_candles": counts.warmup_candles,
        "gaps": counts.gaps,
        "missing_candles": counts.missing_candles,
        "rows_out_of_order": stats.out_of_order,
        "rows_invalid": stats.invalid,
    }


def _interval_name(length: timedelta) -> str:
    return next(i.value for i in CandleInterval if i.duration == length)
