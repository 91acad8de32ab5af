"""Walk-forward folds: consecutive windows, parameters chosen in-sample, scored after.

The span from the first candle to the end of the last is cut so that the
out-of-sample parts follow each other without overlap and end with the data::

    |------- in-sample 1 -------|-- out 1 --|
                |------- in-sample 2 -------|-- out 2 --|
                            |------- in-sample 3 -------|-- out 3 --|

Each in-sample part is ``ratio / (1 - ratio)`` times an out-of-sample part, so with K
folds the span holds ``K + ratio / (1 - ratio)`` out-of-sample lengths. A fold's
in-sample part ends exactly where its out-of-sample part starts: the backtest of the
in-sample part reads no candle starting at or after that moment (``--to`` semantics),
so no out-of-sample candle is ever seen while choosing. Boundaries fall on whole
multiples of the candle length.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ..errors import ConfigError


@dataclass(frozen=True, slots=True)
class Fold:
    """One fold: ``[in_start, in_end)`` chooses, ``[in_end, out_end)`` scores."""

    number: int
    in_start: datetime
    in_end: datetime
    out_end: datetime

    @property
    def out_start(self) -> datetime:
        return self.in_end


def walk_forward(first: datetime, end: datetime, folds: int, ratio: float,
                 candle: timedelta) -> list[Fold]:
    """The folds over ``[first, end)`` for candles of length ``candle``.

    Raises:
        ConfigError: too few candles for the folds asked for (each part needs two).
    """
    candles = (end - first) // candle
    in_share = ratio / (1 - ratio)
    out_len = int(candles / (folds + in_share))
    in_len = candles - folds * out_len
    if out_len < 2 or in_len < 2:
        raise ConfigError(f"{candles} candles are too few for {folds} walk-forward folds")
    result = []
    for number in range(folds):
        out_start = first + (in_len + number * out_len) * candle
        result.append(Fold(number=number + 1, in_start=out_start - in_len * candle,
                           in_end=out_start, out_end=out_start + out_len * candle))
    return result
