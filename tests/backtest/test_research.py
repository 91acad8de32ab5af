"""What a trader reads after a backtest: the trade table exported, the chart, and a
trade left open at the end of the data."""

from __future__ import annotations

import csv
import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from typer.testing import CliRunner

from bithumb_llm_trader.backtest.trades import TRADE_COLUMNS
from bithumb_llm_trader.clock import ManualClock
from bithumb_llm_trader.main import app

from .helpers import (
    HOLD,
    UTC,
    ScriptedDecider,
    buy,
    candle_rows,
    config,
    run_backtest,
    walk_prices,
    write_csv,
)
from .test_cli import strategy_file

D = Decimal


def test_export_and_plot_hold_the_trades_of_the_json(workdir: Path) -> None:
    data = write_csv(workdir / "upbit_candles.csv", candle_rows(walk_prices(240)))
    result = CliRunner().invoke(
        app, ["backtest", str(strategy_file(workdir)), "--data", str(data), "--export",
              "trades.csv", "--plot", "chart.html"],
        obj={"clock": ManualClock(datetime(2026, 1, 2, tzinfo=UTC))})

    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    trades = document["trade_list"]
    assert trades, "the walk should trade"
    with (workdir / "trades.csv").open(encoding="utf-8") as handle:
        exported = list(csv.DictReader(handle))
    assert tuple(exported[0]) == TRADE_COLUMNS
    assert len(exported) == len(trades)
    for row, trade in zip(exported, trades, strict=True):
        assert row["pnl_krw"] == trade["pnl_krw"] and row["exit_reason"] == trade["exit_reason"]
        assert row["entry_at"] == trade["entry_at"]
    assert sum(D(row["fees_krw"]) for row in exported) == D(document["results"]["fees_krw"])
    page = (workdir / "chart.html").read_text(encoding="utf-8")
    assert page.count("<svg") == 1 and "<script" not in page and " src=" not in page
    assert "href" not in page  # nothing fetched: self-contained
    assert page.count("<polyline") == 2  # strategy and buy-and-hold equity
    assert page.count("<title>trade ") == 2 * len(trades)  # an entry and an exit each
    assert "trades" in result.stderr and "streaks" in result.stderr  # the trades table


def test_a_trade_open_at_the_end_is_valued_at_the_last_close(tmp_path: Path) -> None:
    prices = [(100_000_000, 100_100_000, 99_900_000, 100_000_000)] * 3 + [
        (100_000_000, 101_100_000, 99_990_000, 101_000_000)]
    data = write_csv(tmp_path / "candles.csv", candle_rows(prices))
    result, _ = run_backtest(config(), data, ScriptedDecider([buy(stop="0.05"), HOLD]))

    (trade,) = result.details["trade_list"]
    assert trade["exit_reason"] == "end_of_data" and trade["sell_fills"] == 0
    assert trade["exit_price"] == D("101000000.00")
    value = trade["volume"] * D(101_000_000)
    assert trade["pnl_krw"] == (value - trade["cost_krw"]).quantize(D("0.01"))
    assert result.results["round_trips"] == 0  # not sold: not a round trip
    assert result.details["exit_reasons"]["end_of_data"]["trades"] == 1
    assert result.details["trade_stats"]["current_streak"] in (1, -1)


def test_a_sale_is_explained_by_the_guard_a_halt_or_the_signal() -> None:
    from bithumb_llm_trader.backtest.trades import exit_reason

    assert exit_reason("stop_loss", "active") == "stop_loss"
    assert exit_reason("take_profit", "halted") == "take_profit"
    assert exit_reason(None, "halted") == exit_reason(None, "reducing") == "halted"
    assert exit_reason(None, "active") == exit_reason(None, None) == "signal"
