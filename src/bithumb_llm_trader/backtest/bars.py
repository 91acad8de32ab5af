"""Folding the file's candles into the strategy's candles (1m into 15m, say).

A live cycle asks the exchange for ``strategy.candle_interval`` candles; a backtest
of a 15-minute strategy on a 1-minute file must see the same 15-minute candles. Bars
are aligned on whole multiples of their length since the epoch in UTC (15m bars start
at :00, :15, :30 and :45; daily bars at 00:00 UTC, as Bithumb's and Upbit's daily
candles do). A bar is handed out only once it is complete: when the candle that ends
it arrives, or, when the data has a hole, when a candle of a later bar arrives. Missing
minutes are not invented: the bar is built from the candles that exist.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from ..domain import UTC, Candle

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NO_BAR = datetime.min.replace(tzinfo=UTC)  # no candle starts before it


def bar_start(moment: datetime, length: timedelta) -> datetime:
    """Start of the ``length`` bar that ``moment`` falls in (UTC epoch alignment)."""
    return moment - (moment - _EPOCH) % length


class BarBuilder:
    """Accumulates candles of one length into bars of a longer (or equal) length."""

    def __init__(self, candle: timedelta, bar: timedelta) -> None:
        if bar < candle or bar % candle:
            raise ValueError(f"bars of {bar} cannot be built from candles of {candle}")
        self._candle = candle
        self._bar = bar
        self._open: Candle | None = None  # the bar's first candle; None between bars
        self._end = _EPOCH
        self._last_start = _NO_BAR  # start of the bar's last candle (_NO_BAR between bars)
        self._high = self._low = self._close = self._volume = Decimal(0)
        self._value: Decimal | None = None

    def add(self, candle: Candle) -> Sequence[Candle]:
        """Add the next candle; returns the bars it completed (none, one, or two)."""
        start = candle.start
        last = start >= self._last_start  # the bar's last candle or later, or no bar open
        if last and (self._open is None or start >= self._end):
            return self._start_bar(candle)
        # Inside the open bar: most candles, so inline and without a list.
        if candle.high > self._high:
            self._high = candle.high
        if candle.low < self._low:
            self._low = candle.low
        self._close = candle.close
        self._volume += candle.volume
        if self._value is not None:
            self._value = None if candle.value is None else self._value + candle.value
        return [self._bar_so_far()] if last else ()

    def _start_bar(self, candle: Candle) -> list[Candle]:
        """Open a bar with ``candle``; returns the bar a hole ended before it, if any,
        and the new bar if it is complete (one candle long)."""
        done = [] if self._open is None else [self._bar_so_far()]
        start = candle.start
        self._open = candle
        end = self._end + self._bar  # the bar after the last; bar_start (dearer) if not
        if not self._end <= start < end:
            end = bar_start(start, self._bar) + self._bar
        self._end = end
        self._last_start = end - self._candle
        self._high, self._low, self._close = candle.high, candle.low, candle.close
        self._volume, self._value = candle.volume, candle.value
        if start >= self._last_start:
            done.append(self._bar_so_far())
        return done

    def _bar_so_far(self) -> Candle:
        first = self._open
        assert first is not None
        self._open = None
        self._last_start = _NO_BAR
        # Positional: a third faster than by keyword, once per bar.
        return Candle(self._end - self._bar, first.open, self._high, self._low, self._close,
                      self._volume, self._value)
