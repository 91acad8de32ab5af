"""The wiring of a parameter search: each trial is a real backtest on a throwaway store.

A trial's backtest is built like ``backtest``'s (``replay_engine``, the rules decider,
the same gate) with ``--records none`` and an in-memory SQLite store that is dropped
when the trial ends: trials never write into the trading tables, whatever ``--storage``
names (that database holds Optuna's own tables only).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from itertools import islice
from pathlib import Path
from typing import Any

from ..backtest import Backtest, BacktestSettings, open_candle_file
from ..backtest.candles import LOOKAHEAD, detect_interval
from ..clock import SystemClock
from ..config import StrategyConfig
from ..engine import jsonable
from ..errors import ConfigError
from ..optimize.folds import Fold, walk_forward
from ..optimize.params import check_space
from ..optimize.search import FoldOutcome, Plan, Progress, run_search
from ..store import open_store
from .adapters import rule_decider
from .backtest import replay_engine

KEPT = ("total_return", "sharpe", "sortino", "max_drawdown", "max_drawdown_duration_s",
        "trades", "round_trips", "win_rate", "exposure", "fees_krw", "fees_share_of_capital",
        "buy_and_hold_return", "final_equity_krw")
"""The figures of a trial kept in the study and shown in the report."""


@dataclass(frozen=True, slots=True)
class SearchRequest:
    """What ``bithumb-trader optimize`` was asked (None: the strategy file's value)."""

    config: StrategyConfig
    data: Path
    trials: int | None = None
    jobs: int = 1
    folds: int | None = None
    storage: str | None = None
    study: str | None = None
    seed: int | None = None


def plan_search(request: SearchRequest) -> Plan:
    """Check the strategy and the space, cut the data into folds, name the study.

    Raises:
        ConfigError: the llm decider, an unusable space, or too little data.
    """
    config = request.config
    if config.strategy.decider != "rules":
        raise ConfigError("optimize searches the rules decider (strategy.decider: rules); "
                          "a language model's trials would each pay for its answers")
    check_space(config)
    section = config.optimize
    first, end, candle = _span(request.data)
    folds = walk_forward(first, end, request.folds or section.folds, section.in_sample_ratio,
                         candle)
    return Plan(config=config, data=request.data, folds=tuple(folds),
                objective=section.objective, trials=request.trials or section.trials,
                study=request.study or f"{config.name}-{request.data.stem}",
                storage=request.storage, decide_every=section.decide_every,
                seed=request.seed)


def search(request: SearchRequest, progress: Progress | None = None) -> list[FoldOutcome]:
    """Plan and run the search; each fold's best parameters scored out of sample."""
    plan = plan_search(request)
    return run_search(plan, evaluate_fold, jobs=request.jobs, progress=progress)


def evaluate_fold(config: StrategyConfig, data: Path, fold: Fold, out_of_sample: bool,
                  decide_every: timedelta | None) -> dict[str, Any]:
    """One backtest of ``config`` on the fold's in- or out-of-sample part: its headline
    figures as JSON values (the study stores them)."""
    start, end = (fold.out_start, fold.out_end) if out_of_sample else (
        fold.in_start, fold.in_end)
    return window_results(config, data, start=start, end=end, decide_every=decide_every)


def window_results(config: StrategyConfig, data: Path, *, start: Any, end: Any,
                   decide_every: timedelta | None) -> dict[str, Any]:
    """The headline figures of one throwaway backtest of ``[start, end)``."""
    store = open_store("sqlite://")
    try:
        settings = BacktestSettings(data=data, start=start, end=end,
                                    decide_every=decide_every, records="none")
        with _only_errors_logged():  # a trial's refusals are figures, not warnings
            result = asyncio.run(Backtest(config, settings, decider=rule_decider(config),
                                          engines=replay_engine, store=store,
                                          wall_clock=SystemClock()).run())
    finally:
        store.close()
    figures: dict[str, Any] = jsonable({key: result.results.get(key) for key in KEPT})
    figures["window"] = jsonable({"start": start, "end": end})
    return figures


def _span(data: Path) -> tuple[Any, Any, timedelta]:
    """First candle's start, the last candle's end, and the candle length of ``data``."""
    file = open_candle_file(data)
    candles = iter(file)
    head = list(islice(candles, LOOKAHEAD))
    if len(head) < 2:
        raise ConfigError(f"{data} has too few candles to search on")
    interval = detect_interval(head).duration
    last = head[-1]
    for last in candles:  # noqa: B007 - only the last one is wanted
        pass
    return head[0].start, last.start + interval, interval


@contextlib.contextmanager
def _only_errors_logged() -> Iterator[None]:
    """The package logs errors only while a trial runs; its level is put back after, so
    the process (a test run, the command's own lines) keeps its logging as it was."""
    logger = logging.getLogger("bithumb_llm_trader")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)
