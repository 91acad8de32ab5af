"""The market data a replay's paper exchange sees: one price, and a book built around it.

The replay moves the price as it goes: to the next candle's open before a decision's
order is sent (fills happen at t+1's open), to the stop or target price for a
protective exit, and to a candle's whole range when resting limit orders are
re-checked. The book is built only when something asks for it, and its levels only
when something reads them (``LazyBook``); books and their summaries are kept for the
prices seen most recently, since prices come back.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from ..domain import Candle, CandleInterval, Market, Orderbook, Ticker
from ..market import BookSummary, summarize_book
from ..ports import Clock
from .book_model import AsksAndBids, BookModel, BookSides, LazyBook

_BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"
RECENT_BOOKS = 256
"""Books kept for prices seen lately: a minute's close is often a recent minute's close
again (63% of September 2025's decisions); each is about 1.6 KB, 5 KB once its levels
are read."""


@dataclass(slots=True)
class _Known:
    """What the book around one price (or a candle's range) is made of."""

    sides: BookSides | None  # what a book around one price is built from; None: a range
    levels: AsksAndBids | None = None
    summary: BookSummary | None = None

    def book_levels(self) -> AsksAndBids:
        if self.levels is None:
            assert self.sides is not None
            self.levels = self.sides.asks.levels(), self.sides.bids.levels()
        return self.levels


class ReplayMarket:
    """``ports.MarketData`` for one market at the replay's current moment."""

    def __init__(self, market: Market, model: BookModel, clock: Clock,
                 bars: Sequence[Candle] = ()) -> None:
        self._market = market
        self._model = model
        self._clock = clock
        self._bars = bars
        self._price = Decimal(0)
        self._range: tuple[Decimal, Decimal] | None = None
        self._book: Orderbook | None = None
        self._known: _Known | None = None
        self._recent: OrderedDict[tuple[Decimal, ...], _Known] = OrderedDict()

    @property
    def price(self) -> Decimal:
        return self._price

    def quote_at(self, price: Decimal) -> None:
        """From now on the market trades around ``price``."""
        self._price, self._range, self._book, self._known = price, None, None, None

    def trade_through(self, low: Decimal, high: Decimal) -> None:
        """From now on the book spans a candle's range (see ``BookModel.range_book``)."""
        self._range, self._book, self._known = (low, high), None, None

    def book(self) -> Orderbook:
        if self._book is None:
            self._book = LazyBook(self._market, self._clock.now(), self._find().book_levels)
        return self._book

    def summary(self, levels: int, depth_bps: Decimal) -> BookSummary:
        """``summarize_book`` of the current book, computed once per book kept (from the
        model's numbers when the book is one around a price)."""
        known = self._find()
        if known.summary is None or (known.summary.levels, known.summary.depth_bps) != (
                levels, depth_bps):
            known.summary = summarize_book(self.book(), levels, depth_bps) if (
                known.sides is None) else known.sides.summary(self._market, levels, depth_bps)
        return known.summary

    def _find(self) -> _Known:
        """What the book of the moment is made of; a price seen lately reuses it.

        A minute's close is often the next minute's open, so the book a decision sees
        and the one its order fills against are frequently the same levels.
        """
        if self._known is not None:
            return self._known
        key = self._range or (self._price,)
        known = self._recent.get(key)
        if known is None:
            if self._range is not None:
                book = self._model.range_book(self._market, *self._range, self._clock.now())
                known = _Known(None, (book.asks, book.bids))
            else:
                known = _Known(self._model.sides_around(self._market, self._price))
            self._recent[key] = known
            if len(self._recent) > RECENT_BOOKS:
                self._recent.popitem(last=False)
        else:
            self._recent.move_to_end(key)
        self._known = known
        return known

    async def markets(self) -> list[Market]:
        return [self._market]

    async def ticker(self, market: Market) -> Ticker:
        self._check(market)
        return Ticker(market=market, last_price=self._price, timestamp=self._clock.now())

    async def tickers(self, markets: Sequence[Market]) -> list[Ticker]:
        return [await self.ticker(market) for market in markets if market == self._market]

    async def orderbook(self, market: Market) -> Orderbook:
        self._check(market)
        return self.book()

    async def candles(
        self, market: Market, interval: CandleInterval, count: int, to: datetime | None = None
    ) -> list[Candle]:
        """The strategy's completed candles kept by the replay (no more than it keeps)."""
        self._check(market)
        kept = [bar for bar in self._bars if to is None or bar.start < to]
        return kept[-count:]

    def _check(self, market: Market) -> None:
        if market != self._market:
            raise ValueError(f"this replay has data for {self._market} only, not {market}")


def counter_ids(prefix: str) -> Callable[[], str]:
    """Ids ``prefix`` + a six-character base-36 counter: unique, sortable, and short.

    The engine names an order ``bt-`` + the first 16 characters of its run id, so the
    counter must sit within them: a 10-character prefix leaves room for 2 billion ids.
    """
    counter = itertools.count(1)

    def next_id() -> str:
        high, low = divmod(next(counter), _PAIRS)
        middle, low = divmod(low, _PAIR)
        return prefix + _DIGIT_PAIRS[high] + _DIGIT_PAIRS[middle] + _DIGIT_PAIRS[low]

    return next_id


_PAIR = 36 * 36
_PAIRS = _PAIR * _PAIR
_DIGIT_PAIRS = [a + b for a in _BASE36 for b in _BASE36]
"""Every two-digit base-36 string, in order: three lookups make a six-digit id."""
