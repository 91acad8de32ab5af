"""Features against values computed by hand on an eight-candle series."""

from __future__ import annotations

import math
from dataclasses import fields

import pytest

from bithumb_llm_trader.config.models import RuleParams, StrategySection
from bithumb_llm_trader.market import (
    CandleFeatures,
    FeatureCalculator,
    FeatureParams,
    compute_features,
)

from ._factories import candle, flat_candles

# Windows of 3 (2 for the fast EMA/SMA and the MACD signal) so every number below can
# be checked with pencil and paper.
PARAMS = FeatureParams(ema_fast=2, ema_slow=3, rsi_period=3, atr_period=3, macd_signal=2)

#        high    low    close  volume
SERIES = [
    candle(0, "10.5", "9.5", "10", "1"),
    candle(1, "11.5", "10.5", "11", "2"),
    candle(2, "12.5", "11", "12", "3"),
    candle(3, "13", "12", "13", "2"),
    candle(4, "13", "10.5", "11", "4"),
    candle(5, "13.5", "12", "13", "3"),
    candle(6, "14.5", "13", "14", "2"),
    candle(7, "15.5", "14", "15", "6"),
]
# closes 10, 11, 12, 13, 11, 13, 14, 15; changes from candle 2: +1 +1 +1 -2 +2 +1 +1


def history(params: FeatureParams = PARAMS) -> list[CandleFeatures]:
    calculator = FeatureCalculator(params)
    out = []
    for item in SERIES:
        calculator.push(item)
        out.append(calculator.features())
    return out


def column(name: str) -> list[float | None]:
    return [getattr(features, name) for features in history()]


def approx_list(values: list[float | None]) -> list[object]:
    return [None if v is None else pytest.approx(v, rel=1e-12, abs=1e-12) for v in values]


def test_ema_fast_is_seeded_with_sma_then_alpha_two_thirds() -> None:
    # seed at candle 2: (10 + 11) / 2 = 10.5; then ema += 2/3 * (close - ema)
    # 10.5 + 2/3*1.5 = 11.5; + 2/3*1.5 = 12.5; + 2/3*(-1.5) = 11.5; 12.5; 13.5; 14.5
    assert column("ema_fast") == approx_list([None, 10.5, 11.5, 12.5, 11.5, 12.5, 13.5, 14.5])


def test_ema_slow_is_seeded_with_sma_then_alpha_one_half() -> None:
    # seed at candle 3: (10 + 11 + 12) / 3 = 11; then ema += 1/2 * (close - ema)
    # 11 + 1 = 12; 12 - 0.5 = 11.5; 11.5 + 0.75 = 12.25; + 0.875 = 13.125; + 0.9375
    expected = [None, None, 11.0, 12.0, 11.5, 12.25, 13.125, 14.0625]
    assert column("ema_slow") == approx_list(expected)


def test_macd_signal_and_histogram() -> None:
    # macd = fast - slow: 0.5, 0.5, 0, 0.25, 0.375, 0.4375 from candle 3
    assert column("macd") == approx_list([None, None, 0.5, 0.5, 0.0, 0.25, 0.375, 0.4375])
    # signal (2): seed (0.5 + 0.5) / 2 = 0.5 at candle 4, then += 2/3 * (macd - signal):
    # 0.5 - 1/3 = 1/6; 1/6 + 2/3*(1/4 - 1/6) = 2/9; 2/9 + 2/3*(3/8 - 2/9) = 35/108;
    # 35/108 + 2/3*(7/16 - 35/108) = 35/108 + 49/648 = 259/648
    signal = [None, None, None, 0.5, 1 / 6, 2 / 9, 35 / 108, 259 / 648]
    assert column("macd_signal") == approx_list(signal)
    # hist = 7/16 - 259/648 = 567/1296 - 518/1296 = 49/1296
    assert history()[-1].macd_hist == pytest.approx(49 / 1296, rel=1e-12)


def test_sma_over_rolling_windows() -> None:
    # fast (2): (10+11)/2, (11+12)/2, ...; slow (3): (10+11+12)/3, (11+12+13)/3, ...
    assert column("sma_fast") == approx_list([None, 10.5, 11.5, 12.5, 12, 12, 13.5, 14.5])
    slow = [None, None, 11, 12, 12, 37 / 3, 38 / 3, 14]
    assert column("sma_slow") == approx_list(slow)


def test_wilder_rsi() -> None:
    # seed over the first 3 changes (+1 +1 +1): gain 1, loss 0 -> 100
    # -2: gain 1 + (0 - 1)/3 = 2/3, loss 0 + (2 - 0)/3 = 2/3 -> RS 1 -> 50
    # +2: gain 2/3 + (2 - 2/3)/3 = 10/9, loss 2/3 - (2/3)/3 = 4/9 -> RS 5/2 -> 100 - 100/3.5
    # +1: gain 10/9 + (1 - 10/9)/3 = 29/27, loss 4/9 - 4/27 = 8/27 -> RS 29/8 -> 2900/37
    # +1: gain 29/27 + (1 - 29/27)/3 = 85/81, loss 8/27 - 8/81 = 16/81 -> RS 85/16 -> 8500/101
    expected = [None, None, None, 100.0, 50.0, 100 - 100 / 3.5, 2900 / 37, 8500 / 101]
    assert column("rsi") == approx_list(expected)


def test_wilder_atr() -> None:
    # true ranges from candle 2 (prev close c): max(h - l, |h - c|, |l - c|)
    # 2: max(1, 1.5, 0.5) = 1.5   3: max(1.5, 1.5, 0) = 1.5   4: max(1, 1, 0) = 1
    # 5: max(2.5, 0, 2.5) = 2.5   6: max(1.5, 2.5, 1) = 2.5 (gap from 11 to 13)
    # 7: max(1.5, 1.5, 0) = 1.5   8: max(1.5, 1.5, 0) = 1.5
    # seed (1.5 + 1.5 + 1) / 3 = 4/3; then atr += (tr - atr) / 3:
    # 4/3 + (5/2 - 4/3)/3 = 31/18; 31/18 + (5/2 - 31/18)/3 = 107/54;
    # 107/54 + (3/2 - 107/54)/3 = 295/162; 295/162 + (3/2 - 295/162)/3 = 833/486
    expected = [None, None, None, 4 / 3, 31 / 18, 107 / 54, 295 / 162, 833 / 486]
    assert column("atr") == approx_list(expected)
    assert history()[-1].atr_pct == pytest.approx(833 / 486 / 15, rel=1e-12)


def test_returns_over_horizons() -> None:
    last = history()[-1]
    assert last.close == 15.0
    assert last.return_1 == pytest.approx(15 / 14 - 1)  # 1/14
    assert last.return_4 == pytest.approx(15 / 13 - 1)  # vs candle 4's close 13: 2/13
    assert last.return_24 is None  # 8 candles cannot look back 24
    assert column("return_4")[:4] == [None] * 4  # needs 5 closes


def test_volatility_is_sample_std_of_log_returns_over_slow_window() -> None:
    # last 3 one-candle log returns: ln(13/11), ln(14/13), ln(15/14)
    returns = [math.log(13 / 11), math.log(14 / 13), math.log(15 / 14)]
    mean = sum(returns) / 3
    expected = math.sqrt(sum((r - mean) ** 2 for r in returns) / (3 - 1))
    assert history()[-1].volatility == pytest.approx(expected, rel=1e-12)
    # the first value needs 3 returns, i.e. 4 candles
    assert column("volatility")[:3] == [None, None, None]
    first = [math.log(11 / 10), math.log(12 / 11), math.log(13 / 12)]
    first_mean = sum(first) / 3
    first_std = math.sqrt(sum((r - first_mean) ** 2 for r in first) / 2)
    assert column("volatility")[3] == pytest.approx(first_std, rel=1e-12)


def test_volume_change_against_mean_of_previous_slow_window() -> None:
    # candle 4: 2 / mean(1, 2, 3) - 1 = 0; candle 5: 4 / mean(2, 3, 2) - 1 = 5/7;
    # candle 8: 6 / mean(4, 3, 2) - 1 = 1
    changes = column("volume_change")
    assert changes[:3] == [None, None, None]
    assert changes[3] == pytest.approx(0.0)
    assert changes[4] == pytest.approx(4 / (7 / 3) - 1)
    assert changes[7] == pytest.approx(1.0)


def test_volume_change_stays_none_while_baseline_volume_is_zero() -> None:
    calculator = FeatureCalculator(PARAMS)
    for index in range(5):
        calculator.push(candle(index, "101", "99", "100", "0"))
    assert calculator.features().volume_change is None


def test_flat_prices_give_neutral_rsi_and_zero_volatility() -> None:
    features = compute_features(flat_candles(40), FeatureParams())
    assert features.rsi == 50.0
    assert features.volatility == 0.0
    assert features.atr == 0.0
    assert features.macd == 0.0


def test_rising_prices_give_rsi_100() -> None:
    rising = [candle(i, str(101 + i), str(99 + i), str(100 + i)) for i in range(10)]
    assert compute_features(rising, PARAMS).rsi == 100.0


def test_nothing_pushed_gives_count_zero_and_all_none() -> None:
    features = FeatureCalculator(PARAMS).features()
    assert features.count == 0
    assert all(getattr(features, f.name) is None for f in fields(features) if f.name != "count")


def test_count_and_features_cached_until_next_push() -> None:
    calculator = FeatureCalculator(PARAMS)
    calculator.push(SERIES[0])
    first = calculator.features()
    assert calculator.count == 1 and first.count == 1
    assert calculator.features() is first
    calculator.push(SERIES[1])
    assert calculator.features() is not first and calculator.count == 2


def test_compute_features_equals_pushing_one_by_one() -> None:
    assert compute_features(SERIES, PARAMS) == history()[-1]


def test_all_features_present_exactly_at_warmup() -> None:
    params = FeatureParams()
    candles = [candle(i, str(101 + i % 7), str(97 + i % 5), str(99 + i % 6), str(1 + i % 3))
               for i in range(params.warmup_candles)]
    before = compute_features(candles[:-1], params)
    after = compute_features(candles, params)
    values = [getattr(after, f.name) for f in fields(after)]
    assert None not in values
    assert None in [getattr(before, f.name) for f in fields(before)]


def test_non_positive_close_is_refused() -> None:
    calculator = FeatureCalculator(PARAMS)
    with pytest.raises(ValueError, match="close must be positive"):
        calculator.push(candle(0, "1", "0", "0"))
    with pytest.raises(ValueError, match="close must be positive"):
        calculator.push_values(1.0, 0.5, math.nan, 1.0)
    assert calculator.count == 0


def test_params_from_config_take_the_rule_windows() -> None:
    section = StrategySection(rules=RuleParams(ema_fast=5, ema_slow=20, rsi_period=9,
                                               atr_period=21))
    params = FeatureParams.from_config(section)
    assert (params.ema_fast, params.ema_slow, params.rsi_period, params.atr_period) == (
        5, 20, 9, 21)
    assert params.macd_signal == 9 and params.return_horizons == (1, 4, 24)
    assert params.warmup_candles == 28  # 20 + 9 - 1 for the MACD signal


@pytest.mark.parametrize(
    "kwargs",
    [{"ema_fast": 0}, {"ema_slow": 1}, {"rsi_period": 0}, {"atr_period": 0},
     {"macd_signal": 0}, {"return_horizons": (1, 0, 24)}, {"return_horizons": (1, 4)}],
)
def test_invalid_params_are_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        FeatureParams(**kwargs)  # type: ignore[arg-type]
