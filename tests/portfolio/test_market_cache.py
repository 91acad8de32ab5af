"""The per-cycle shared market data: one request per distinct read, for everyone."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from bithumb_llm_trader.domain import Candle, CandleInterval, Market, Orderbook, Ticker
from bithumb_llm_trader.errors import NetworkError
from bithumb_llm_trader.multi_agent import SharedMarketData

pytestmark = pytest.mark.anyio

D = Decimal
BTC = Market("KRW", "BTC")
ETH = Market("KRW", "ETH")
T0 = datetime(2026, 3, 2, tzinfo=timezone.utc)


class CountingSource:
    """Market data that counts calls, answers after a yield, and can fail once."""

    def __init__(self) -> None:
        self.calls: list[tuple[object, ...]] = []
        self.fail_next = False

    async def _answer(self, *call: object) -> None:
        self.calls.append(call)
        await asyncio.sleep(0)
        if self.fail_next:
            self.fail_next = False
            raise NetworkError("down")

    async def markets(self) -> list[Market]:
        await self._answer("markets")
        return [BTC, ETH]

    async def ticker(self, market: Market) -> Ticker:
        await self._answer("ticker", market)
        return Ticker(market=market, last_price=D(100), timestamp=T0)

    async def tickers(self, markets: Sequence[Market]) -> list[Ticker]:
        await self._answer("tickers", tuple(markets))
        return [Ticker(market=m, last_price=D(100), timestamp=T0) for m in markets]

    async def orderbook(self, market: Market) -> Orderbook:
        await self._answer("orderbook", market)
        return Orderbook(market=market, timestamp=T0, asks=(), bids=())

    async def candles(self, market: Market, interval: CandleInterval, count: int,
                      to: datetime | None = None) -> list[Candle]:
        await self._answer("candles", market, interval, count)
        return [Candle(start=T0 + timedelta(minutes=15 * i), open=D(i), high=D(i), low=D(i),
                       close=D(i), volume=D(1)) for i in range(count)]


async def test_concurrent_readers_share_one_request() -> None:
    source = CountingSource()
    data = SharedMarketData(source)
    books = await asyncio.gather(*(data.orderbook(BTC) for _ in range(20)), data.orderbook(ETH))
    assert len(books) == 21
    assert source.calls == [("orderbook", BTC), ("orderbook", ETH)]
    assert data.fetches == {"orderbook": 2}


async def test_one_candle_request_serves_every_count() -> None:
    source = CountingSource()
    data = SharedMarketData(source)
    data.want_candles(BTC, CandleInterval.M15, 60)
    data.want_candles(BTC, CandleInterval.M15, 200)
    short, long = await asyncio.gather(data.candles(BTC, CandleInterval.M15, 60),
                                       data.candles(BTC, CandleInterval.M15, 200))
    assert source.calls == [("candles", BTC, CandleInterval.M15, 200)]
    assert len(short) == 60 and len(long) == 200 and short == long[-60:]


async def test_a_new_cycle_reads_again() -> None:
    source = CountingSource()
    data = SharedMarketData(source)
    await data.ticker(BTC)
    await data.ticker(BTC)
    data.begin_cycle()
    await data.ticker(BTC)
    assert source.calls == [("ticker", BTC), ("ticker", BTC)]


async def test_a_failure_is_shared_but_not_remembered() -> None:
    source = CountingSource()
    data = SharedMarketData(source)
    source.fail_next = True
    results = await asyncio.gather(data.markets(), data.markets(), return_exceptions=True)
    assert all(isinstance(r, NetworkError) for r in results)
    assert await data.markets() == [BTC, ETH]  # asked again, not the cached failure
    assert len(source.calls) == 2


async def test_primed_tickers_are_hits() -> None:
    source = CountingSource()
    data = SharedMarketData(source)
    data.prime_tickers(await data.tickers([BTC, ETH]))
    await asyncio.gather(data.ticker(BTC), data.ticker(ETH))
    assert source.calls == [("tickers", (BTC, ETH))]


async def test_a_cancelled_reader_does_not_cancel_the_others() -> None:
    source = CountingSource()
    data = SharedMarketData(source)
    first = asyncio.ensure_future(data.orderbook(BTC))
    second = asyncio.ensure_future(data.orderbook(BTC))
    await asyncio.sleep(0)
    first.cancel()
    book = await second
    assert book.market == BTC and len(source.calls) == 1
