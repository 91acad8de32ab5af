"""The market data a replay's paper exchange sees: one price, and a book built around it.

The replay moves the price as it goes: to the next candle's open before a decision's
order is sent (fills happen at t+1's open), to the stop or target price for a
protective exit, and to a candle's whole range when resting limit orders are
re-checked. The book is built only when something asks for it, which most cycles
(holds) never do.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal

from ..domain import Candle, CandleInterval, Market, Orderbook, Ticker
from ..ports import Clock
from .book_model import BookModel

_BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"
_RECENT_BOOKS = 16


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
        self._recent: dict[tuple[Decimal, ...], Orderbook] = {}

    @property
    def price(self) -> Decimal:
        return self._price

    def quote_at(self, price: Decimal) -> None:
        """From now on the market trades around ``price``."""
        self._price, self._range, self._book = price, None, None

    def trade_through(self, low: Decimal, high: Decimal) -> None:
        """From now on the book spans a candle's range (see ``BookModel.range_book``)."""
        self._range, self._book = (low, high), None

    def book(self) -> Orderbook:
        if self._book is None:
            self._book = self._build(self._clock.now())
        return self._book

    def _build(self, now: datetime) -> Orderbook:
        """The book of the moment; a price seen lately reuses its levels.

        A minute's close is often the next minute's open, so the book a decision sees
        and the one its order fills against are frequently the same levels.
        """
        key = self._range or (self._price,)
        known = self._recent.get(key)
        if known is None:
            if len(self._recent) >= _RECENT_BOOKS:
                self._recent.clear()
            if self._range is not None:
                known = self._model.range_book(self._market, *self._range, now)
            else:
                known = self._model.book_around(self._market, self._price, now)
            self._recent[key] = known
        if known.timestamp == now:
            return known
        return Orderbook(market=self._market, timestamp=now, asks=known.asks, bids=known.bids)

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
        number, digits = next(counter), []
        for _ in range(6):
            number, digit = divmod(number, 36)
            digits.append(_BASE36[digit])
        return prefix + "".join(reversed(digits))

    return next_id
