"""Candle indicators, computed incrementally: O(1) work per candle.

A backtest replays tens of thousands of candles and asks for the features after each
one, so nothing here looks back over the whole history: every indicator keeps a small
running state (a recursion, or a rolling sum over a fixed window).

Conventions, chosen once so the prompt, the rules and the tests agree:

* EMAs (fast, slow, MACD signal) are seeded with the simple mean of their first N
  inputs, then follow ``ema += 2 / (N + 1) * (x - ema)``. Seeding with the SMA instead
  of the first value keeps the first outputs from leaning on a single candle.
* RSI and ATR are Wilder's: the first value is the plain mean of the first N changes
  (true ranges), then ``avg += (x - avg) / N``. Both need a previous close, so the
  first candle contributes no change and no true range; the first value appears at
  candle N + 1.
* RSI is 100 when there were gains but no losses, and 50 when the price did not move
  at all over the warm-up (no direction either way).
* ``volatility`` is the sample standard deviation (n - 1) of the last ``ema_slow``
  one-candle log returns, so it needs ``ema_slow + 1`` candles.
* ``volume_change`` compares the last volume with the mean of the ``ema_slow``
  volumes before it; it stays ``None`` while that mean is zero.

Values are floats: they are statistical estimates, not money (see ``market.model``).
Rolling sums are recomputed exactly from their window every so often, so rounding
errors from adding and subtracting cannot build up over a long replay.
"""

from __future__ import annotations

import copy
import math
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from ..config.models import StrategySection
from ..domain import Candle
from .model import CandleFeatures

_RESYNC_EVERY = 1024
"""Pushes between exact recomputations of a rolling window's running sums."""


@dataclass(frozen=True, slots=True)
class FeatureParams:
    """Window lengths of the indicators.

    ``return_horizons`` are three candle counts reported, in order, as ``return_1``,
    ``return_4`` and ``return_24`` of ``CandleFeatures`` (the field names are those of
    the default horizons). The slow EMA length is also the window of the SMA slow,
    volatility and volume-change baselines; the fast one that of the fast SMA.
    """

    ema_fast: int = 12
    ema_slow: int = 26
    rsi_period: int = 14
    atr_period: int = 14
    macd_signal: int = 9
    return_horizons: tuple[int, int, int] = (1, 4, 24)

    def __post_init__(self) -> None:
        periods = {"ema_fast": self.ema_fast, "rsi_period": self.rsi_period,
                   "atr_period": self.atr_period, "macd_signal": self.macd_signal}
        for name, value in periods.items():
            if value < 1:
                raise ValueError(f"{name} must be at least 1, got {value}")
        if self.ema_slow < 2:
            raise ValueError(f"ema_slow must be at least 2 (volatility), got {self.ema_slow}")
        if len(self.return_horizons) != 3 or min(self.return_horizons) < 1:
            raise ValueError(f"return_horizons must be three positive candle counts, "
                             f"got {self.return_horizons!r}")

    @classmethod
    def from_config(cls, strategy: StrategySection) -> FeatureParams:
        """Take the windows the rule strategy is configured with."""
        rules = strategy.rules
        return cls(ema_fast=rules.ema_fast, ema_slow=rules.ema_slow,
                   rsi_period=rules.rsi_period, atr_period=rules.atr_period)

    @property
    def warmup_candles(self) -> int:
        """How many candles it takes until every feature has a value.

        ``volume_change`` can stay ``None`` longer if the volumes were all zero.
        """
        return max(
            self.ema_slow + self.macd_signal - 1,  # MACD signal over MACD values
            self.ema_slow + 1,  # volatility and volume change need a previous value
            self.rsi_period + 1,
            self.atr_period + 1,
            max(self.return_horizons) + 1,
        )


class _SeededEma:
    """An exponential average seeded with the plain mean of its first ``period`` inputs.

    ``alpha`` is ``2 / (period + 1)`` for a classic EMA and ``1 / period`` for Wilder's
    smoothing (RSI, ATR).
    """

    __slots__ = ("_alpha", "_period", "_seed_sum", "_seen", "value")

    def __init__(self, period: int, alpha: float) -> None:
        self._period = period
        self._alpha = alpha
        self._seed_sum = 0.0
        self._seen = 0
        self.value: float | None = None

    def update(self, x: float) -> float | None:
        value = self.value
        if value is not None:
            value += self._alpha * (x - value)
            self.value = value
            return value
        self._seen += 1
        self._seed_sum += x
        if self._seen == self._period:
            self.value = self._seed_sum / self._period
        return self.value


class _RollingMean:
    """The mean of the last ``size`` values, from a running sum."""

    __slots__ = ("_since_resync", "_size", "_total", "_values")

    def __init__(self, size: int) -> None:
        self._size = size
        self._values: deque[float] = deque(maxlen=size)
        self._total = 0.0
        self._since_resync = 0

    def copy(self) -> _RollingMean:
        twin = copy.copy(self)
        twin._values = self._values.copy()
        return twin

    @property
    def mean(self) -> float | None:
        """``None`` until the window is full."""
        if len(self._values) < self._size:
            return None
        return self._total / self._size

    def push(self, x: float) -> None:
        values = self._values
        if len(values) == self._size:
            self._total -= values[0]  # append below drops it
        values.append(x)
        self._total += x
        self._since_resync += 1
        if self._since_resync >= _RESYNC_EVERY:
            self._total = math.fsum(values)
            self._since_resync = 0


class _RollingVariance:
    """Sample variance of the last ``size`` values (Welford's update, add and remove).

    Welford's form is used instead of a running sum of squares because the inputs are
    small log returns whose mean is close to zero, where ``E[x²] - E[x]²`` cancels badly.
    """

    __slots__ = ("_m2", "_mean", "_since_resync", "_size", "_values")

    def __init__(self, size: int) -> None:
        self._size = size
        self._values: deque[float] = deque(maxlen=size)
        self._mean = 0.0
        self._m2 = 0.0
        self._since_resync = 0

    def copy(self) -> _RollingVariance:
        twin = copy.copy(self)
        twin._values = self._values.copy()
        return twin

    @property
    def std(self) -> float | None:
        """``None`` until the window is full."""
        if len(self._values) < self._size:
            return None
        return math.sqrt(max(self._m2, 0.0) / (self._size - 1))

    def push(self, x: float) -> None:
        values = self._values
        mean = self._mean
        if len(values) < self._size:
            delta = x - mean
            mean += delta / (len(values) + 1)
            self._m2 += delta * (x - mean)
        else:
            old = values[0]
            new_mean = mean + (x - old) / self._size
            self._m2 += (x - old) * (x - new_mean + old - mean)
            mean = new_mean
        self._mean = mean
        values.append(x)
        self._since_resync += 1
        if self._since_resync >= _RESYNC_EVERY:
            self._resync()

    def _resync(self) -> None:
        values = self._values
        self._mean = math.fsum(values) / len(values)
        self._m2 = math.fsum((v - self._mean) ** 2 for v in values)
        self._since_resync = 0


class FeatureCalculator:
    """Candle features updated one candle at a time.

    Push candles oldest first; ``features()`` describes everything pushed so far and
    nothing else, so features at a candle never depend on later candles.
    """

    def __init__(self, params: FeatureParams) -> None:
        self.params = params
        slow = params.ema_slow
        self._count = 0
        self._closes: deque[float] = deque(maxlen=max(params.return_horizons) + 1)
        self._sma_fast = _RollingMean(params.ema_fast)
        self._sma_slow = _RollingMean(slow)
        self._ema_fast = _SeededEma(params.ema_fast, 2.0 / (params.ema_fast + 1))
        self._ema_slow = _SeededEma(slow, 2.0 / (slow + 1))
        self._signal = _SeededEma(params.macd_signal, 2.0 / (params.macd_signal + 1))
        self._avg_gain = _SeededEma(params.rsi_period, 1.0 / params.rsi_period)
        self._avg_loss = _SeededEma(params.rsi_period, 1.0 / params.rsi_period)
        self._atr = _SeededEma(params.atr_period, 1.0 / params.atr_period)
        self._log_returns = _RollingVariance(slow)
        self._volumes = _RollingMean(slow)
        self._macd: float | None = None
        self._macd_signal: float | None = None
        self._volume_change: float | None = None
        self._cached: CandleFeatures | None = CandleFeatures(count=0)

    @property
    def count(self) -> int:
        """Number of candles pushed."""
        return self._count

    def copy(self) -> FeatureCalculator:
        """An independent twin in the same state: push to it without touching this one.

        A live run keeps the closed candles in one calculator and asks a copy for the
        features with the still-open candle, which changes until it closes.
        """
        twin = copy.copy(self)
        twin._closes = self._closes.copy()
        twin._sma_fast = self._sma_fast.copy()
        twin._sma_slow = self._sma_slow.copy()
        twin._volumes = self._volumes.copy()
        twin._log_returns = self._log_returns.copy()
        # The EMAs hold only floats, so a shallow copy is a full one.
        twin._ema_fast = copy.copy(self._ema_fast)
        twin._ema_slow = copy.copy(self._ema_slow)
        twin._signal = copy.copy(self._signal)
        twin._avg_gain = copy.copy(self._avg_gain)
        twin._avg_loss = copy.copy(self._avg_loss)
        twin._atr = copy.copy(self._atr)
        return twin

    def push(self, candle: Candle) -> None:
        """Add the next candle (the one after the last pushed)."""
        self.push_values(float(candle.high), float(candle.low), float(candle.close),
                         float(candle.volume))

    def push_values(self, high: float, low: float, close: float, volume: float) -> None:
        """Add the next candle as plain floats (a replay that already holds floats)."""
        if not close > 0:  # also catches NaN
            raise ValueError(f"candle close must be positive, got {close!r}")
        closes = self._closes
        prev_close = closes[-1] if closes else None
        closes.append(close)
        self._count += 1
        self._cached = None
        self._update_trend(close)
        self._update_volume(volume)
        if prev_close is not None:
            self._update_momentum(high, low, close, prev_close)

    def _update_trend(self, close: float) -> None:
        self._sma_fast.push(close)
        self._sma_slow.push(close)
        fast = self._ema_fast.update(close)
        slow = self._ema_slow.update(close)
        if fast is not None and slow is not None:
            self._macd = fast - slow
            self._macd_signal = self._signal.update(self._macd)

    def _update_volume(self, volume: float) -> None:
        baseline = self._volumes.mean  # the slow window before this candle
        self._volume_change = volume / baseline - 1.0 if baseline else None
        self._volumes.push(volume)

    def _update_momentum(self, high: float, low: float, close: float, prev: float) -> None:
        change = close - prev
        self._avg_gain.update(change if change > 0 else 0.0)
        self._avg_loss.update(-change if change < 0 else 0.0)
        true_range = max(high - low, abs(high - prev), abs(low - prev))
        self._atr.update(true_range)
        self._log_returns.push(math.log(close / prev))

    def features(self) -> CandleFeatures:
        """The indicators after the last pushed candle (cached until the next push)."""
        cached = self._cached
        if cached is None:
            cached = self._cached = self._build_features()
        return cached

    def _build_features(self) -> CandleFeatures:
        close = self._closes[-1]
        short, medium, long_ = (self._return(h) for h in self.params.return_horizons)
        atr = self._atr.value
        macd, signal = self._macd, self._macd_signal
        return CandleFeatures(
            count=self._count,
            close=close,
            return_1=short,
            return_4=medium,
            return_24=long_,
            volatility=self._log_returns.std,
            atr=atr,
            atr_pct=None if atr is None else atr / close,
            rsi=self._rsi(),
            sma_fast=self._sma_fast.mean,
            sma_slow=self._sma_slow.mean,
            ema_fast=self._ema_fast.value,
            ema_slow=self._ema_slow.value,
            macd=macd,
            macd_signal=signal,
            macd_hist=None if macd is None or signal is None else macd - signal,
            volume_change=self._volume_change,
        )

    def _return(self, horizon: int) -> float | None:
        closes = self._closes
        if len(closes) <= horizon:
            return None
        return closes[-1] / closes[-1 - horizon] - 1.0

    def _rsi(self) -> float | None:
        gain, loss = self._avg_gain.value, self._avg_loss.value
        if gain is None or loss is None:
            return None
        if loss == 0.0:
            return 100.0 if gain > 0.0 else 50.0
        return 100.0 - 100.0 / (1.0 + gain / loss)


def compute_features(candles: Iterable[Candle], params: FeatureParams) -> CandleFeatures:
    """Features after pushing ``candles`` (oldest first) into a fresh calculator."""
    calculator = FeatureCalculator(params)
    for candle in candles:
        calculator.push(candle)
    return calculator.features()
