"""Features of a long-running live or dry run, kept up to date from cycle to cycle.

Every cycle fetches the last ``candle_count`` candles, and all but the newest are
the previous cycle's series moved on by a candle or two. ``LiveFeatures`` keeps a
``FeatureCalculator`` over the closed candles it has seen and pushes only the ones
that are new (by start time), so a cycle costs O(new candles) instead of
O(``candle_count``), as in a backtest.

The newest candle is still open: its prices change until it closes, so it is never
pushed into the kept calculator, only into a copy of it.

What the features describe: every candle pushed since the calculator was last built,
not just the current fetch. The windowed figures (SMAs, returns, volatility, volume
change) are the same either way; the EMAs, MACD, RSI and ATR are seeded earlier, the
way a backtest seeds them at the start of its data. They equal exactly
``compute_features`` over that history plus the open candle. The calculator is built
again from the fetched candles when the series does not continue the one it has seen:
the first cycle, a gap longer than the fetch, or a changed last closed candle.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..domain import Candle
from .features import FeatureCalculator, FeatureParams
from .model import CandleFeatures


class LiveFeatures:
    """One engine's features, fed only the candles that closed since its last cycle.

    Not shared between engines: each strategy has its own windows and its own series.
    """

    def __init__(self, params: FeatureParams) -> None:
        self.params = params
        self.rebuilds = 0  # builds from scratch, the first cycle's included
        self._closed: FeatureCalculator | None = None
        self._last: Candle | None = None

    def features(self, candles: Sequence[Candle]) -> CandleFeatures:
        """The features after ``candles``, oldest first, one per start, none in the future.

        That is ``candles_until``'s output: everything but the last one has closed.
        """
        if not candles:
            self._closed, self._last = None, None
            return FeatureCalculator(self.params).features()
        closed = candles[:-1]
        calculator = self._continue(closed)
        if calculator is None:
            calculator = self._rebuild(closed)
        with_open = calculator.copy()
        with_open.push(candles[-1])
        return with_open.features()

    def _continue(self, closed: Sequence[Candle]) -> FeatureCalculator | None:
        """Push the candles after the last one seen; None if the series does not go on.

        The search starts from the end: the last candle seen is usually one or two back.
        """
        calculator, last = self._closed, self._last
        if calculator is None or last is None:
            return None
        for index in range(len(closed) - 1, -1, -1):
            here = closed[index]
            if here.start > last.start:
                continue
            if here != last:
                return None  # an older start only (a gap), or the candle was revised
            try:
                for candle in closed[index + 1:]:
                    calculator.push(candle)
            except BaseException:
                self._closed = None  # half pushed: start over next time
                raise
            if index + 1 < len(closed):
                self._last = closed[-1]
            return calculator
        return None

    def _rebuild(self, closed: Sequence[Candle]) -> FeatureCalculator:
        calculator = FeatureCalculator(self.params)
        for candle in closed:
            calculator.push(candle)
        self._closed = calculator
        self._last = closed[-1] if closed else None
        self.rebuilds += 1
        return calculator
