"""Inside the candles: stops, targets, resting orders, holes in the data, the window."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from bithumb_llm_trader.backtest import BacktestResult
from bithumb_llm_trader.errors import ConfigError
from bithumb_llm_trader.store import SqlStore

from .helpers import (
    HOLD,
    T0,
    Prices,
    ScriptedDecider,
    buy,
    candle_rows,
    config,
    flat_prices,
    rows,
    run_backtest,
    write_csv,
)

D = Decimal
BUY_BAR = (101_000_000, 101_100_000, 100_900_000, 101_000_000)  # buy decided at its close
FILL_BAR = (102_040_000, 102_500_000, 102_000_000, 102_400_000)  # fills at 102,041,000
# The guard of that buy: stop 100,001,000, target 106,122,000 (see test_hand_computed).
QUIET = (102_400_000, 102_500_000, 102_300_000, 102_400_000)


def replay(tmp_path: Path, prices: Prices, script: list, **settings: object) -> tuple[
        BacktestResult, SqlStore, ScriptedDecider]:
    decider = ScriptedDecider(list(script))
    data = write_csv(tmp_path / "c.csv", candle_rows(prices, skip=settings.pop("skip", ())))
    result, store = run_backtest(config(), data, decider, **settings)
    return result, store, decider


def sells(store: SqlStore) -> list[dict[str, object]]:
    return [f for f in rows(store, "fills") if f["side"] == "ask"]


def test_a_candle_opening_through_the_stop_exits_at_its_open(tmp_path: Path) -> None:
    gap = (99_000_000, 99_100_000, 98_000_000, 98_500_000)
    below = (98_500_000, 98_600_000, 97_000_000, 98_000_000)  # under the stop again
    result, store, _ = replay(tmp_path, [BUY_BAR, FILL_BAR, gap, below, below], [buy()])

    (fill,) = sells(store)
    # Into the bid one tick under the open, stamped at the open.
    assert (fill["price"], fill["created_at"]) == (D(98_999_000), T0 + timedelta(minutes=2))
    cycles = result.to_dict()["cycles"]
    assert cycles["protective_exits"] == {"stop_loss": 1}
    assert cycles["protective_cycles"] == 1  # what is left is dust: not sold again


def test_a_high_reaching_the_target_takes_profit_at_the_target(tmp_path: Path) -> None:
    spike = (102_400_000, 106_500_000, 102_300_000, 104_000_000)
    result, store, _ = replay(tmp_path, [BUY_BAR, FILL_BAR, spike, QUIET], [buy()])

    (fill,) = sells(store)
    assert fill["price"] == D(106_121_000)  # the bid one tick under 106,122,000
    assert fill["created_at"] == T0 + timedelta(minutes=2, seconds=30)
    assert result.to_dict()["cycles"]["protective_exits"] == {"take_profit": 1}


def test_a_candle_reaching_both_levels_is_read_as_stopped_out(tmp_path: Path) -> None:
    both = (102_400_000, 106_500_000, 99_000_000, 104_000_000)
    result, store, _ = replay(tmp_path, [BUY_BAR, FILL_BAR, both, QUIET], [buy()])

    (fill,) = sells(store)
    assert fill["price"] == D(100_000_000)  # the stop, 100,001,000, less one tick
    assert result.to_dict()["cycles"]["protective_exits"] == {"stop_loss": 1}


def test_a_resting_limit_buy_fills_at_its_price_when_a_candle_reaches_it(
    tmp_path: Path,
) -> None:
    limit = buy(order_type="limit", limit_price=D(100_000_000))
    prices = [
        BUY_BAR,
        (101_500_000, 101_800_000, 100_500_000, 101_000_000),  # stays above the limit
        (101_000_000, 101_000_000, 99_800_000, 100_200_000),  # trades through it
        (100_200_000, 100_300_000, 100_100_000, 100_200_000),
        (100_200_000, 100_300_000, 100_100_000, 100_200_000),
    ]
    result, store, decider = replay(tmp_path, prices, [limit])

    (fill,) = rows(store, "fills")
    assert (fill["side"], fill["price"], fill["volume"]) == ("bid", D(100_000_000), D("0.005"))
    assert fill["fee"] == D("1250.00")  # 500,000 at the 0.25 % maker rate
    assert fill["created_at"] == T0 + timedelta(minutes=2, seconds=30)
    assert [seen.position for seen in decider.seen] == [0, 0, D("0.005"), D("0.005")]
    assert result.results["final_equity_krw"] == D(498_750) + D("0.005") * D(100_200_000)
    (order,) = rows(store, "orders")
    assert order["state"] == "done"


def test_holes_are_counted_and_a_decision_waits_for_a_next_open(tmp_path: Path) -> None:
    result, _, decider = replay(tmp_path, flat_prices(10), [], skip=(3, 6, 7))

    data = result.to_dict()["data"]
    assert (data["candles_read"], data["gaps"], data["missing_candles"]) == (7, 2, 3)
    # Candles 2 and 5 have no next candle a minute later: their decisions move on.
    assert result.to_dict()["cycles"]["postponed_decisions"] == 2
    assert [seen.taken_at.minute for seen in decider.seen] == [1, 2, 5, 9]
    # Nothing was invented: the decision at 00:09 saw the four real candles before it.
    assert [c[0].minute for c in decider.seen[-1].candles] == [1, 2, 4, 5, 8]


def test_candles_before_the_window_only_warm_up_and_the_end_stops_reading(
    tmp_path: Path,
) -> None:
    prices = [(100_000_000 + i * 1_000_000,) * 4 for i in range(10)]
    result, _, decider = replay(
        tmp_path, prices, [],  # type: ignore[arg-type]
        start=T0 + timedelta(minutes=4), end=T0 + timedelta(minutes=8))

    assert result.window_start == T0 + timedelta(minutes=4)
    assert result.window_end == T0 + timedelta(minutes=8)
    data = result.to_dict()["data"]
    assert (data["warmup_candles"], data["candles_in_window"]) == (4, 4)
    assert [seen.taken_at.minute for seen in decider.seen] == [5, 6, 7]  # 7's next is 8
    assert decider.seen[0].features["count"] == 5  # four warm-up candles and one more
    assert result.results["buy_and_hold_return"] == D("0.02884615")  # 107e6 / 104e6 - 1


def test_a_strategy_interval_the_data_cannot_make_falls_back_with_a_warning(
    tmp_path: Path,
) -> None:
    data = write_csv(tmp_path / "h.csv", candle_rows(flat_prices(5), minutes=60))
    result, _ = run_backtest(config(strategy={"candle_interval": "15m"}), data,
                             ScriptedDecider())

    assert result.to_dict()["settings"]["candle_interval"] == "1h"
    assert any("cannot be built from 1h candles" in w for w in result.warnings)
    with pytest.raises(ConfigError, match="cannot decide every"):
        run_backtest(config(), data, ScriptedDecider(), decide_every=timedelta(minutes=1))
    with pytest.raises(ConfigError, match="no candle in the window"):
        run_backtest(config(), data, ScriptedDecider(), start=T0 + timedelta(days=9))


def test_a_wider_cadence_decides_on_the_clock(tmp_path: Path) -> None:
    data = write_csv(tmp_path / "m.csv", candle_rows(flat_prices(40), start=T0 + timedelta(
        minutes=3)))
    decider = ScriptedDecider([HOLD] * 5)
    run_backtest(config(), data, decider, decide_every=timedelta(minutes=15))

    assert [seen.taken_at.minute for seen in decider.seen] == [15, 30]
