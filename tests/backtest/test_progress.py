"""Progress while a backtest runs: paced by wall time, shown as one line on stderr."""

from __future__ import annotations

import asyncio
import io
import json
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from rich.console import Console
from typer.testing import CliRunner

from bithumb_llm_trader.backtest import Backtest, BacktestSettings, ReplayProgress
from bithumb_llm_trader.bootstrap.backtest import replay_engine
from bithumb_llm_trader.cli.backtest_cmd import _ProgressView
from bithumb_llm_trader.clock import ManualClock
from bithumb_llm_trader.main import app
from bithumb_llm_trader.store import open_store

from .helpers import HOLD, T0, UTC, ScriptedDecider, candle_rows, config, walk_prices, write_csv


class TickingClock(ManualClock):
    """Wall time that moves ``step`` seconds each time it is read."""

    def __init__(self, step: float) -> None:
        super().__init__(datetime(2026, 1, 2, tzinfo=UTC))
        self.step = step
        self.reads = 0.0

    def monotonic(self) -> float:
        self.reads += self.step
        return self.reads


def run(tmp_path: Path, clock: ManualClock, count: int = 300) -> list[ReplayProgress]:
    data = write_csv(tmp_path / "c.csv", candle_rows(walk_prices(count)))
    seen: list[ReplayProgress] = []
    store = open_store(f"sqlite:///{tmp_path / 'bt.db'}")
    backtest = Backtest(config(), BacktestSettings(data=data),
                        decider=ScriptedDecider([HOLD]), engines=replay_engine, store=store,
                        wall_clock=clock,
                        progress=seen.append)
    asyncio.run(backtest.run())
    store.close()
    return seen


def test_progress_is_reported_as_wall_time_passes_and_only_grows(tmp_path: Path) -> None:
    seen = run(tmp_path, TickingClock(step=0.2))

    assert len(seen) > 10
    candles = [p.candles for p in seen]
    decisions = [p.decisions for p in seen]
    assert candles == sorted(candles) and decisions == sorted(decisions)
    assert seen[-1].candles <= 300 and seen[-1].decisions > 0
    assert all(T0 <= p.at < T0 + timedelta(minutes=300) for p in seen)
    assert seen[-1].equity_krw is not None and seen[-1].equity_krw > 0


def test_no_report_before_its_interval_has_passed(tmp_path: Path) -> None:
    assert run(tmp_path, TickingClock(step=0.0)) == []


def test_the_progress_line_names_time_candles_decisions_and_equity() -> None:
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=160)
    progress = ReplayProgress(candles=12_345, at=datetime(2025, 9, 1, 0, 15, tzinfo=UTC),
                              decisions=820, orders=3, equity_krw=Decimal("1004231.5"))
    with _ProgressView(console) as view:
        view(progress)
    text = screen.getvalue()
    for part in ("2025-09-01 00:15", "12,345 candles", "820 decisions",
                 "3 orders", "1,004,232 KRW"):
        assert part in text
    _ProgressView(None)(progress)  # --json: nothing to show, nothing raised


def test_json_only_keeps_stderr_empty_while_progress_ticks(tmp_path: Path) -> None:
    data = write_csv(tmp_path / "c.csv", candle_rows(walk_prices(200)))
    strategy = tmp_path / "s.json"
    strategy.write_text(json.dumps({
        "name": "progress", "strategy": {"decider": "rules", "candle_interval": "1m"},
        "risk": {"kill_switch_file": None},
        "database": {"url": f"sqlite:///{tmp_path / 'bt.db'}"},
    }), encoding="utf-8")
    result = CliRunner().invoke(app, ["backtest", str(strategy), "--data", str(data),
                                      "--json"], obj={"clock": TickingClock(step=1.0)})
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert json.loads(result.stdout)["strategy"] == "progress"


def test_a_cancelled_backtest_stops_soon_and_keeps_what_it_replayed(tmp_path: Path) -> None:
    """Ctrl-C cancels the task; the replay must give the loop a chance to deliver it."""
    from bithumb_llm_trader.backtest.replay import YIELD_EVERY

    data = write_csv(tmp_path / "c.csv", candle_rows(walk_prices(5 * YIELD_EVERY)))
    store = open_store(f"sqlite:///{tmp_path / 'bt.db'}")
    backtest = Backtest(config(), BacktestSettings(data=data),
                        decider=ScriptedDecider([HOLD]), engines=replay_engine, store=store,
                        wall_clock=ManualClock(datetime(2026, 1, 2, tzinfo=UTC)))

    async def cancel_soon() -> None:
        task = asyncio.ensure_future(backtest.run())
        asyncio.get_running_loop().call_soon(task.cancel)  # lands at the first yield
        try:
            await task
        except asyncio.CancelledError:
            return
        raise AssertionError("the backtest ran to the end despite being cancelled")

    asyncio.run(cancel_soon())
    with store.engine.connect() as conn:
        runs = conn.exec_driver_sql(
            "SELECT count(*) FROM cron_runs WHERE status != 'interrupted'").scalar()
        summaries = conn.exec_driver_sql(
            "SELECT count(*) FROM cron_runs WHERE status = 'interrupted'").scalar()
    store.close()
    assert 0 < runs <= YIELD_EVERY  # the cycles replayed so far were written
    assert summaries == 1  # and the result of the replayed part
