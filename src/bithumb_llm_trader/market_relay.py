"""Market data passed straight through to a source, for exchanges that only simulate
the account: the paper exchange and a portfolio strategy's ledger exchange."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from .domain import Candle, CandleInterval, Market, Orderbook, Ticker
from .ports import MarketData


class MarketDataRelay:
    """The ``ports.MarketData`` half of an exchange, answered by ``source``."""

    def __init__(self, source: MarketData) -> None:
        self._source = source

    async def markets(self) -> list[Market]:
        return await self._source.markets()

    async def ticker(self, market: Market) -> Ticker:
        return await self._source.ticker(market)

    async def tickers(self, markets: Sequence[Market]) -> list[Ticker]:
        return await self._source.tickers(markets)

    async def orderbook(self, market: Market) -> Orderbook:
        return await self._source.orderbook(market)

    async def candles(
        self, market: Market, interval: CandleInterval, count: int, to: datetime | None = None
    ) -> list[Candle]:
        return await self._source.candles(market, interval, count, to)
