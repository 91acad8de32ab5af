"""Strategy bars built from the file's candles: aligned, complete, never invented."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from bithumb_llm_trader.backtest.bars import BarBuilder, bar_start
from bithumb_llm_trader.domain import Candle

from .helpers import T0

D = Decimal
MINUTE = timedelta(minutes=1)


def candle(minute: int, open_: int, high: int, low: int, close: int, volume: str = "1") -> Candle:
    return Candle(T0 + minute * MINUTE, D(open_), D(high), D(low), D(close), D(volume),
                  value=D(10))


def test_fifteen_minutes_fold_into_one_bar_handed_out_at_its_last_candle() -> None:
    builder = BarBuilder(MINUTE, timedelta(minutes=15))
    done = []
    for minute in range(15):
        done += builder.add(candle(minute, 100 + minute, 105 + minute, 95 - minute,
                                   101 + minute, "0.5"))
        if minute < 14:
            assert done == []

    (bar,) = done
    assert bar == Candle(T0, D(100), D(119), D(81), D(115), D("7.5"), value=D(150))


def test_a_hole_closes_the_bar_when_a_later_candle_arrives() -> None:
    builder = BarBuilder(MINUTE, timedelta(minutes=5))
    assert builder.add(candle(3, 10, 12, 9, 11)) == []  # a bar starting mid-way
    assert builder.add(candle(4, 11, 13, 10, 12)) == [
        Candle(T0, D(10), D(13), D(9), D(12), D(2), value=D(20))]
    assert builder.add(candle(5, 12, 12, 12, 12)) == []
    # Minutes 6 to 9 are missing: the 00:05 bar is handed out as it is, with one candle.
    (late,) = builder.add(candle(11, 20, 21, 19, 20))
    assert late == Candle(T0 + 5 * MINUTE, D(12), D(12), D(12), D(12), D(1), value=D(10))


def test_bars_are_aligned_on_the_utc_clock() -> None:
    assert bar_start(T0 + timedelta(minutes=37), timedelta(minutes=15)) == T0 + 30 * MINUTE
    assert bar_start(T0 + timedelta(hours=5), timedelta(days=1)) == T0


def test_equal_lengths_pass_candles_through_and_odd_lengths_are_refused() -> None:
    builder = BarBuilder(MINUTE, MINUTE)
    assert builder.add(candle(0, 1, 2, 1, 2)) == [candle(0, 1, 2, 1, 2)]
    with pytest.raises(ValueError, match="cannot be built"):
        BarBuilder(timedelta(minutes=3), timedelta(minutes=10))
