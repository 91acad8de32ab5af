"""``LiveFeatures``: cycle after cycle, exactly the features of a full recompute.

The full recompute a live run's features must equal is ``compute_features`` over every
closed candle seen since the calculator was last built, plus the open candle; a
series that does not continue the previous one starts that history over from the
current fetch. ``Cycles`` below tracks that history independently of the code.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field, replace
from datetime import timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from bithumb_llm_trader.bootstrap.engines import live_snapshot
from bithumb_llm_trader.clock import ManualClock
from bithumb_llm_trader.domain import Candle
from bithumb_llm_trader.market import (
    FeatureCalculator,
    FeatureParams,
    LiveFeatures,
    collect_snapshot,
    compute_features,
)

from ._factories import T0, balance, candle, load_minute_candles
from .test_snapshot import CONFIG, FakeExchange

SMALL = FeatureParams(ema_fast=3, ema_slow=5, rsi_period=4, atr_period=4, macd_signal=3)


def still_open(closed: Candle, fraction: Decimal) -> Candle:
    """``closed`` as it looked before it closed: part of its volume, another last price."""
    close = closed.low + (closed.high - closed.low) * fraction
    return replace(closed, close=close, volume=closed.volume * fraction)


@dataclass
class Cycles:
    """Feeds fetches to a ``LiveFeatures`` and to the reference recompute side by side."""

    params: FeatureParams
    live: LiveFeatures = field(init=False)
    history: list[Candle] = field(default_factory=list)
    rebuilds: int = 0

    def __post_init__(self) -> None:
        self.live = LiveFeatures(self.params)

    def fetch(self, window: list[Candle]) -> None:
        closed = window[:-1]
        seen = self.history[-1] if self.history else None
        if seen is not None and seen in closed:
            self.history.extend(closed[closed.index(seen) + 1:])
        else:
            self.history = list(closed)
            self.rebuilds += 1
        assert self.live.features(window) == compute_features([*self.history, window[-1]],
                                                              self.params)
        assert self.live.rebuilds == self.rebuilds


def test_identical_to_a_full_recompute_over_real_minutes() -> None:
    candles = load_minute_candles()
    rng = random.Random(19)
    cycles, count, end = Cycles(FeatureParams()), 200, 250
    for _ in range(150):
        step = rng.choice((0, 1, 1, 1, 2, 3, 250))  # 250: a gap longer than the fetch
        end = min(end + step, len(candles) - 1)
        window = candles[end - count:end]
        fraction = Decimal(rng.randint(0, 100)) / 100
        cycles.fetch([*window, still_open(candles[end], fraction)])
    assert 1 < cycles.rebuilds < 150
    assert len(cycles.history) > count  # it did carry on past one fetch


def test_the_first_fetch_is_the_plain_recompute() -> None:
    series = [candle(i, str(105 + i % 3), "95", str(100 + i % 7), str(1 + i % 4))
              for i in range(60)]
    assert LiveFeatures(SMALL).features(series) == compute_features(series, SMALL)


def test_a_revised_closed_candle_starts_over() -> None:
    series = [candle(i, "110", "90", str(100 + i % 5)) for i in range(40)]
    cycles = Cycles(SMALL)
    cycles.fetch(series[:30])
    revised = [*series[1:28], replace(series[28], close=Decimal(101)), series[29], series[30]]
    cycles.fetch(revised)
    assert cycles.rebuilds == 2


def test_no_candles_and_one_candle() -> None:
    live = LiveFeatures(SMALL)
    assert live.features([]) == FeatureCalculator(SMALL).features()
    one = [candle(0, "110", "90", "100")]
    assert live.features(one) == compute_features(one, SMALL)
    two = [*one, candle(1, "110", "90", "104")]
    assert live.features(two) == compute_features(two, SMALL)


moves = st.lists(st.integers(min_value=-30, max_value=30), min_size=12, max_size=90)
fetches = st.lists(st.tuples(st.integers(min_value=0, max_value=30),
                             st.integers(min_value=0, max_value=100)), min_size=1, max_size=25)


@settings(max_examples=60, deadline=None)
@given(moves=moves, fetches=fetches, size=st.integers(min_value=2, max_value=15))
def test_identical_to_a_full_recompute_on_generated_series(
        moves: list[int], fetches: list[tuple[int, int]], size: int) -> None:
    closes = [1000]
    for move in moves:
        closes.append(max(1, closes[-1] + move))
    series = [candle(i, str(c + 5), str(max(c - 5, 1)), str(c), str(1 + i % 4))
              for i, c in enumerate(closes)]
    cycles, end = Cycles(SMALL), size
    for step, percent in fetches:
        end = min(end + step, len(series) - 1)
        window = series[max(end - size, 0):end]
        cycles.fetch([*window, still_open(series[end], Decimal(percent) / 100)])


def test_a_copy_moves_on_alone() -> None:
    calculator = FeatureCalculator(SMALL)
    for i in range(20):
        calculator.push(candle(i, "110", "90", str(100 + i % 6)))
    before = calculator.features()
    twin = calculator.copy()
    twin.push(candle(20, "120", "80", "117"))
    assert calculator.features() == before
    calculator.push(candle(20, "120", "80", "117"))
    assert twin.features() == calculator.features()


def test_collect_snapshot_pushes_only_the_new_candles() -> None:
    clock = ManualClock(T0 + timedelta(minutes=60))
    series = [candle(i, str(105 + i % 3), "95", str(100 + i % 7), str(1 + i % 4),
                     minutes=1) for i in range(70)]
    exchange = FakeExchange(clock, [balance("KRW", "1000")], series[20:60], delay=0)
    live = LiveFeatures(FeatureParams.from_config(CONFIG.strategy))
    first = asyncio.run(collect_snapshot(exchange, CONFIG, clock, live))
    clock.advance(120)
    exchange.candles_answer = series[22:62]
    second = asyncio.run(collect_snapshot(exchange, CONFIG, clock, live))
    params = FeatureParams.from_config(CONFIG.strategy)
    assert first.features == compute_features(series[20:60], params)
    assert second.features == compute_features(series[20:62], params)
    assert live.rebuilds == 1



def test_an_engines_default_snapshot_keeps_its_features_between_cycles() -> None:
    clock = ManualClock(T0 + timedelta(minutes=60))
    series = [candle(i, str(105 + i % 3), "95", str(100 + i % 7), str(1 + i % 4))
              for i in range(70)]
    exchange = FakeExchange(clock, [balance("KRW", "1000")], series[20:60], delay=0)
    provider = live_snapshot(CONFIG, exchange, clock)  # type: ignore[arg-type]
    asyncio.run(provider())
    clock.advance(120)
    exchange.candles_answer = series[22:62]
    second = asyncio.run(provider())
    params = FeatureParams.from_config(CONFIG.strategy)
    assert second.features == compute_features(series[20:62], params)
    assert second.features != compute_features(series[22:62], params)  # not recomputed
