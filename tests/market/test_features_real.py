"""Features over real Upbit KRW-BTC minute candles (skipped when the data is absent)."""

from __future__ import annotations

import math
import statistics
from datetime import timedelta
from itertools import pairwise

import pytest

from bithumb_llm_trader.domain import Candle
from bithumb_llm_trader.market import (
    CandleFeatures,
    FeatureCalculator,
    FeatureParams,
    candles_until,
    compute_features,
)

from ._factories import load_minute_candles

PARAMS = FeatureParams()  # the defaults: 12/26 EMA, RSI 14, ATR 14, MACD signal 9
CHECKPOINTS = (1, 26, 27, 34, 35, 999, 5_000, 20_000)


@pytest.fixture(scope="module")
def candles() -> list[Candle]:
    return load_minute_candles()


@pytest.fixture(scope="module")
def incremental(candles: list[Candle]) -> list[CandleFeatures]:
    calculator = FeatureCalculator(PARAMS)
    out = []
    for item in candles:
        calculator.push(item)
        out.append(calculator.features())
    return out


def test_rsi_in_range_and_atr_positive_throughout(incremental: list[CandleFeatures]) -> None:
    warm = incremental[PARAMS.warmup_candles - 1:]
    assert len(warm) > 40_000
    assert all(f.rsi is not None and 0.0 <= f.rsi <= 100.0 for f in warm)
    assert all(f.atr is not None and f.atr > 0 for f in warm)
    assert all(f.volatility is not None and f.volatility >= 0 for f in warm)
    assert min(f.rsi for f in warm if f.rsi is not None) < 30  # it does move
    assert max(f.rsi for f in warm if f.rsi is not None) > 70


def test_incremental_equals_batch_and_ignores_later_candles(
    candles: list[Candle], incremental: list[CandleFeatures]
) -> None:
    # Each incremental value was produced with every later candle still to come; a batch
    # over the prefix only must give the very same numbers.
    for count in CHECKPOINTS:
        assert compute_features(candles[:count], PARAMS) == incremental[count - 1]


def test_features_at_a_time_ignore_candles_after_it(candles: list[Candle]) -> None:
    taken_at = candles[5_000].start + timedelta(seconds=30)  # inside candle 5,000
    kept = candles_until(reversed(candles[:6_000]), taken_at)  # newest first, future too
    assert kept == tuple(candles[:5_001])
    assert compute_features(kept, PARAMS) == compute_features(candles[:5_001], PARAMS)


@pytest.mark.parametrize("count", [5_000, 20_000])
def test_rolling_state_matches_direct_computation(candles: list[Candle], count: int) -> None:
    """Running sums after thousands of add/remove steps agree with a from-scratch sum."""
    features = compute_features(candles[:count], PARAMS)
    closes = [float(c.close) for c in candles[:count]]
    volumes = [float(c.volume) for c in candles[:count]]
    slow, fast = PARAMS.ema_slow, PARAMS.ema_fast
    log_returns = [math.log(b / a) for a, b in pairwise(closes[-slow - 1:])]
    assert features.volatility == pytest.approx(statistics.stdev(log_returns), rel=1e-9)
    assert features.sma_slow == pytest.approx(statistics.fmean(closes[-slow:]), rel=1e-12)
    assert features.sma_fast == pytest.approx(statistics.fmean(closes[-fast:]), rel=1e-12)
    baseline = statistics.fmean(volumes[-slow - 1:-1])
    assert features.volume_change == pytest.approx(volumes[-1] / baseline - 1, rel=1e-9)
    assert features.return_24 == pytest.approx(closes[-1] / closes[-25] - 1, rel=1e-12)
    assert features.ema_slow == pytest.approx(_ema(closes, slow), rel=1e-12)
    assert features.rsi == pytest.approx(_wilder_rsi(closes, PARAMS.rsi_period), rel=1e-9)


def _ema(values: list[float], period: int) -> float:
    ema = sum(values[:period]) / period
    for value in values[period:]:
        ema = ema * (1 - 2 / (period + 1)) + value * 2 / (period + 1)
    return ema


def _wilder_rsi(closes: list[float], period: int) -> float:
    changes = [b - a for a, b in pairwise(closes)]
    gain = sum(max(c, 0.0) for c in changes[:period]) / period
    loss = sum(max(-c, 0.0) for c in changes[:period]) / period
    for change in changes[period:]:
        gain = (gain * (period - 1) + max(change, 0.0)) / period
        loss = (loss * (period - 1) + max(-change, 0.0)) / period
    return 100 - 100 / (1 + gain / loss)
