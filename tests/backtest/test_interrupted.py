"""A backtest stopped before the end of its data (Ctrl-C) keeps what it replayed: its
cycles and a summary row marked ``interrupted`` whose figures cover the replayed part."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from bithumb_llm_trader.backtest import Backtest, BacktestSettings, ReplayProgress
from bithumb_llm_trader.bootstrap.backtest import replay_engine
from bithumb_llm_trader.clock import ManualClock
from bithumb_llm_trader.store import open_store

from .helpers import T0, ScriptedDecider, buy, candle_rows, config, rows, walk_prices, write_csv
from .test_progress import TickingClock


def test_an_interrupted_backtest_records_what_it_replayed(tmp_path: Path) -> None:
    data = write_csv(tmp_path / "c.csv", candle_rows(walk_prices(3000)))
    store = open_store(f"sqlite:///{tmp_path / 'bt.db'}")

    async def run_and_interrupt() -> None:
        task: asyncio.Task[object] | None = None

        def progress(seen: ReplayProgress) -> None:
            if seen.candles >= 1000 and task is not None:
                task.cancel()  # what asyncio.run does with the main task on Ctrl-C

        backtest = Backtest(config(), BacktestSettings(data=data),
                            decider=ScriptedDecider([buy()]), engines=replay_engine,
                            store=store, wall_clock=TickingClock(step=0.5), progress=progress)
        task = asyncio.ensure_future(backtest.run())
        with pytest.raises(asyncio.CancelledError):
            await task

    try:
        asyncio.run(run_and_interrupt())
        (summary,) = [r for r in rows(store, "cron_runs")
                      if r["result_json"] and r["result_json"].get("backtest_id")]
        cycles = [r for r in rows(store, "cron_runs") if r is not summary]
    finally:
        store.close()
    assert summary["status"] == "interrupted"
    result = summary["result_json"]
    end = T0 + timedelta(minutes=3000)
    assert T0.isoformat() <= result["window"]["end"] < end.isoformat()  # stopped early
    assert any(w.startswith("interrupted: the figures cover") for w in result["warnings"])
    assert result["results"]["trades"] > 0  # the figures of the replayed part
    assert 0 < len(cycles) < 3000 and all(c["mode"] == "backtest" for c in cycles)


def test_a_backtest_that_ends_is_ok(tmp_path: Path) -> None:
    data = write_csv(tmp_path / "c.csv", candle_rows(walk_prices(100)))
    store = open_store(f"sqlite:///{tmp_path / 'bt.db'}")
    try:
        asyncio.run(Backtest(config(), BacktestSettings(data=data),
                             decider=ScriptedDecider([buy()]), engines=replay_engine,
                             store=store, wall_clock=ManualClock(T0)).run())
        (summary,) = [r for r in rows(store, "cron_runs") if r["result_json"]
                      and r["result_json"].get("backtest_id")]
    finally:
        store.close()
    assert summary["status"] == "ok"
    assert not any(w.startswith("interrupted") for w in summary["result_json"]["warnings"])
