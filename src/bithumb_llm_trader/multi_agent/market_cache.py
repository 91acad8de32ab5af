"""Market data read once per cycle and shared by every strategy of a portfolio.

Fifty strategies on KRW-BTC need one ticker, one orderbook and one candle series per
cycle, not fifty: every read goes through ``once``, which starts the request the first
time a key is asked for and hands the same in-flight result to everyone asking after.
``begin_cycle`` forgets everything, so no strategy ever decides on the previous cycle's
book. A failed read is not remembered: the next caller of the cycle asks again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Iterable, Sequence
from datetime import datetime
from typing import Any, TypeVar, cast

from ..domain import Candle, CandleInterval, Market, Orderbook, Ticker
from ..ports import MarketData

T = TypeVar("T")


class SharedMarketData:
    """A ``ports.MarketData`` that fetches each distinct request once per cycle.

    Args:
        source: where the data really comes from (the one shared ``BithumbClient``).

    ``want_candles`` tells it the largest candle count any strategy asks for per market
    and interval, so one request serves every strategy (each gets its own tail).
    """

    def __init__(self, source: MarketData) -> None:
        self._source = source
        self._memo: dict[Hashable, asyncio.Future[Any]] = {}
        self._candle_counts: dict[tuple[Market, CandleInterval], int] = {}
        self.fetches: dict[str, int] = {}
        """Requests really sent, by kind, since construction (for tests and benchmarks)."""

    def want_candles(self, market: Market, interval: CandleInterval, count: int) -> None:
        key = (market, interval)
        self._candle_counts[key] = max(count, self._candle_counts.get(key, 0))

    def begin_cycle(self) -> None:
        """Forget every answer: the next cycle reads the market afresh."""
        self._memo = {}

    async def once(self, key: Hashable, fetch: Callable[[], Awaitable[T]]) -> T:
        """The result of ``fetch()`` for ``key``, fetched at most once per cycle.

        Callers share one task; a caller that is cancelled does not cancel it for the
        others (``shield``).
        """
        future = self._memo.get(key)
        if future is None:
            kind = str(key[0]) if isinstance(key, tuple) and key else str(key)
            self.fetches[kind] = self.fetches.get(kind, 0) + 1
            future = asyncio.ensure_future(fetch())
            future.add_done_callback(lambda done: self._forget_failure(key, done))
            self._memo[key] = future
        return cast(T, await asyncio.shield(future))

    def prime_tickers(self, tickers: Iterable[Ticker]) -> None:
        """Remember tickers fetched together, so each ``ticker(market)`` is a hit."""
        loop = asyncio.get_running_loop()
        for ticker in tickers:
            future: asyncio.Future[Any] = loop.create_future()
            future.set_result(ticker)
            self._memo[("ticker", ticker.market)] = future

    def _forget_failure(self, key: Hashable, done: asyncio.Future[Any]) -> None:
        # done.exception() also marks a failure as retrieved when no caller is left
        failed = done.cancelled() or done.exception() is not None
        if failed and self._memo.get(key) is done:
            del self._memo[key]

    # -- ports.MarketData -----------------------------------------------------------
    async def markets(self) -> list[Market]:
        return await self.once(("markets",), self._source.markets)

    async def ticker(self, market: Market) -> Ticker:
        return await self.once(("ticker", market), lambda: self._source.ticker(market))

    async def tickers(self, markets: Sequence[Market]) -> list[Ticker]:
        wanted = tuple(markets)
        return await self.once(("tickers", wanted), lambda: self._source.tickers(wanted))

    async def orderbook(self, market: Market) -> Orderbook:
        return await self.once(("orderbook", market), lambda: self._source.orderbook(market))

    async def candles(
        self,
        market: Market,
        interval: CandleInterval,
        count: int,
        to: datetime | None = None,
    ) -> list[Candle]:
        """The latest ``count`` candles, cut from one shared request of the largest count."""
        if to is not None:  # a backfill, not the cycle's shared series
            key: Hashable = ("candles", market, interval, count, to)
            return await self.once(key, lambda: self._source.candles(market, interval, count, to))
        fetched = max(count, self._candle_counts.get((market, interval), 0))
        series = await self.once(
            ("candles", market, interval, fetched),
            lambda: self._source.candles(market, interval, fetched),
        )
        return list(series[-count:])
