"""One ``MarketSnapshot``: everything a decision is based on, taken at one instant.

``collect_snapshot`` does the I/O (one concurrent round, and a second only to price
other coins the account holds); ``snapshot_from_parts`` is the pure part, so a backtest
or a portfolio manager that already has the data builds snapshots the same way.
"""

from __future__ import annotations

import asyncio
import operator
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from ..config.models import StrategyConfig
from ..domain import Balance, Candle, Market, Orderbook, OrderChance, Ticker
from ..ports import Account, Clock, MarketData
from .book import summarize_book
from .equity import KRW, build_account_view
from .features import FeatureParams, compute_features
from .live_features import LiveFeatures
from .model import BookSummary, CandleFeatures, MarketSnapshot
from .sanity import check_market_data


class SnapshotSource(MarketData, Account, Protocol):
    """What a snapshot is read from: public market data and the account."""


async def collect_snapshot(
    exchange: SnapshotSource, config: StrategyConfig, clock: Clock,
    features: LiveFeatures | None = None,
) -> MarketSnapshot:
    """Read the market and the account concurrently and build the snapshot.

    ``taken_at`` is read before any I/O, and candles starting after it are dropped, so
    a candle that opened while the requests were in flight cannot leak into features
    that claim to describe ``taken_at``. If one request fails, the others are cancelled
    and the error propagates unchanged.

    Every answer is checked by ``sanity.check_market_data`` before anything is computed
    from it, so no decision is ever based on a price that cannot be true.

    With ``features`` (one per engine, kept between its cycles) only the candles that
    closed since the last cycle are pushed; without, they are computed from the fetch.

    Raises:
        MarketDataRejected: the data failed a sanity check (its ``reason`` says which).
    """
    taken_at = clock.now()
    market, section = config.market, config.strategy
    first = await _first_round(exchange, config)
    others = _other_priceable_coins(first.balances, market, first.markets)
    other_tickers = await exchange.tickers([Market(KRW, coin) for coin in others]) if others else []
    prices_krw = _krw_prices(other_tickers)
    check_market_data(
        taken_at=taken_at, ticker=first.ticker, orderbook=first.orderbook,
        candles=first.candles, balances=first.balances, interval=section.candle_interval,
        max_ticker_deviation=section.max_ticker_deviation_pct, prices_krw=prices_krw,
    )
    kept = candles_until(first.candles, taken_at)
    return snapshot_from_parts(
        config,
        taken_at=taken_at,
        ticker=first.ticker,
        orderbook=first.orderbook,
        candles=kept,
        candles_in_order=True,
        balances=first.balances,
        order_chance=first.order_chance,
        prices_krw=prices_krw,
        features=None if features is None else features.features(kept),
    )


@dataclass(frozen=True, slots=True)
class _FirstRound:
    ticker: Ticker
    orderbook: Orderbook
    candles: list[Candle]
    balances: list[Balance]
    order_chance: OrderChance
    markets: list[Market]


async def _first_round(exchange: SnapshotSource, config: StrategyConfig) -> _FirstRound:
    """The six independent reads, in one ``asyncio.gather``.

    ``gather`` does not cancel its other children when one fails, so that is done here:
    a failed cycle must not leave requests running behind it.
    """
    market, section = config.market, config.strategy
    ticker = asyncio.ensure_future(exchange.ticker(market))
    orderbook = asyncio.ensure_future(exchange.orderbook(market))
    candles = asyncio.ensure_future(
        exchange.candles(market, section.candle_interval, section.candle_count)
    )
    balances = asyncio.ensure_future(exchange.accounts())
    chance = asyncio.ensure_future(exchange.order_chance(market))
    markets = asyncio.ensure_future(exchange.markets())
    try:
        results = await asyncio.gather(ticker, orderbook, candles, balances, chance, markets)
    except BaseException:
        await _cancel_all((ticker, orderbook, candles, balances, chance, markets))
        raise
    return _FirstRound(*results)


def snapshot_from_parts(
    config: StrategyConfig,
    *,
    taken_at: datetime,
    ticker: Ticker,
    orderbook: Orderbook,
    candles: Iterable[Candle],
    balances: Iterable[Balance],
    order_chance: OrderChance,
    candles_in_order: bool = False,
    prices_krw: Mapping[str, Decimal] | None = None,
    features: CandleFeatures | None = None,
    book: BookSummary | None = None,
) -> MarketSnapshot:
    """Build a snapshot from data already fetched; no I/O, no clock.

    Args:
        config: the strategy (market, feature windows, book and pool settings).
        taken_at: the instant the snapshot describes (timezone-aware).
        ticker, orderbook, order_chance: of ``config.market``.
        candles: any order; those starting after ``taken_at`` are dropped, the rest
            sorted oldest first (a repeated start keeps the last one given).
        candles_in_order: ``candles`` is already what ``candles_until`` returns (the
            caller ran it, or built the candles in order itself, as a replay does);
            they are kept as given, without checking all of them again every cycle.
        balances: the account's balances.
        prices_krw: KRW prices of other held coins; the traded coin is always priced
            at ``ticker.last_price``.
        features: features a caller keeps up to date incrementally (a backtest, a
            long-running engine); when None they are computed from the kept candles.
        book: the summary of ``orderbook`` when the caller already has it (a backtest
            that reuses books); when None it is computed.

    Raises:
        ValueError: ``taken_at`` is naive, or a part belongs to another market.
        market.book.InvalidOrderbook: the orderbook is empty or crossed.
    """
    market, section = config.market, config.strategy
    _check_parts(market, taken_at, ticker, orderbook, order_chance)
    kept = tuple(candles) if candles_in_order else candles_until(candles, taken_at)
    if features is None:
        features = compute_features(kept, FeatureParams.from_config(section))
    prices = {**(prices_krw or {}), market.base: ticker.last_price}
    return MarketSnapshot(
        market=market,
        taken_at=taken_at,
        ticker=ticker,
        orderbook=orderbook,
        candles=kept,
        features=features,
        book=book or summarize_book(orderbook, section.book_levels, section.depth_bps),
        account=build_account_view(
            balances, prices, market, config.allocation.reserved_pool_pct
        ),
        order_chance=order_chance,
    )


def candles_until(candles: Iterable[Candle], taken_at: datetime) -> tuple[Candle, ...]:
    """Candles that started at or before ``taken_at``, oldest first, one per start."""
    given = tuple(candles)
    starts = [candle.start for candle in given]
    if not starts or (starts[-1] <= taken_at and all(map(operator.lt, starts, starts[1:]))):
        return given  # already in order and in the past: the common case, kept cheap
    by_start = {candle.start: candle for candle in given if candle.start <= taken_at}
    return tuple(by_start[start] for start in sorted(by_start))


def _check_parts(
    market: Market, taken_at: datetime, ticker: Ticker, orderbook: Orderbook,
    order_chance: OrderChance,
) -> None:
    if taken_at.tzinfo is None or taken_at.utcoffset() is None:
        raise ValueError(f"taken_at must be timezone-aware, got {taken_at!r}")
    parts = {"ticker": ticker.market, "orderbook": orderbook.market,
             "order_chance": order_chance.market}
    for name, part_market in parts.items():
        if part_market != market:
            raise ValueError(f"{name} is for {part_market}, the strategy trades {market}")


def _other_priceable_coins(
    balances: Sequence[Balance], market: Market, markets: Sequence[Market]
) -> list[str]:
    """Held coins other than KRW and the traded one that have a KRW market, sorted."""
    krw_listed = {listed.base for listed in markets if listed.quote == KRW}
    held = {b.currency for b in balances if b.total != 0} - {KRW, market.base}
    return sorted(held & krw_listed)


def _krw_prices(tickers: Iterable[Ticker]) -> dict[str, Decimal]:
    return {t.market.base: t.last_price for t in tickers if t.market.quote == KRW}


async def _cancel_all(tasks: Sequence[asyncio.Future[Any]]) -> None:
    """Cancel ``tasks``, wait for them to stop, and consume their errors.

    Consuming the errors keeps asyncio from logging "exception was never retrieved"
    for a second failure that the first one already made irrelevant.
    """
    for task in tasks:
        task.cancel()
    await asyncio.wait(tasks)
    for task in tasks:
        if not task.cancelled():
            task.exception()
